import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { MemoryReporter } from '../report/reporter';
import { makeJwt } from '../../test/support/jwt';
import { toOidcToken } from './jwt';
import { TokenFileKeeper } from './token-file-keeper';
import type { OidcToken, TokenSource } from './types';

class ShortLivedTokens implements TokenSource {
  readonly name = 'github' as const;
  count = 0;
  failNext = false;
  readonly reporter = new MemoryReporter();
  describe(): string {
    return 'short-lived';
  }
  async getToken(): Promise<OidcToken> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('temporary failure');
    }
    this.count++;
    return toOidcToken(
      makeJwt({ n: this.count, exp: Math.floor(Date.now() / 1000) + 1 }),
      'github',
      this.reporter,
      'test',
    );
  }
}

describe('TokenFileKeeper', () => {
  it('writes a private file, refreshes it before the token expires, and cleans up', async () => {
    const source = new ShortLivedTokens();
    const reporter = new MemoryReporter();
    const keeper = await TokenFileKeeper.start(source, {
      reporter,
      minimumRefreshMs: 50,
      retryAfterFailureMs: 20,
    });
    assert.equal((await stat(keeper.path)).mode & 0o777, 0o600);
    assert.equal((await stat(keeper.directory)).mode & 0o777, 0o700);
    const first = await readFile(keeper.path, 'utf8');
    assert.deepEqual(keeper.childEnvironment('arn:aws:iam::123456789012:role/r', 'sess'), {
      AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/r',
      AWS_WEB_IDENTITY_TOKEN_FILE: keeper.path,
      AWS_ROLE_SESSION_NAME: 'sess',
    });
    source.failNext = true;
    await delay(1_500);
    const later = await readFile(keeper.path, 'utf8');
    assert.notEqual(later, first, 'the file holds a newer token');
    assert.ok(keeper.writeCount >= 2);
    assert.match(reporter.text(), /Could not refresh the web identity token file: temporary failure/);
    await keeper.stop();
    await assert.rejects(stat(keeper.directory), /ENOENT/);
  });

  it('fails to start (and leaves nothing behind) when the first token cannot be fetched', async () => {
    const source = new ShortLivedTokens();
    source.failNext = true;
    await assert.rejects(
      TokenFileKeeper.start(source, { reporter: new MemoryReporter() }),
      /temporary failure/,
    );
  });

  it('writes an exact path when given one, and stop() removes only that file (or keeps it for a hand-over)', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'keyless-keeper-path-'));
    try {
      const path = join(directory, 'agent-token.jwt');
      const source = new ShortLivedTokens();
      const keeper = await TokenFileKeeper.start(source, { reporter: new MemoryReporter(), path });
      assert.equal(keeper.path, path);
      assert.equal((await stat(path)).mode & 0o777, 0o600);
      assert.match(await readFile(path, 'utf8'), /^[\w-]+\.[\w-]+\.[\w-]*$/);
      await keeper.stop({ keepFile: true });
      const kept = await readFile(path, 'utf8');
      await delay(1_200);
      assert.equal(await readFile(path, 'utf8'), kept, 'a stopped keeper no longer rewrites the file');

      const second = await TokenFileKeeper.start(source, { reporter: new MemoryReporter(), path });
      assert.notEqual(await readFile(path, 'utf8'), kept, 'the next keeper takes over with a fresh token');
      await second.stop();
      assert.deepEqual(await readdir(directory), [], 'only the file is removed, not its directory');
      assert.ok((await stat(directory)).isDirectory());
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
