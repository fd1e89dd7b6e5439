import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from '../errors';
import { toOidcToken } from '../credentials/jwt';
import type { OidcToken, ResolvedCredentials, TokenSource } from '../credentials/types';
import { MemoryReporter } from '../report/reporter';
import { makeJwt } from '../../test/support/jwt';
import { ChildProcessCancelledError, ExecutableNotFoundError } from './errors';
import { LineSplitter, runWithCredentials, type OutputStream } from './run-with-credentials';

const keys = {
  accessKeyId: 'ASIAFAKEKEYFORCHILD1',
  secretAccessKey: 'child-secret-access-key-0123456789',
  sessionToken: 'child-session-token-abcdefghijklmnop',
  expiration: new Date('2030-01-01T00:00:00Z'),
};

function staticCredentials(withToken = true): ResolvedCredentials {
  return {
    mode: 'access-keys',
    region: 'eu-west-1',
    provider: async () =>
      withToken ? keys : { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey },
    describe: () => 'test keys',
    endpoints: { default: 'http://127.0.0.1:9', s3: 'http://127.0.0.1:10' },
  };
}

class FakeTokens implements TokenSource {
  readonly name = 'github' as const;
  constructor(private readonly reporter: MemoryReporter) {}
  describe(): string {
    return 'fake';
  }
  async getToken(): Promise<OidcToken> {
    return toOidcToken(
      makeJwt({ exp: Math.floor(Date.now() / 1000) + 600 }),
      'github',
      this.reporter,
      'test',
    );
  }
}

function oidcCredentials(reporter: MemoryReporter): ResolvedCredentials {
  return {
    ...staticCredentials(),
    mode: 'github',
    tokenSource: new FakeTokens(reporter),
    roleArn: 'arn:aws:iam::123456789012:role/deploy',
    sessionName: 'keyless-test',
  };
}

const probe = `
  const fs = require('node:fs');
  const file = process.env.AWS_WEB_IDENTITY_TOKEN_FILE;
  console.log(JSON.stringify({
    keys: [process.env.AWS_ACCESS_KEY_ID ?? null, process.env.AWS_SECRET_ACCESS_KEY ?? null, process.env.AWS_SESSION_TOKEN ?? null],
    expiration: process.env.AWS_CREDENTIAL_EXPIRATION ?? null,
    profile: process.env.AWS_PROFILE ?? null, systemAccessToken: process.env.SYSTEM_ACCESSTOKEN ?? null,
    region: process.env.AWS_REGION, defaultRegion: process.env.AWS_DEFAULT_REGION,
    endpoint: process.env.AWS_ENDPOINT_URL, s3: process.env.AWS_ENDPOINT_URL_S3, sts: process.env.AWS_ENDPOINT_URL_STS,
    roleArn: process.env.AWS_ROLE_ARN ?? null, session: process.env.AWS_ROLE_SESSION_NAME ?? null,
    file: file ?? null, mode: file ? (fs.statSync(file).mode & 0o777).toString(8) : null,
    token: file ? fs.readFileSync(file, 'utf8').length : 0, cwd: process.cwd(),
  }));`;

async function runProbe(
  credentials: ResolvedCredentials,
  reporter: MemoryReporter,
  extra: { useTokenFile?: boolean } = {},
) {
  const lines: string[] = [];
  const env = {
    PATH: process.env.PATH,
    AWS_PROFILE: 'stale-profile',
    AWS_SESSION_TOKEN: 'stale-token-from-the-parent',
    AWS_ACCESS_KEY_ID: 'AKIASTALEPARENTKEY01',
    SYSTEM_ACCESSTOKEN: 'parent-system-access-token',
  };
  const result = await runWithCredentials({
    command: process.execPath,
    args: ['-e', probe],
    credentials,
    env,
    reporter,
    onLine: (line) => lines.push(line),
    ...extra,
  });
  assert.equal(result.exitCode, 0, result.stderrTail.join('\n'));
  return { result, seen: JSON.parse(lines.join('')) as Record<string, unknown>, env };
}

test('static keys: set in the child only, stale session token and competing variables removed', async () => {
  const reporter = new MemoryReporter();
  const before = { ...process.env };
  const { result, seen, env } = await runProbe(staticCredentials(false), reporter);
  assert.equal(result.credentialSource, 'static-keys');
  // No session token from the provider: the parent's stale one must not survive.
  assert.deepEqual(seen.keys, [keys.accessKeyId, keys.secretAccessKey, null]);
  assert.equal(seen.profile, null);
  assert.equal(seen.systemAccessToken, null);
  assert.equal(seen.region, 'eu-west-1');
  assert.equal(seen.defaultRegion, 'eu-west-1');
  assert.equal(seen.endpoint, 'http://127.0.0.1:9');
  assert.equal(seen.s3, 'http://127.0.0.1:10');
  assert.equal(seen.sts, 'http://127.0.0.1:9');
  assert.equal(env.AWS_PROFILE, 'stale-profile', 'the given environment is not modified');
  assert.deepEqual({ ...process.env }, before, 'our own environment is never modified');
  assert.ok(reporter.secrets.has(keys.secretAccessKey));
});

test('static keys with a session token also carry their expiration', async () => {
  const { seen } = await runProbe(staticCredentials(true), new MemoryReporter());
  assert.deepEqual(seen.keys, [keys.accessKeyId, keys.secretAccessKey, keys.sessionToken]);
  assert.equal(seen.expiration, keys.expiration.toISOString());
});

test('OIDC credentials: a private refreshing token file and the role, no keys; removed afterwards', async () => {
  const reporter = new MemoryReporter();
  const { result, seen } = await runProbe(oidcCredentials(reporter), reporter);
  assert.equal(result.credentialSource, 'web-identity-token-file');
  assert.deepEqual(seen.keys, [null, null, null]);
  assert.equal(seen.roleArn, 'arn:aws:iam::123456789012:role/deploy');
  assert.equal(seen.session, 'keyless-test');
  assert.equal(seen.mode, '600');
  assert.ok((seen.token as number) > 100);
  assert.equal(existsSync(seen.file as string), false);

  const asKeys = await runProbe(oidcCredentials(reporter), reporter, { useTokenFile: false });
  assert.equal(asKeys.result.credentialSource, 'static-keys');
  assert.equal(asKeys.seen.file, null);
  assert.deepEqual(asKeys.seen.keys, [keys.accessKeyId, keys.secretAccessKey, keys.sessionToken]);
});

test('output arrives line by line per stream; a failing exit quotes the end of stderr', async () => {
  const lines: Array<[OutputStream, string]> = [];
  const result = await runWithCredentials({
    command: 'sh',
    args: ['-c', 'printf "one\\r\\ntwo\\n"; echo oops >&2; echo again >&2; printf "no newline"; exit 3'],
    credentials: staticCredentials(),
    env: { PATH: process.env.PATH },
    reporter: new MemoryReporter(),
    label: 'The script',
    onLine: (line, stream) => lines.push([stream, line]),
  });
  assert.deepEqual(
    lines.filter(([stream]) => stream === 'stdout').map(([, line]) => line),
    ['one', 'two', 'no newline'],
  );
  assert.deepEqual(result.stderrTail, ['oops', 'again']);
  assert.equal(result.exitCode, 3);
  assert.match(
    result.failure?.message ?? '',
    /^The script exited with code 3\.\nLast lines of its standard error:\n {2}oops\n {2}again$/,
  );
  assert.equal(result.failure?.childExitCode, 3);
});

test('failOnStandardError fails a run that exits 0 but wrote to stderr', async () => {
  const options = {
    command: 'sh',
    args: ['-c', 'echo warning >&2'],
    credentials: staticCredentials(),
    env: { PATH: process.env.PATH },
    reporter: new MemoryReporter(),
  };
  assert.equal((await runWithCredentials(options)).failure, undefined);
  const strict = await runWithCredentials({ ...options, failOnStandardError: true });
  assert.equal(strict.exitCode, 0);
  assert.match(
    strict.failure?.message ?? '',
    /wrote 1 line\(s\) to standard error, and failOnStandardError is true/,
  );
});

test('the working directory is used and must exist; a missing program is a clear error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'keyless-run-'));
  try {
    const lines: string[] = [];
    await runWithCredentials({
      command: 'pwd',
      cwd: dir,
      credentials: staticCredentials(),
      env: { PATH: process.env.PATH },
      reporter: new MemoryReporter(),
      onLine: (line) => lines.push(line),
    });
    assert.equal(lines[0], dir);
    await assert.rejects(
      runWithCredentials({
        command: 'pwd',
        cwd: join(dir, 'missing'),
        credentials: staticCredentials(),
        env: {},
        reporter: new MemoryReporter(),
      }),
      (error: unknown) =>
        error instanceof InvalidInputError &&
        /working directory .*missing does not exist/.test(error.message),
    );
    await assert.rejects(
      runWithCredentials({
        command: 'no-such-program-keyless',
        credentials: staticCredentials(),
        env: { PATH: dir },
        reporter: new MemoryReporter(),
      }),
      (error: unknown) =>
        error instanceof ExecutableNotFoundError && /not installed or not on PATH/.test(error.message),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('aborting stops the child and what it started (its process group)', async () => {
  const controller = new AbortController();
  let grandchild = 0;
  const started = Date.now();
  await assert.rejects(
    runWithCredentials({
      command: 'sh',
      args: ['-c', 'sleep 30 & echo "pid=$!"; wait'],
      credentials: staticCredentials(),
      env: { PATH: process.env.PATH },
      reporter: new MemoryReporter(),
      signal: controller.signal,
      killGraceMs: 1_000,
      onLine: (line) => {
        grandchild = Number(/pid=(\d+)/.exec(line)?.[1] ?? 0);
        controller.abort();
      },
    }),
    ChildProcessCancelledError,
  );
  assert.ok(Date.now() - started < 10_000);
  assert.ok(grandchild > 0);
  // The sleep got the group's signal too; give the kernel a moment to reap it.
  for (let i = 0; i < 50 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(alive(grandchild), false, 'the background sleep was stopped with its group');
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('LineSplitter decodes UTF-8 split across chunks and splits overlong lines', () => {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line));
  const bytes = Buffer.from('héllo wörld\nsecond');
  splitter.push(bytes.subarray(0, 2));
  splitter.push(bytes.subarray(2, 9));
  splitter.push(bytes.subarray(9));
  splitter.end();
  assert.deepEqual(lines, ['héllo wörld', 'second']);
  lines.length = 0;
  splitter.push(Buffer.alloc(64 * 1024 + 10, 'a'));
  splitter.end();
  assert.deepEqual(
    lines.map((line) => line.length),
    [64 * 1024, 10],
  );
});

test('a temporary token file directory is private', async () => {
  const reporter = new MemoryReporter();
  const dir = await mkdtemp(join(tmpdir(), 'keyless-token-parent-'));
  try {
    const lines: string[] = [];
    await runWithCredentials({
      command: 'sh',
      args: ['-c', 'dirname "$AWS_WEB_IDENTITY_TOKEN_FILE"'],
      credentials: oidcCredentials(reporter),
      env: { PATH: process.env.PATH },
      reporter,
      tokenFileDirectory: dir,
      onLine: (line) => lines.push(line),
    });
    assert.ok(lines[0]?.startsWith(dir));
    assert.equal((await stat(dir)).isDirectory(), true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
