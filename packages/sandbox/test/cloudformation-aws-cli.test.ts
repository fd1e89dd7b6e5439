import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startSandbox } from '../src/index';
import { awsCliEnv, awsCliVersion, blogConfig, withTempDir } from './support';

/**
 * The real AWS CLI v1 against the sandbox's CloudFormation: `aws cloudformation deploy` (change set based:
 * DescribeStacks → CreateChangeSet → ChangeSetCreateComplete waiter → ExecuteChangeSet → stack waiter) and
 * its empty-change-set handling, which keys on the exact StatusReason the sandbox must produce.
 */

const run = promisify(execFile);

function nextSecond(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 20));
}

const TEMPLATE = `AWSTemplateFormatVersion: '2010-09-09'
Description: deployed by the AWS CLI
Parameters:
  Greeting:
    Type: String
    Default: hello
Resources:
  Setting:
    Type: AWS::SSM::Parameter
    Properties:
      Type: String
      Value: !Sub '\${Greeting} from \${AWS::StackName}'
  Bucket:
    Type: AWS::S3::Bucket
Outputs:
  SettingValue:
    Value: !GetAtt Setting.Value
  BucketName:
    Value: !Ref Bucket
`;

test(
  'aws cloudformation deploy: create, then an identical deploy reports no changes',
  { timeout: 180_000 },
  async (t) => {
    const version = await awsCliVersion();
    if (!version) {
      t.skip('AWS CLI not installed: `aws` is not on PATH, so the CLI compatibility check cannot run');
      return;
    }
    const sandbox = await startSandbox({
      port: 0,
      config: { ...blogConfig(false), cloudformation: { providerDelaySeconds: 0 } },
    });
    try {
      await withTempDir(async (dir) => {
        await writeFile(join(dir, 'config'), '');
        await writeFile(join(dir, 'credentials'), '');
        const templateFile = join(dir, 'template.yaml');
        await writeFile(templateFile, TEMPLATE);
        const env = awsCliEnv(dir);
        const deployArgs = [
          'cloudformation',
          'deploy',
          '--template-file',
          templateFile,
          '--stack-name',
          'cli-stack',
          '--endpoint-url',
          sandbox.url,
        ];

        const first = await run('aws', deployArgs, { env, timeout: 120_000 });
        assert.match(first.stdout, /Successfully created\/updated stack - cli-stack/);

        const described = await run(
          'aws',
          [
            'cloudformation',
            'describe-stacks',
            '--stack-name',
            'cli-stack',
            '--endpoint-url',
            sandbox.url,
            '--output',
            'json',
          ],
          { env, timeout: 60_000 },
        );
        const stack = (
          JSON.parse(described.stdout) as {
            Stacks: Array<{
              StackStatus: string;
              ChangeSetId?: string;
              Outputs: Array<{ OutputKey: string; OutputValue: string }>;
            }>;
          }
        ).Stacks[0]!;
        assert.equal(stack.StackStatus, 'CREATE_COMPLETE');
        assert.match(stack.ChangeSetId ?? '', /:changeSet\/awscli-cloudformation-package-deploy-\d+\//);
        const outputs = Object.fromEntries(stack.Outputs.map((o) => [o.OutputKey, o.OutputValue]));
        assert.equal(outputs['SettingValue'], 'hello from cli-stack');
        assert.match(outputs['BucketName']!, /^cli-stack-bucket-[a-z0-9]{12}$/);

        // CLI v1 defaults to --fail-on-empty-changeset: the identical deploy exits 255 after recognising the
        // sandbox's "didn't contain changes" reason as an empty change set (not as a generic failure).
        await nextSecond();
        const empty = await run('aws', deployArgs, { env, timeout: 120_000 }).then(
          () => ({ code: 0, stderr: '', stdout: '' }),
          (error: { code: number; stderr: string; stdout: string }) => error,
        );
        assert.equal(empty.code, 255);
        assert.match(empty.stderr, /No changes to deploy\. Stack cli-stack is up to date/);

        // The CLI names change sets `awscli-cloudformation-package-deploy-<epoch seconds>` and leaves FAILED ones in
        // place, so a second deploy within the same second collides (AlreadyExistsException), on AWS as here.
        await nextSecond();
        const tolerated = await run('aws', [...deployArgs, '--no-fail-on-empty-changeset'], {
          env,
          timeout: 120_000,
        });
        assert.match(tolerated.stdout, /No changes to deploy\. Stack cli-stack is up to date/);

        await nextSecond();
        // A real change goes through the UPDATE path (parameter override → change set → execute → waiter).
        const updated = await run('aws', [...deployArgs, '--parameter-overrides', 'Greeting=hi'], {
          env,
          timeout: 120_000,
        });
        assert.match(updated.stdout, /Successfully created\/updated stack - cli-stack/);
        const after = await run(
          'aws',
          [
            'cloudformation',
            'describe-stacks',
            '--stack-name',
            'cli-stack',
            '--endpoint-url',
            sandbox.url,
            '--query',
            'Stacks[0].[StackStatus, Outputs[?OutputKey==`SettingValue`].OutputValue | [0]]',
            '--output',
            'text',
          ],
          { env, timeout: 60_000 },
        );
        assert.equal(after.stdout.trim(), 'UPDATE_COMPLETE\thi from cli-stack');

        const missing = await run(
          'aws',
          [
            'cloudformation',
            'describe-stacks',
            '--stack-name',
            'no-such-stack',
            '--endpoint-url',
            sandbox.url,
          ],
          { env, timeout: 60_000 },
        ).then(
          () => ({ stderr: '' }),
          (error: { stderr: string }) => error,
        );
        assert.match(
          missing.stderr,
          /An error occurred \(ValidationError\) when calling the DescribeStacks operation: Stack with id no-such-stack does not exist/,
        );
      });
    } finally {
      await sandbox.close();
    }
  },
);
