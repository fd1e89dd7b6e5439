import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchGetDeploymentInstancesCommand,
  BatchGetDeploymentTargetsCommand,
  CodeDeployClient,
  ContinueDeploymentCommand,
  CreateApplicationCommand,
  CreateDeploymentCommand,
  CreateDeploymentConfigCommand,
  CreateDeploymentGroupCommand,
  GetApplicationRevisionCommand,
  GetDeploymentCommand,
  GetDeploymentConfigCommand,
  GetDeploymentGroupCommand,
  ListApplicationRevisionsCommand,
  ListDeploymentConfigsCommand,
  ListDeploymentInstancesCommand,
  ListDeploymentsCommand,
  ListDeploymentTargetsCommand,
  RegisterApplicationRevisionCommand,
  StopDeploymentCommand,
  type DeploymentInfo,
  type InstanceTarget,
} from '@aws-sdk/client-codedeploy';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { startSandbox, type RunningSandbox } from '../src/index';
import {
  blueGreenTemplate,
  instanceRoot,
  launchTaggedInstances,
  until,
  uploadBundle,
} from '../src/codedeploy/test-support';
import { ACCOUNT_ID, ROOT_KEYS } from './support';

/**
 * CodeDeploy through the AWS SDK v3 against the whole sandbox (real agents running real hooks on simulated
 * instances, real load balancers): in-place deployments, the one-active-deployment rule, failures with
 * diagnostics and auto-rollback, NO_INSTANCES, StopDeployment, the target APIs, and the blog's blue/green
 * deployment through a CloudFormation stack with zero failed requests across the cutover.
 */

/** One simulated minute lasts a second; ELB health checks and draining are scaled alike. */
const TIME_SCALE = 60;
const SERVICE_ROLE = `arn:aws:iam::${ACCOUNT_ID}:role/CodeDeployServiceRole`;
const BUCKET = 'codedeploy-bundles';

let sandbox: RunningSandbox;
let dataDir: string;
let codedeploy: CodeDeployClient;
let s3: S3Client;
let ec2: EC2Client;
let cfn: CloudFormationClient;
let autoscaling: AutoScalingClient;
let counter = 0;

function unique(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'keyless-codedeploy-'));
  sandbox = await startSandbox({
    port: 0,
    dataDir,
    timeScale: TIME_SCALE,
    config: {
      account: { id: ACCOUNT_ID, region: 'us-east-1' },
      rootCredentials: [ROOT_KEYS],
      cloudformation: { providerDelaySeconds: 0 },
    },
  });
  const common = { endpoint: sandbox.url, region: 'us-east-1', credentials: ROOT_KEYS };
  codedeploy = new CodeDeployClient(common);
  s3 = new S3Client({ ...common, forcePathStyle: true });
  ec2 = new EC2Client(common);
  cfn = new CloudFormationClient(common);
  autoscaling = new AutoScalingClient(common);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

after(async () => {
  await sandbox?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const launchTagged = (tag: string, count: number) => launchTaggedInstances(ec2, tag, count);

async function inPlaceGroup(
  app: string,
  tag: string,
  extra: Partial<ConstructorParameters<typeof CreateDeploymentGroupCommand>[0]> = {},
): Promise<string> {
  const group = unique('dg');
  await codedeploy.send(
    new CreateDeploymentGroupCommand({
      applicationName: app,
      deploymentGroupName: group,
      serviceRoleArn: SERVICE_ROLE,
      ec2TagFilters: [{ Key: 'Deploy', Value: tag, Type: 'KEY_AND_VALUE' }],
      ...extra,
    }),
  );
  return group;
}

async function deployment(id: string): Promise<DeploymentInfo> {
  const out = await codedeploy.send(new GetDeploymentCommand({ deploymentId: id }));
  return out.deploymentInfo as DeploymentInfo;
}

const TERMINAL = new Set(['Succeeded', 'Failed', 'Stopped']);

async function finished(id: string, timeoutMs = 90_000): Promise<DeploymentInfo> {
  return until(
    `deployment ${id} to finish`,
    async () => {
      const info = await deployment(id);
      return TERMINAL.has(info.status ?? '') ? info : undefined;
    },
    timeoutMs,
  );
}

async function targets(id: string): Promise<InstanceTarget[]> {
  const ids = (await codedeploy.send(new ListDeploymentTargetsCommand({ deploymentId: id }))).targetIds ?? [];
  const out = await codedeploy.send(
    new BatchGetDeploymentTargetsCommand({ deploymentId: id, targetIds: ids }),
  );
  return (out.deploymentTargets ?? []).map((t) => t.instanceTarget as InstanceTarget);
}

async function newApp(): Promise<string> {
  const app = unique('app');
  await codedeploy.send(new CreateApplicationCommand({ applicationName: app, computePlatform: 'Server' }));
  return app;
}

describe('in-place deployments', () => {
  test('deploys to two tagged instances: files, hooks and target details', async () => {
    const app = await newApp();
    const tag = unique('web');
    const instanceIds = await launchTagged(tag, 2);
    const group = await inPlaceGroup(app, tag);
    const location = await uploadBundle(s3, BUCKET, `${app}/v1.zip`, { version: 'v1' });

    const { deploymentId } = await codedeploy.send(
      new CreateDeploymentCommand({
        applicationName: app,
        deploymentGroupName: group,
        revision: { revisionType: 'S3', s3Location: location },
        description: 'first release',
      }),
    );
    assert.match(deploymentId ?? '', /^d-[A-Z0-9]{9}$/);
    const early = await deployment(deploymentId as string);
    assert.ok(['Created', 'InProgress'].includes(early.status ?? ''), early.status);
    assert.ok(early.createTime instanceof Date);

    const done = await finished(deploymentId as string);
    assert.equal(done.status, 'Succeeded', JSON.stringify(done.errorInformation));
    assert.deepEqual(done.deploymentOverview, {
      Pending: 0,
      InProgress: 0,
      Succeeded: 2,
      Failed: 0,
      Skipped: 0,
      Ready: 0,
    });
    assert.equal(done.creator, 'user');
    assert.equal(done.description, 'first release');
    assert.equal(done.deploymentConfigName, 'CodeDeployDefault.OneAtATime');
    assert.equal(done.revision?.s3Location?.eTag, location.eTag);
    assert.ok(done.completeTime instanceof Date && done.startTime instanceof Date);

    for (const id of instanceIds) {
      const root = instanceRoot(dataDir, id);
      assert.equal((await readFile(join(root, 'opt/sample-app/VERSION'), 'utf8')).trim(), 'v1');
      const hooks = await readFile(join(root, 'var/log/hooks.log'), 'utf8');
      assert.match(hooks, new RegExp(`${deploymentId} BeforeInstall ${group}`));
      assert.match(hooks, new RegExp(`${deploymentId} AfterInstall ${group}`));
    }

    const details = await targets(deploymentId as string);
    assert.deepEqual(details.map((t) => t.targetId).sort(), [...instanceIds].sort());
    for (const target of details) {
      assert.equal(target.status, 'Succeeded');
      assert.equal(target.targetArn, `arn:aws:ec2:us-east-1:${ACCOUNT_ID}:instance/${target.targetId}`);
      assert.deepEqual(
        target.lifecycleEvents?.map((e) => e.lifecycleEventName),
        [
          'ApplicationStop',
          'DownloadBundle',
          'BeforeInstall',
          'Install',
          'AfterInstall',
          'ApplicationStart',
          'ValidateService',
        ],
      );
      assert.ok(
        target.lifecycleEvents?.every(
          (e) => e.status === 'Succeeded' && e.diagnostics?.errorCode === 'Success',
        ),
      );
    }
    const validate = details[0]?.lifecycleEvents?.find((e) => e.lifecycleEventName === 'ValidateService');
    assert.match(validate?.diagnostics?.logTail ?? '', /validated v1/);

    // Legacy instance APIs see the same targets.
    const legacy = await codedeploy.send(new ListDeploymentInstancesCommand({ deploymentId }));
    assert.deepEqual([...(legacy.instancesList ?? [])].sort(), [...instanceIds].sort());
    const summaries = await codedeploy.send(
      new BatchGetDeploymentInstancesCommand({ deploymentId, instanceIds: legacy.instancesList }),
    );
    assert.equal(summaries.instancesSummary?.length, 2);
    assert.ok(summaries.instancesSummary?.every((s) => s.status === 'Succeeded'));

    // The revision was registered by use; the group remembers its last success.
    const revision = await codedeploy.send(
      new GetApplicationRevisionCommand({
        applicationName: app,
        revision: { revisionType: 'S3', s3Location: location },
      }),
    );
    assert.deepEqual(revision.revisionInfo?.deploymentGroups, [group]);
    const info = await codedeploy.send(
      new GetDeploymentGroupCommand({ applicationName: app, deploymentGroupName: group }),
    );
    assert.equal(info.deploymentGroupInfo?.lastSuccessfulDeployment?.deploymentId, deploymentId);
    const listed = await codedeploy.send(
      new ListDeploymentsCommand({ applicationName: app, deploymentGroupName: group }),
    );
    assert.deepEqual(listed.deployments, [deploymentId]);

    // A second release stops v1 (its own ApplicationStop), replaces the files and serves v2.
    const v2 = await uploadBundle(s3, BUCKET, `${app}/v2.zip`, { version: 'v2' });
    const second = await codedeploy.send(
      new CreateDeploymentCommand({
        applicationName: app,
        deploymentGroupName: group,
        revision: { revisionType: 'S3', s3Location: v2 },
      }),
    );
    const secondDone = await finished(second.deploymentId as string);
    assert.equal(secondDone.status, 'Succeeded', JSON.stringify(secondDone.errorInformation));
    assert.equal(secondDone.previousRevision?.s3Location?.key, location.key);
    for (const id of instanceIds) {
      assert.equal(
        (await readFile(join(instanceRoot(dataDir, id), 'opt/sample-app/VERSION'), 'utf8')).trim(),
        'v2',
      );
    }
  });

  test('a bundle uploaded in parts (a multipart ETag) is downloaded and deployed', async () => {
    const app = await newApp();
    const tag = unique('multipart');
    await launchTagged(tag, 1);
    const group = await inPlaceGroup(app, tag);
    const location = await uploadBundle(s3, BUCKET, `${app}/big.zip`, { version: 'v1', multipart: true });
    assert.match(location.eTag, /-2$/);
    const { deploymentId } = await codedeploy.send(
      new CreateDeploymentCommand({
        applicationName: app,
        deploymentGroupName: group,
        revision: { revisionType: 'S3', s3Location: location },
      }),
    );
    const done = await finished(deploymentId as string);
    assert.equal(done.status, 'Succeeded', JSON.stringify(done.errorInformation));
  });

  test('one active deployment per group: DeploymentLimitExceededException names the blocker', async () => {
    const app = await newApp();
    const tag = unique('busy');
    await launchTagged(tag, 1);
    const group = await inPlaceGroup(app, tag);
    const slow = await uploadBundle(s3, BUCKET, `${app}/slow.zip`, {
      version: 'slow',
      beforeInstallDelaySeconds: 2,
    });
    const first = await codedeploy.send(
      new CreateDeploymentCommand({
        applicationName: app,
        deploymentGroupName: group,
        revision: { revisionType: 'S3', s3Location: slow },
      }),
    );
    await assert.rejects(
      codedeploy.send(
        new CreateDeploymentCommand({
          applicationName: app,
          deploymentGroupName: group,
          revision: { revisionType: 'S3', s3Location: slow },
        }),
      ),
      (error: Error) => {
        assert.equal(error.name, 'DeploymentLimitExceededException');
        assert.equal(
          error.message,
          `The Deployment Group '${group}' already has an active Deployment '${first.deploymentId}'`,
        );
        return true;
      },
    );
    assert.equal((await finished(first.deploymentId as string)).status, 'Succeeded');
  });

  test('a failing ValidateService fails the deployment with diagnostics and rolls back automatically', async () => {
    const app = await newApp();
    const tag = unique('fail');
    const [instanceId] = await launchTagged(tag, 1);
    const group = await inPlaceGroup(app, tag, {
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
    });
    const good = await uploadBundle(s3, BUCKET, `${app}/good.zip`, { version: 'good' });
    const first = await codedeploy.send(
      new CreateDeploymentCommand({
        applicationName: app,
        deploymentGroupName: group,
        revision: { revisionType: 'S3', s3Location: good },
      }),
    );
    assert.equal((await finished(first.deploymentId as string)).status, 'Succeeded');

    const bad = await uploadBundle(s3, BUCKET, `${app}/bad.zip`, {
      version: 'bad',
      failValidateService: true,
    });
    const failing = await codedeploy.send(
      new CreateDeploymentCommand({
        applicationName: app,
        deploymentGroupName: group,
        revision: { revisionType: 'S3', s3Location: bad },
      }),
    );
    const failedInfo = await finished(failing.deploymentId as string);
    assert.equal(failedInfo.status, 'Failed');
    assert.equal(failedInfo.errorInformation?.code, 'HEALTH_CONSTRAINTS');
    assert.equal(
      failedInfo.errorInformation?.message,
      'The overall deployment failed because too many individual instances failed deployment, too few healthy instances are available for deployment, or some instances in your deployment group are experiencing problems.',
    );
    const [target] = await targets(failing.deploymentId as string);
    assert.equal(target?.status, 'Failed');
    const events = target?.lifecycleEvents ?? [];
    const validate = events.find((e) => e.lifecycleEventName === 'ValidateService');
    assert.equal(validate?.status, 'Failed');
    assert.equal(validate?.diagnostics?.errorCode, 'ScriptFailed');
    assert.match(validate?.diagnostics?.message ?? '', /failed with exit code 7/);
    assert.match(validate?.diagnostics?.logTail ?? '', /health check failed for bad/);

    // The rollback is a new deployment of the last good revision, linked both ways.
    const rollbackId = failedInfo.rollbackInfo?.rollbackDeploymentId;
    assert.match(rollbackId ?? '', /^d-[A-Z0-9]{9}$/);
    const rollback = await finished(rollbackId as string);
    assert.equal(rollback.creator, 'codeDeployRollback');
    assert.equal(rollback.rollbackInfo?.rollbackTriggeringDeploymentId, failing.deploymentId);
    assert.equal(rollback.revision?.s3Location?.key, good.key);
    assert.equal(rollback.status, 'Succeeded', JSON.stringify(rollback.errorInformation));
    const root = instanceRoot(dataDir, instanceId as string);
    assert.equal((await readFile(join(root, 'opt/sample-app/VERSION'), 'utf8')).trim(), 'good');
  });

  test('no matching instances: Failed with NO_INSTANCES', async () => {
    const app = await newApp();
    const group = await inPlaceGroup(app, unique('nobody'));
    const location = await uploadBundle(s3, BUCKET, `${app}/v1.zip`, { version: 'v1' });
    const { deploymentId } = await codedeploy.send(
      new CreateDeploymentCommand({
        applicationName: app,
        deploymentGroupName: group,
        revision: { revisionType: 'S3', s3Location: location },
      }),
    );
    const info = await finished(deploymentId as string);
    assert.equal(info.status, 'Failed');
    assert.deepEqual(info.errorInformation, {
      code: 'NO_INSTANCES',
      message:
        'The deployment failed because no instances were found for your deployment group. Check your deployment group settings to make sure the tags for your Amazon EC2 instances or Auto Scaling groups correctly identify the instances you want to deploy to, and then try again.',
    });
  });

  test('StopDeployment stops a running deployment; the rest is skipped', async () => {
    const app = await newApp();
    const tag = unique('stop');
    await launchTagged(tag, 2);
    const group = await inPlaceGroup(app, tag);
    const slow = await uploadBundle(s3, BUCKET, `${app}/slow.zip`, {
      version: 'slow',
      beforeInstallDelaySeconds: 30,
    });
    const { deploymentId } = await codedeploy.send(
      new CreateDeploymentCommand({
        applicationName: app,
        deploymentGroupName: group,
        revision: { revisionType: 'S3', s3Location: slow },
      }),
    );
    await until('the first instance to be busy', async () => {
      const info = await deployment(deploymentId as string);
      return info.deploymentOverview?.InProgress === 1 ? true : undefined;
    });
    const stop = await codedeploy.send(new StopDeploymentCommand({ deploymentId }));
    assert.equal(stop.status, 'Pending');
    assert.equal(
      stop.statusMessage,
      'Stopping Pending. Stopping to schedule commands in the deployment instances',
    );
    const info = await finished(deploymentId as string, 10_000);
    assert.equal(info.status, 'Stopped');
    assert.equal(info.errorInformation?.code, 'MANUAL_STOP');
    assert.equal(info.deploymentOverview?.Skipped, 1);
    await assert.rejects(codedeploy.send(new StopDeploymentCommand({ deploymentId })), {
      name: 'DeploymentAlreadyCompletedException',
    });
    await assert.rejects(
      codedeploy.send(new ContinueDeploymentCommand({ deploymentId, deploymentWaitType: 'READY_WAIT' })),
      { name: 'DeploymentAlreadyCompletedException' },
    );
  });
});

describe('API errors and configs', () => {
  test('synchronous errors carry AWS exception names and messages', async () => {
    const app = await newApp();
    await assert.rejects(codedeploy.send(new CreateApplicationCommand({ applicationName: app })), {
      name: 'ApplicationAlreadyExistsException',
    });
    const revision = {
      revisionType: 'S3' as const,
      s3Location: { bucket: BUCKET, key: 'x.zip', bundleType: 'zip' as const },
    };
    await assert.rejects(
      codedeploy.send(
        new CreateDeploymentCommand({ applicationName: 'missing-app', deploymentGroupName: 'g', revision }),
      ),
      { name: 'ApplicationDoesNotExistException', message: 'No application found for name: missing-app' },
    );
    await assert.rejects(
      codedeploy.send(
        new CreateDeploymentCommand({ applicationName: app, deploymentGroupName: 'nope', revision }),
      ),
      { name: 'DeploymentGroupDoesNotExistException', message: 'No Deployment Group found for name: nope' },
    );
    const group = await inPlaceGroup(app, unique('t'));
    await assert.rejects(
      codedeploy.send(
        new CreateDeploymentCommand({
          applicationName: app,
          deploymentGroupName: group,
          revision: {
            revisionType: 'S3',
            s3Location: { bucket: BUCKET, key: 'x.zip', bundleType: 'rar' as 'zip' },
          },
        }),
      ),
      { name: 'InvalidRevisionException' },
    );
    await assert.rejects(
      codedeploy.send(
        new CreateDeploymentGroupCommand({
          applicationName: app,
          deploymentGroupName: unique('bg'),
          serviceRoleArn: SERVICE_ROLE,
          deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITHOUT_TRAFFIC_CONTROL' },
        }),
      ),
      { name: 'InvalidDeploymentStyleException' },
    );
    await assert.rejects(
      codedeploy.send(
        new CreateDeploymentGroupCommand({
          applicationName: app,
          deploymentGroupName: unique('bg'),
          serviceRoleArn: SERVICE_ROLE,
          deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
          loadBalancerInfo: { targetGroupInfoList: [{ name: 'tg' }] },
          blueGreenDeploymentConfiguration: {
            deploymentReadyOption: { actionOnTimeout: 'CONTINUE_DEPLOYMENT', waitTimeInMinutes: 5 },
          },
        }),
      ),
      { name: 'InvalidBlueGreenDeploymentConfigurationException' },
    );
    await assert.rejects(codedeploy.send(new GetDeploymentCommand({ deploymentId: 'd-AAAAAAAAA' })), {
      name: 'DeploymentDoesNotExistException',
    });
  });

  test('built-in and custom deployment configs; revisions register', async () => {
    const listed = await codedeploy.send(new ListDeploymentConfigsCommand({}));
    for (const name of [
      'CodeDeployDefault.AllAtOnce',
      'CodeDeployDefault.HalfAtATime',
      'CodeDeployDefault.OneAtATime',
    ])
      assert.ok(listed.deploymentConfigsList?.includes(name), name);
    const half = await codedeploy.send(
      new GetDeploymentConfigCommand({ deploymentConfigName: 'CodeDeployDefault.HalfAtATime' }),
    );
    assert.deepEqual(half.deploymentConfigInfo?.minimumHealthyHosts, { type: 'FLEET_PERCENT', value: 50 });
    const name = unique('ThreeQuarters');
    await codedeploy.send(
      new CreateDeploymentConfigCommand({
        deploymentConfigName: name,
        minimumHealthyHosts: { type: 'FLEET_PERCENT', value: 75 },
      }),
    );
    const custom = await codedeploy.send(new GetDeploymentConfigCommand({ deploymentConfigName: name }));
    assert.equal(custom.deploymentConfigInfo?.computePlatform, 'Server');

    const app = await newApp();
    const s3Location = { bucket: BUCKET, key: 'registered.zip', bundleType: 'zip' as const, eTag: 'abc' };
    await codedeploy.send(
      new RegisterApplicationRevisionCommand({
        applicationName: app,
        description: 'r1',
        revision: { revisionType: 'S3', s3Location },
      }),
    );
    const revisions = await codedeploy.send(new ListApplicationRevisionsCommand({ applicationName: app }));
    assert.deepEqual(revisions.revisions, [{ revisionType: 'S3', s3Location }]);
  });
});

/** Requests through the load balancer from `loops` concurrent loops, counting failures and bodies. */
function loadGenerator(url: string, loops: number) {
  let running = true;
  let failures = 0;
  let total = 0;
  const bodies = new Map<string, number>();
  const failuresSeen: string[] = [];
  const once = () =>
    new Promise<void>((resolve) => {
      const req = request(url, { agent: false, timeout: 5000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          total += 1;
          if (res.statusCode !== 200) {
            failures += 1;
            failuresSeen.push(`${res.statusCode} ${body.slice(0, 100)}`);
          } else bodies.set(body, (bodies.get(body) ?? 0) + 1);
          resolve();
        });
        res.on('error', (error) => {
          failures += 1;
          failuresSeen.push(error.message);
          resolve();
        });
      });
      req.on('error', (error) => {
        total += 1;
        failures += 1;
        failuresSeen.push(error.message);
        resolve();
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.end();
    });
  const workers = Array.from({ length: loops }, async () => {
    while (running) await once();
  });
  return {
    bodies,
    get total() {
      return total;
    },
    async stop() {
      running = false;
      await Promise.all(workers);
      return { failures, total, bodies, failuresSeen };
    },
  };
}

describe('blue/green through a CloudFormation stack', () => {
  test('v1 then v2 with zero failed requests through the load balancer', { timeout: 240_000 }, async () => {
    const stackName = unique('bluegreen');
    await cfn.send(
      new CreateStackCommand({
        StackName: stackName,
        TemplateBody: blueGreenTemplate(stackName, {
          serviceRoleArn: SERVICE_ROLE,
          terminationWaitMinutes: 3,
        }),
      }),
    );
    const stack = await until(
      'the stack to be created',
      async () => {
        const described = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
        const current = described.Stacks?.[0];
        if (current?.StackStatus?.endsWith('_IN_PROGRESS')) return undefined;
        return current;
      },
      120_000,
      100,
    );
    assert.equal(stack.StackStatus, 'CREATE_COMPLETE', stack.StackStatusReason);
    const output = (key: string) => stack.Outputs?.find((o) => o.OutputKey === key)?.OutputValue as string;
    const url = output('WebsiteURL');
    const app = output('ApplicationName');
    const group = output('DeploymentGroupName');
    const originalGroup = output('AutoScalingGroupName');

    // The placeholder (user data) serves until the first deployment.
    const served = await until('the load balancer to serve', async () => {
      const probe = loadGenerator(url, 1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const result = await probe.stop();
      return result.bodies.has('v0') ? result : undefined;
    });
    assert.ok(served.bodies.has('v0'));

    async function blueGreenRelease(
      version: string,
      skipTerminationWait: boolean,
    ): Promise<{ info: DeploymentInfo; blue: string }> {
      const before = await codedeploy.send(
        new GetDeploymentGroupCommand({ applicationName: app, deploymentGroupName: group }),
      );
      const blue = before.deploymentGroupInfo?.autoScalingGroups?.[0]?.name as string;
      const location = await uploadBundle(s3, BUCKET, `${app}/${version}.zip`, { version });
      const { deploymentId } = await codedeploy.send(
        new CreateDeploymentCommand({
          applicationName: app,
          deploymentGroupName: group,
          revision: { revisionType: 'S3', s3Location: location },
          fileExistsBehavior: 'OVERWRITE',
        }),
      );
      const id = deploymentId as string;

      // Ready: green installed, waiting to be rerouted to.
      const ready = await until(
        'Ready',
        async () => {
          const info = await deployment(id);
          assert.ok(
            !TERMINAL.has(info.status ?? ''),
            `${id} ended ${info.status}: ${JSON.stringify(info.errorInformation)}`,
          );
          return info.status === 'Ready' ? info : undefined;
        },
        120_000,
      );
      assert.equal(ready.deploymentOverview?.Ready, 2);
      const green = await codedeploy.send(
        new ListDeploymentTargetsCommand({
          deploymentId: id,
          targetFilters: { ServerInstanceLabel: ['Green'] },
        }),
      );
      assert.equal(green.targetIds?.length, 2);
      const blueTargets = await codedeploy.send(
        new ListDeploymentTargetsCommand({
          deploymentId: id,
          targetFilters: { ServerInstanceLabel: ['Blue'] },
        }),
      );
      assert.equal(blueTargets.targetIds?.length, 2);
      await assert.rejects(
        codedeploy.send(
          new ContinueDeploymentCommand({ deploymentId: id, deploymentWaitType: 'TERMINATION_WAIT' }),
        ),
        { name: 'InvalidDeploymentWaitTypeException' },
      );
      await codedeploy.send(
        new ContinueDeploymentCommand({ deploymentId: id, deploymentWaitType: 'READY_WAIT' }),
      );

      // Rerouted: traffic is on green; blue waits out the termination wait, the deployment still InProgress.
      const waiting = await until(
        'the termination wait',
        async () => {
          const info = await deployment(id);
          assert.ok(
            !TERMINAL.has(info.status ?? ''),
            `${id} ended ${info.status}: ${JSON.stringify(info.errorInformation)}`,
          );
          return info.instanceTerminationWaitTimeStarted ? info : undefined;
        },
        120_000,
      );
      assert.equal(waiting.status, 'InProgress');
      if (skipTerminationWait)
        await codedeploy.send(
          new ContinueDeploymentCommand({ deploymentId: id, deploymentWaitType: 'TERMINATION_WAIT' }),
        );
      const info = await finished(id, 120_000);
      assert.equal(info.status, 'Succeeded', JSON.stringify(info.errorInformation));
      return { info, blue };
    }

    const v1 = await blueGreenRelease('v1', false);
    assert.equal(v1.blue, originalGroup);

    const load = loadGenerator(url, 10);
    const v2 = await blueGreenRelease('v2', true);
    const result = await load.stop();
    assert.equal(result.failures, 0, `failed requests: ${result.failuresSeen.slice(0, 5).join('; ')}`);
    assert.ok(result.total > 50, `only ${result.total} requests were made`);
    assert.ok(result.bodies.has('v2'), JSON.stringify([...result.bodies]));

    // Afterwards only v2 is served, by the group CodeDeploy created; the blue groups are gone.
    const after = loadGenerator(url, 4);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const afterResult = await after.stop();
    assert.equal(afterResult.failures, 0);
    assert.deepEqual([...afterResult.bodies.keys()], ['v2']);

    const groupInfo = await codedeploy.send(
      new GetDeploymentGroupCommand({ applicationName: app, deploymentGroupName: group }),
    );
    const current = groupInfo.deploymentGroupInfo?.autoScalingGroups?.map((g) => g.name);
    assert.deepEqual(current, [`CodeDeploy_${group}_${v2.info.deploymentId}`]);
    const groups = await autoscaling.send(
      new DescribeAutoScalingGroupsCommand({
        AutoScalingGroupNames: [originalGroup, v2.blue, current?.[0] as string],
      }),
    );
    assert.deepEqual(
      groups.AutoScalingGroups?.map((g) => g.AutoScalingGroupName),
      [current?.[0]],
    );
    const blueIds = (
      await codedeploy.send(
        new ListDeploymentTargetsCommand({
          deploymentId: v2.info.deploymentId,
          targetFilters: { ServerInstanceLabel: ['Blue'] },
        }),
      )
    ).targetIds as string[];
    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: blueIds }));
    const states = (described.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.State?.Name);
    assert.ok(
      states.every((state) => state === 'terminated' || state === 'shutting-down'),
      JSON.stringify(states),
    );
  });
});
