import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MemoryReporter } from '../../report/reporter';
import { makeJwt } from '../../../test/support/jwt';
import { TokenSourceError } from '../errors';
import { TokenFileSource } from './token-file';

describe('TokenFileSource', () => {
  let dir = '';
  const jwt = makeJwt({ sub: 'file' });
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keyless-tf-'));
    await writeFile(join(dir, 'token'), `${jwt}\n`);
    await symlink(join(dir, 'token'), join(dir, 'link'));
    await mkdir(join(dir, 'folder'));
    await writeFile(join(dir, 'empty'), '  \n');
    await writeFile(join(dir, 'huge'), 'a'.repeat(20_001));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const source = (path: string) =>
    new TokenFileSource(path, { env: {}, reporter: new MemoryReporter(), cwd: dir });
  const rejectsWith = (path: string, pattern: RegExp) =>
    assert.rejects(source(path).getToken(), (error: unknown) => {
      assert.ok(error instanceof TokenSourceError);
      assert.equal(error.source, 'token-file');
      assert.match(error.message, pattern);
      return true;
    });

  it('reads and trims the token, resolving relative paths against cwd', async () => {
    const token = await source('token').getToken();
    assert.equal(token.jwt, jwt);
    assert.equal(token.claims.sub, 'file');
  });
  it('refuses a symlink', () => rejectsWith('link', /symbolic link; it is refused/));
  it('refuses a directory', () => rejectsWith('folder', /is a directory/));
  it('explains a missing file', () => rejectsWith('missing', /does not exist/));
  it('explains an empty file', () => rejectsWith('empty', /is empty/));
  it('refuses an oversized file', () => rejectsWith('huge', /more than 20000 characters/));
});
