import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CodeDeployClient,
  CreateApplicationCommand,
  CreateDeploymentGroupCommand,
} from '@aws-sdk/client-codedeploy';
import { DescribeInstancesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { startSandbox } from '../src/index';
import { instanceRoot, until, uploadBundle } from '../src/codedeploy/test-support';
import { ACCOUNT_ID, awsCliEnv, awsCliVersion, ROOT_KEYS } from './support';

/**
 * The real AWS CLI v1 against the sandbox's CodeDeploy: `aws deploy create-deployment` with the S3 location
 * shorthand, then `aws deploy get-deployment` polled until the deployment ends, as scripts in pipelines do.
 */

const run = promisify(execFile);

test('aws deploy create-deployment and get-deployment', { timeout: 120_000 }, async (t) => {
  const version = await awsCliVersion();
  if (!version) {
    t.skip('the AWS CLI (`aws`) is not installed on this machine');
    return;
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'keyless-codedeploy-cli-'));
  const sandbox = await startSandbox({
    port: 0,
    dataDir,
    timeScale: 60,
    config: { account: { id: ACCOUNT_ID, region: 'us-east-1' }, rootCredentials: [ROOT_KEYS] },
  });
  try {
    const common = { endpoint: sandbox.url, region: 'us-east-1', credentials: ROOT_KEYS };
    const s3 = new S3Client({ ...common, forcePathStyle: true });
    const ec2 = new EC2Client(common);
    const codedeploy = new CodeDeployClient(common);
    await s3.send(new CreateBucketCommand({ Bucket: 'cli-bundles' }));
    const run1 = await ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-0abcdef1234567890',
        InstanceType: 't3.micro',
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Role', Value: 'cli-web' }] }],
      }),
    );
    const instanceId = run1.Instances?.[0]?.InstanceId as string;
    await until('the instance to run', async () => {
      const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
      return out.Reservations?.[0]?.Instances?.[0]?.State?.Name === 'running' ? true : undefined;
    });
    await codedeploy.send(new CreateApplicationCommand({ applicationName: 'cli-app' }));
    await codedeploy.send(
      new CreateDeploymentGroupCommand({
        applicationName: 'cli-app',
        deploymentGroupName: 'cli-group',
        serviceRoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/CodeDeployServiceRole`,
        ec2TagFilters: [{ Key: 'Role', Value: 'cli-web', Type: 'KEY_AND_VALUE' }],
      }),
    );
    const location = await uploadBundle(s3, 'cli-bundles', 'app/cli.zip', { version: 'cli-v1' });

    const env = awsCliEnv(dataDir);
    const aws = async (...args: string[]) => {
      const { stdout } = await run('aws', ['--endpoint-url', sandbox.url, '--output', 'json', ...args], {
        env,
        timeout: 60_000,
      });
      return JSON.parse(stdout) as Record<string, unknown>;
    };
    const created = await aws(
      'deploy',
      'create-deployment',
      '--application-name',
      'cli-app',
      '--deployment-group-name',
      'cli-group',
      '--s3-location',
      `bucket=${location.bucket},key=${location.key},bundleType=zip,eTag=${location.eTag}`,
      '--file-exists-behavior',
      'OVERWRITE',
      '--description',
      'from the CLI',
    );
    const deploymentId = created['deploymentId'] as string;
    assert.match(deploymentId, /^d-[A-Z0-9]{9}$/);

    const info = await until(
      'the deployment to end',
      async () => {
        const out = await aws('deploy', 'get-deployment', '--deployment-id', deploymentId);
        const deployment = out['deploymentInfo'] as Record<string, unknown>;
        return ['Succeeded', 'Failed', 'Stopped'].includes(deployment['status'] as string)
          ? deployment
          : undefined;
      },
      60_000,
      200,
    );
    assert.equal(info['status'], 'Succeeded', JSON.stringify(info['errorInformation']));
    assert.equal(info['description'], 'from the CLI');
    assert.equal(info['fileExistsBehavior'], 'OVERWRITE');
    assert.deepEqual(info['deploymentOverview'], {
      Pending: 0,
      InProgress: 0,
      Succeeded: 1,
      Failed: 0,
      Skipped: 0,
      Ready: 0,
    });
    assert.equal(typeof info['createTime'], 'number');
    assert.equal(
      (await readFile(join(instanceRoot(dataDir, instanceId), 'opt/sample-app/VERSION'), 'utf8')).trim(),
      'cli-v1',
    );

    // A missing group is reported with AWS's exception name and message on stderr.
    await assert.rejects(
      aws(
        'deploy',
        'create-deployment',
        '--application-name',
        'cli-app',
        '--deployment-group-name',
        'missing',
        '--s3-location',
        `bucket=${location.bucket},key=${location.key},bundleType=zip`,
      ),
      (error: Error & { stderr?: string }) => {
        assert.match(
          error.stderr ?? '',
          /DeploymentGroupDoesNotExistException.*No Deployment Group found for name: missing/,
        );
        return true;
      },
    );
  } finally {
    await sandbox.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
