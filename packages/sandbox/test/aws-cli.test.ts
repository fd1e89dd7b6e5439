import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ACCOUNT_ID, imdsToken, ROLE_ARN, ROLE_NAME, startTestSandbox, withTempDir } from './support';

const run = promisify(execFile);

async function awsCliVersion(): Promise<string | undefined> {
  try {
    const { stdout, stderr } = await run('aws', ['--version'], { timeout: 20_000 });
    return (stdout || stderr).trim();
  } catch {
    return undefined;
  }
}

/** A clean environment: no inherited AWS_* settings, config files pointed at empty temp files. */
function cliEnv(dir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('AWS_')) env[name] = value;
  return {
    ...env,
    AWS_CONFIG_FILE: join(dir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    ...extra,
  };
}

test('the blog credential step with the real AWS CLI: IMDS token → assume-role-with-web-identity → get-caller-identity', async (t) => {
  const version = await awsCliVersion();
  if (!version) {
    t.skip('AWS CLI not installed: `aws` is not on PATH, so the CLI compatibility check cannot run');
    return;
  }
  const sandbox = await startTestSandbox();
  try {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'config'), '');
      await writeFile(join(dir, 'credentials'), '');
      const token = await imdsToken(sandbox.sandbox.url);
      const assumed = await run(
        'aws',
        [
          'sts',
          'assume-role-with-web-identity',
          '--endpoint-url',
          sandbox.sandbox.url,
          '--region',
          'us-east-1',
          '--role-arn',
          ROLE_ARN,
          '--role-session-name',
          'AWSAssumeRole',
          '--web-identity-token',
          token,
          '--output',
          'json',
        ],
        { env: cliEnv(dir), timeout: 60_000 },
      );
      const out = JSON.parse(assumed.stdout) as {
        Credentials: {
          AccessKeyId: string;
          SecretAccessKey: string;
          SessionToken: string;
          Expiration: string;
        };
        AssumedRoleUser: { Arn: string };
      };
      const arn = `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${ROLE_NAME}/AWSAssumeRole`;
      assert.equal(out.AssumedRoleUser.Arn, arn);
      assert.ok(!Number.isNaN(Date.parse(out.Credentials.Expiration)));

      const identity = await run(
        'aws',
        [
          'sts',
          'get-caller-identity',
          '--endpoint-url',
          sandbox.sandbox.url,
          '--region',
          'us-east-1',
          '--output',
          'json',
        ],
        {
          env: cliEnv(dir, {
            AWS_ACCESS_KEY_ID: out.Credentials.AccessKeyId,
            AWS_SECRET_ACCESS_KEY: out.Credentials.SecretAccessKey,
            AWS_SESSION_TOKEN: out.Credentials.SessionToken,
          }),
          timeout: 60_000,
        },
      );
      const who = JSON.parse(identity.stdout) as { Arn: string; Account: string };
      assert.equal(who.Arn, arn);
      assert.equal(who.Account, ACCOUNT_ID);

      // A refused token surfaces through the CLI with AWS's code and message.
      const refused = await run(
        'aws',
        [
          'sts',
          'assume-role-with-web-identity',
          '--endpoint-url',
          sandbox.sandbox.url,
          '--region',
          'us-east-1',
          '--role-arn',
          ROLE_ARN,
          '--role-session-name',
          'x1',
          '--web-identity-token',
          'not-a-jwt',
        ],
        { env: cliEnv(dir), timeout: 60_000 },
      ).catch((error: { stderr: string }) => error);
      assert.match(
        (refused as { stderr: string }).stderr,
        /\(InvalidIdentityToken\) when calling the AssumeRoleWithWebIdentity operation/,
      );

      sandbox.assertLogsFreeOf([
        token,
        out.Credentials.AccessKeyId,
        out.Credentials.SecretAccessKey,
        out.Credentials.SessionToken,
      ]);
    });
  } finally {
    await sandbox.close();
  }
});
