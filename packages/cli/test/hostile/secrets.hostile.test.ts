// Hostile conditions, secrets: after every other hostile file has run (scripts/test-hostile.mjs runs this one
// last), every text the suite produced — pipeline logs, run records, step summaries, printed lines, the
// sandboxes' own logs, the bad-input catalogue's outputs — is scanned for every secret the suite created or saw
// minted (session keys and tokens, OIDC JWTs, access tokens, root keys), raw, base64, base64url, URL-encoded and
// JSON-escaped. In npm test (no KEYLESS_HOSTILE_ARTIFACTS) each hostile file scans its own outputs instead.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { artifactsDirectory, readPersisted, scanForSecrets } from './collector';

/** The hostile files that must have handed in their outputs (the bad-input catalogue's are optional). */
const expectedFiles = ['credentials', 'faults', 'interruption', 'security'];

describe('hostile: no secret of the whole suite in any output of the whole suite', () => {
  test('control: the scanner finds a secret in each form it leaks in', () => {
    // Quote, backslash and URL-reserved characters: each form differs from the raw one.
    const secret = `${randomBytes(18).toString('base64')}"\\/+=`;
    const forms = {
      raw: `key=${secret}`,
      base64: Buffer.from(secret).toString('base64'),
      base64url: Buffer.from(secret).toString('base64url'),
      url: `token=${encodeURIComponent(secret)}`,
      json: JSON.stringify({ value: secret }),
    };
    for (const [form, text] of Object.entries(forms)) {
      assert.equal(scanForSecrets([{ label: form, text }], [secret]).length, 1, form);
    }
    assert.deepEqual(scanForSecrets([{ label: 'clean', text: 'nothing here' }], [secret]), []);
  });

  // The whole-suite scan needs every other file's outputs, which only `npm run test:hostile` gathers
  // (KEYLESS_HOSTILE_ARTIFACTS, this file last); in npm test each hostile file scans its own outputs instead.
  if (artifactsDirectory)
    test('zero hits in every log, run record, summary and printed line of the suite', async (t) => {
      const directory = artifactsDirectory!;
      const { texts, secrets, files } = await readPersisted(directory);
      for (const name of expectedFiles)
        assert.ok(files.includes(`${name}.texts.json`), `${name}.hostile.test.ts handed in its outputs`);
      assert.ok(secrets.size >= 50, `the suite's secrets were collected (${secrets.size})`);
      assert.ok(texts.length >= 20, `the suite's outputs were collected (${texts.length})`);
      const bytes = texts.reduce((sum, entry) => sum + Buffer.byteLength(entry.text), 0);
      const hits = scanForSecrets(texts, secrets);
      await writeFile(
        join(directory, 'secrets-scan.json'),
        JSON.stringify({ secrets: secrets.size, texts: texts.length, bytes, hits: hits.length }),
      );
      t.diagnostic(`${secrets.size} secrets × ${texts.length} texts (${(bytes / 1e6).toFixed(1)} MB)`);
      assert.deepEqual(hits, []);
    });
});
