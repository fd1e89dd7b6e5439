// `keyless exec`: credentials in the child's environment only, refreshed for long-running commands.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import {
  cleanEnv,
  hasAwsCli,
  leakedSecrets,
  managedIdentityArgs,
  runCli,
  startTestSandbox,
  type TestSandbox,
} from './support';

let t: TestSandbox;
const outputs: string[] = [];

before(async () => {
  // Sessions last 20 s, so a 70 s command only succeeds if its credentials are re-assumed along the way.
  t = await startTestSandbox({ maxSessionSeconds: 20 });
});
after(() => t.sandbox.close());

function execArgs(command: string[]): string[] {
  return ['exec', ...managedIdentityArgs(t), '--', ...command];
}

test('the child gets a refreshing token file, not keys, and competing credentials are removed', async () => {
  const probe = `
    const fs = require('node:fs');
    const file = process.env.AWS_WEB_IDENTITY_TOKEN_FILE;
    const stat = fs.statSync(file);
    console.log(JSON.stringify({
      file, mode: (stat.mode & 0o777).toString(8), tokenLength: fs.readFileSync(file, 'utf8').trim().length,
      roleArn: process.env.AWS_ROLE_ARN, region: process.env.AWS_REGION, defaultRegion: process.env.AWS_DEFAULT_REGION,
      sts: process.env.AWS_ENDPOINT_URL_STS, ec2Disabled: process.env.AWS_EC2_METADATA_DISABLED,
      keys: [process.env.AWS_ACCESS_KEY_ID, process.env.AWS_SECRET_ACCESS_KEY, process.env.AWS_SESSION_TOKEN, process.env.AWS_PROFILE],
      systemAccessToken: process.env.SYSTEM_ACCESSTOKEN,
    }));`;
  const result = await runCli(execArgs([process.execPath, '-e', probe]), {
    env: cleanEnv({
      AWS_ACCESS_KEY_ID: 'AKIASTALEKEYFROMENV1',
      AWS_SECRET_ACCESS_KEY: 'stale-secret-that-must-not-reach-the-child',
      AWS_PROFILE: 'stale',
      SYSTEM_ACCESSTOKEN: t.ids.systemAccessToken,
    }),
  });
  outputs.push(result.stderr);
  assert.equal(result.code, 0, result.stderr);
  const seen = JSON.parse(result.stdout) as Record<string, unknown>;
  assert.equal(seen.mode, '600');
  assert.ok((seen.tokenLength as number) > 100);
  assert.equal(seen.roleArn, t.ids.roleArn);
  assert.equal(seen.region, 'us-east-1');
  assert.equal(seen.defaultRegion, 'us-east-1');
  assert.equal(seen.sts, t.url);
  assert.equal(seen.ec2Disabled, 'true');
  // JSON.stringify writes unset variables as null.
  assert.deepEqual(seen.keys, [null, null, null, null]);
  assert.equal(seen.systemAccessToken, undefined);
  assert.equal(existsSync(seen.file as string), false, 'the token file is removed when the command ends');
  assert.match(result.stderr, /running .* as arn:aws:sts::210987654321:assumed-role\/deploy\//);
});

test("the child's exit code is keyless exec's exit code; a missing command is a usage error", async () => {
  const failing = await runCli(execArgs(['sh', '-c', 'exit 7']));
  outputs.push(failing.stderr, failing.stdout);
  assert.equal(failing.code, 7);
  const missing = await runCli(execArgs(['no-such-command-keyless-test']));
  outputs.push(missing.stderr, missing.stdout);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /Command not found: no-such-command-keyless-test/);
  const nothing = await runCli(execArgs([]));
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /No command given after "--"/);
});

test('a 70 s script calling the AWS CLI succeeds although every session lasts 20 s', async (context) => {
  if (!hasAwsCli()) return context.skip('the AWS CLI is not installed: cannot run the long aws script');
  const script = `
    set -e
    end=$(( $(date +%s) + 70 )); calls=0
    while [ "$(date +%s)" -lt "$end" ]; do
      aws sts get-caller-identity --endpoint-url "$AWS_ENDPOINT_URL_STS" --query Arn --output text > /dev/null
      calls=$((calls + 1)); sleep 4
    done
    echo "calls=$calls"`;
  const result = await runCli(execArgs(['bash', '-c', script]), { timeoutMs: 150_000 });
  outputs.push(result.stdout, result.stderr);
  assert.equal(result.code, 0, result.stderr);
  const calls = Number(/calls=(\d+)/.exec(result.stdout)?.[1]);
  // Each call is ~4 s of sleep plus the AWS CLI's start-up (slow on a loaded machine): at least 5 calls over
  // 70 s means every 20 s session window saw calls.
  assert.ok(calls >= 5, `expected at least 5 calls over 70 s, got ${calls}`);
  // 70 s of 20 s sessions: the child's AWS CLI must have assumed the role again several times.
  const assumptions = t.logs.filter((line) => /AssumeRoleWithWebIdentity/.test(line) && /-> 200/.test(line));
  assert.ok(assumptions.length >= 4, `expected at least 4 assumptions, saw ${assumptions.length}`);
});

test('no secret appears in the output of any exec run', () => {
  assert.deepEqual(leakedSecrets([...outputs, ...t.logs], t.secrets), []);
});
