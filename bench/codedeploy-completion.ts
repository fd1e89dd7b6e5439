// How soon a deployment's completion is noticed, and at what API cost: Keyless's watcher (watchDeployment, the
// one polling helper) vs the SDK v3 waiter (waitUntilDeploymentSuccessful, default delays, maxWaitTime set), on
// equal small in-place deployments in one in-process sandbox (real agent, real hooks). Latency = the moment the
// waiting side knows − the sandbox's completeTime. Each side runs 6 deployments concurrently, one deployment
// group (one instance) each; a BeforeInstall hook sleeps 4-14 s so completions fall at different points of
// the waiter's interval.
// Run: node --import tsx bench/codedeploy-completion.ts
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  CodeDeployClient,
  CreateApplicationCommand,
  CreateDeploymentCommand,
  CreateDeploymentGroupCommand,
  GetDeploymentCommand,
  waitUntilDeploymentSuccessful,
} from '@aws-sdk/client-codedeploy';
import { DescribeInstancesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startSandbox } from '../packages/sandbox/src/index';
import { bundleWorkspace, MemoryReporter, watchDeployment } from '../packages/core/src/index';
import { createCodeDeployEngine } from '../packages/core/src/codedeploy/context';
import { median, printResult } from './lib';

const perSide = 6;
const account = '123456789012';
const root = { accessKeyId: 'AKIABENCHCODEDEPLOY1', secretAccessKey: 'bench-codedeploy-root-secret-key' };
const region = 'us-east-1';
const app = 'bench-app';
const bucket = 'bench-bundles';

const tempDirs: string[] = [];

function bundleDir(sleepSeconds: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyless-bench-cd-'));
  tempDirs.push(dir);
  const files: Record<string, string> = {
    'appspec.yml': [
      'version: 0.0',
      'os: linux',
      'files:',
      '  - source: app',
      '    destination: /opt/bench',
      'hooks:',
      '  BeforeInstall:',
      '    - location: scripts/wait.sh',
      '      timeout: 3600',
      '',
    ].join('\n'),
    'app/VERSION': 'v1\n',
    'scripts/wait.sh': `#!/bin/sh\nsleep ${sleepSeconds}\n`,
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  chmodSync(join(dir, 'scripts/wait.sh'), 0o755);
  return dir;
}

function countingClient(endpoint: string): { client: CodeDeployClient; calls: number[] } {
  const client = new CodeDeployClient({ region, endpoint, credentials: root, maxAttempts: 8 });
  const calls: number[] = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      calls.push(Date.now());
      return next(args);
    },
    { step: 'initialize', name: 'benchCallCounter' },
  );
  return { client, calls };
}

interface Measured {
  latencyMs: number;
  callsPerMinute: number;
}

const dataDir = mkdtempSync(join(tmpdir(), 'keyless-bench-cd-data-'));
tempDirs.push(dataDir);
const sandbox = await startSandbox({
  port: 0,
  dataDir,
  timeScale: 10,
  config: {
    account: { id: account, region },
    rootCredentials: [root],
    cloudformation: { providerDelaySeconds: 0 },
  },
});
try {
  const common = { endpoint: sandbox.url, region, credentials: root };
  const admin = new CodeDeployClient(common);
  const s3 = new S3Client({ ...common, forcePathStyle: true });
  const ec2 = new EC2Client(common);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await admin.send(new CreateApplicationCommand({ applicationName: app, computePlatform: 'Server' }));
  const groups = Array.from({ length: perSide }, (_, i) => [`keyless-${i}`, `waiter-${i}`]).flat();
  const run = await ec2.send(
    new RunInstancesCommand({
      ImageId: 'ami-0abcdef1234567890',
      InstanceType: 't3.micro',
      MinCount: groups.length,
      MaxCount: groups.length,
    }),
  );
  const instanceIds = (run.Instances ?? []).map((instance) => instance.InstanceId!);
  for (;;) {
    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: instanceIds }));
    const states = (described.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.State?.Name);
    if (states.every((state) => state === 'running')) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const { CreateTagsCommand } = await import('@aws-sdk/client-ec2');
  await Promise.all(
    groups.map(async (group, index) => {
      await ec2.send(
        new CreateTagsCommand({ Resources: [instanceIds[index]!], Tags: [{ Key: 'Group', Value: group }] }),
      );
      await admin.send(
        new CreateDeploymentGroupCommand({
          applicationName: app,
          deploymentGroupName: group,
          serviceRoleArn: `arn:aws:iam::${account}:role/CodeDeployServiceRole`,
          ec2TagFilters: [{ Key: 'Group', Value: group, Type: 'KEY_AND_VALUE' }],
        }),
      );
    }),
  );
  // One bundle per sleep length, shared by both sides: deployment i sleeps the same on each side.
  const revisions = await Promise.all(
    Array.from({ length: perSide }, async (_, i) => {
      const bundle = await bundleWorkspace(bundleDir(4 + 2 * i));
      const key = `bench/${i}.zip`;
      const put = await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(bundle.path) }),
      );
      await bundle.cleanup();
      return {
        revisionType: 'S3' as const,
        s3Location: { bucket, key, bundleType: 'zip' as const, eTag: put.ETag?.replace(/"/g, '') },
      };
    }),
  );
  const completeTime = async (deploymentId: string) => {
    const info = (await admin.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo;
    if (info?.status !== 'Succeeded' || !info.completeTime)
      throw new Error(`${deploymentId} ended ${info?.status}`);
    return info.completeTime.getTime();
  };
  const create = async (client: CodeDeployClient, group: string, i: number) =>
    (
      await client.send(
        new CreateDeploymentCommand({
          applicationName: app,
          deploymentGroupName: group,
          revision: revisions[i],
        }),
      )
    ).deploymentId!;

  console.error(`deploying: Keyless and the SDK waiter, ${perSide} deployments each, concurrently…`);
  const keylessRun = async (i: number): Promise<Measured> => {
    const { client, calls } = countingClient(sandbox.url);
    const deploymentId = await create(client, `keyless-${i}`, i);
    const started = Date.now();
    const engine = createCodeDeployEngine({
      credentials: { region, provider: async () => root },
      env: {},
      reporter: new MemoryReporter(),
      clients: { codedeploy: client },
    });
    await watchDeployment(engine, { deploymentId, timeoutMs: 600_000 });
    const noticed = Date.now();
    const during = calls.filter((time) => time >= started && time <= noticed).length;
    return {
      latencyMs: noticed - (await completeTime(deploymentId)),
      callsPerMinute: (during * 60_000) / (noticed - started),
    };
  };
  const waiterRun = async (i: number): Promise<Measured> => {
    const { client, calls } = countingClient(sandbox.url);
    const deploymentId = await create(client, `waiter-${i}`, i);
    const started = Date.now();
    await waitUntilDeploymentSuccessful({ client, maxWaitTime: 600 }, { deploymentId });
    const noticed = Date.now();
    const during = calls.filter((time) => time >= started && time <= noticed).length;
    return {
      latencyMs: noticed - (await completeTime(deploymentId)),
      callsPerMinute: (during * 60_000) / (noticed - started),
    };
  };
  const [keyless, waiter] = await Promise.all([
    Promise.all(Array.from({ length: perSide }, (_, i) => keylessRun(i))),
    Promise.all(Array.from({ length: perSide }, (_, i) => waiterRun(i))),
  ]);
  const round = (value: number) => Math.round(value * 100) / 100;
  const keylessLatency = median(keyless.map((m) => m.latencyMs)) / 1000;
  const waiterLatency = median(waiter.map((m) => m.latencyMs)) / 1000;
  const keylessRate = median(keyless.map((m) => m.callsPerMinute));
  printResult(
    {
      measure: `CodeDeploy completion noticed (median of ${perSide})`,
      keyless: round(keylessLatency),
      peer: round(waiterLatency),
      peerName: 'SDK v3 waitUntilDeploymentSuccessful',
      unit: 's',
      ratio: waiterLatency / Math.max(keylessLatency, 0.01),
      target: '<= 2 s',
      met: keylessLatency <= 2,
      note: `${round(keylessRate)} calls/min`,
      peerNote: `${round(median(waiter.map((m) => m.callsPerMinute)))} calls/min`,
    },
    {
      keylessCallsPerMinute: round(keylessRate),
      waiterCallsPerMinute: round(median(waiter.map((m) => m.callsPerMinute))),
      keylessLatenciesS: keyless.map((m) => round(m.latencyMs / 1000)),
      waiterLatenciesS: waiter.map((m) => round(m.latencyMs / 1000)),
    },
  );
} finally {
  await sandbox.close();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}
