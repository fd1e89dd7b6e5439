import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSandboxConfig } from './config-loader';

async function withFile(name: string, text: string, fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'keyless-config-'));
  try {
    const path = join(dir, name);
    await writeFile(path, text);
    await fn(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('YAML and JSON configs load', async () => {
  await withFile(
    'sandbox.yml',
    'account:\n  id: "123456789012"\nissuers:\n  - id: entra\n    issuer: https://sts.windows.net/t/\n',
    async (path) => {
      const config = await loadSandboxConfig(path);
      assert.equal(config.issuers?.[0]?.issuer, 'https://sts.windows.net/t/');
    },
  );
  await withFile(
    'sandbox.json',
    JSON.stringify({ iam: { roles: [{ name: 'r', assumeRolePolicyDocument: { Statement: [] } }] } }),
    async (path) => {
      assert.equal((await loadSandboxConfig(path)).iam?.roles?.[0]?.name, 'r');
    },
  );
});

test('errors name the file and the bad key', async () => {
  await withFile('bad.yml', 'issuers:\n  - id: entra\n    isuer: https://x/\nazure: []\n', async (path) => {
    await assert.rejects(loadSandboxConfig(path), (error: Error) => {
      assert.ok(error.message.includes(path));
      assert.match(error.message, /issuers\[0\]\.issuer: required key is missing/);
      assert.match(error.message, /issuers\[0\]\.isuer: unknown key/);
      assert.match(error.message, /azure: expected a mapping, got a list/);
      return true;
    });
  });
  await withFile('broken.json', '{"account": ', async (path) => {
    await assert.rejects(
      loadSandboxConfig(path),
      new RegExp(`Cannot parse sandbox config ${path.replace(/[.\\/]/g, '\\$&')}`),
    );
  });
  await assert.rejects(
    loadSandboxConfig('/nonexistent/sandbox.yml'),
    /Cannot read sandbox config \/nonexistent\/sandbox\.yml/,
  );
});
