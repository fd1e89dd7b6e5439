// Sandbox capacity on this machine: how many stacks and deployments can be in flight at once before it slows
// down or fails. The sandbox runs in its own process (the built CLI, `keyless sandbox`); this process drives it
// over keep-alive HTTP with the SDK v3 (no retries, so throttling or errors show), polling every 250 ms.
//  - Stacks: rounds of 5, 10, 20, … 640 concurrent CreateStack of a small template (an SSM parameter, a
//    wait-condition handle, an S3 bucket; providers without simulated delay), each timed from CreateStack to
//    CREATE_COMPLETE. A level is sustained when every stack completes, no request fails and the p95 stays within
//    5 s. Peer, same run, same client and template: moto's server (`python3 -m moto.server`), whose CreateStack
//    provisions synchronously.
//  - Deployments (sandbox only: moto's CodeDeploy does not run deployments): rounds of 5, 10, 20, … 160 concurrent
//    in-place deployments, each to its own one-instance group (real agent, a bundle with one file and one
//    hook; sandbox timeScale 10), timed from CreateDeployment to Succeeded. Sustained: all Succeeded, no failed
//    request, p95 within 5 s (one deployment alone takes about a quarter of a second; measured first).
// A ramp stops at the first level not sustained. Target: >= 20 concurrent stacks and >= 10 concurrent
// deployments (what the hostile suite's parallel pipeline runs need), and no fewer stacks than moto.
// Run: node --import tsx bench/sandbox-capacity.ts   (after `npm run build`)
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Agent } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import {
  CodeDeployClient,
  CreateApplicationCommand,
  CreateDeploymentCommand,
  CreateDeploymentGroupCommand,
  GetDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { bundleWorkspace } from '../packages/core/src/index';
import { hasCommand, median, percentile, printResult, startSandboxProcess } from './lib';

const STACK_LEVELS = [5, 10, 20, 40, 80, 160, 320, 640];
const DEPLOYMENT_LEVELS = [5, 10, 20, 40, 80, 160];
/** A level's p95 completion bound, for stacks and deployments alike: a pipeline would not notice less. */
const BOUND_MS = 5_000;
const POLL_MS = 250;
/** A side's ramp stops starting new levels after this long, to keep the benchmark under two minutes. */
const RAMP_BUDGET_MS = 35_000;
const KEYS = {
  accessKeyId: 'AKIAIOSFODNN7BENCHCAP',
  secretAccessKey: 'bench-capacity-secret-key-0000000000000',
};
const account = '123456789012';
const region = 'us-east-1';

interface Level {
  concurrency: number;
  completed: number;
  errors: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  wallMs: number;
  sustained: boolean;
  firstError?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One keep-alive agent with room for every request of the largest level: the client must not be the queue. */
function clientConfig(endpoint: string) {
  return {
    endpoint,
    region,
    credentials: KEYS,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      httpAgent: new Agent({ keepAlive: true, maxSockets: 1024 }),
      requestTimeout: 60_000,
    }),
  };
}

function summarize(
  concurrency: number,
  latencies: number[],
  errors: string[],
  wallMs: number,
  boundMs: number,
): Level {
  const level: Level = {
    concurrency,
    completed: latencies.length,
    errors: errors.length,
    p50Ms: latencies.length ? Math.round(median(latencies)) : NaN,
    p95Ms: latencies.length ? Math.round(percentile(latencies, 95)) : NaN,
    maxMs: latencies.length ? Math.round(Math.max(...latencies)) : NaN,
    wallMs: Math.round(wallMs),
    sustained: errors.length === 0 && latencies.length === concurrency,
  };
  level.sustained &&= level.p95Ms <= boundMs;
  if (errors[0]) level.firstError = errors[0].slice(0, 200);
  return level;
}

/** Runs `levels` in order until one is not sustained or the time budget is spent. */
async function ramp(
  name: string,
  levels: number[],
  round: (concurrency: number, index: number) => Promise<Level>,
): Promise<Level[]> {
  const results: Level[] = [];
  const started = performance.now();
  for (const [index, concurrency] of levels.entries()) {
    if (performance.now() - started > RAMP_BUDGET_MS) break;
    const level = await round(concurrency, index);
    results.push(level);
    console.log(`${name} ${JSON.stringify(level)}`);
    if (!level.sustained) break;
  }
  return results;
}

const highestSustained = (levels: Level[]) =>
  levels.filter((level) => level.sustained).reduce((best, level) => Math.max(best, level.concurrency), 0);

function stackTemplate(name: string): string {
  return JSON.stringify({
    AWSTemplateFormatVersion: '2010-09-09',
    Resources: {
      Bucket: { Type: 'AWS::S3::Bucket' },
      Handle: { Type: 'AWS::CloudFormation::WaitConditionHandle', DependsOn: 'Bucket' },
      // Named, because moto cannot generate SSM parameter names.
      Param: {
        Type: 'AWS::SSM::Parameter',
        Properties: { Name: `/capacity/${name}`, Type: 'String', Value: { 'Fn::GetAtt': ['Bucket', 'Arn'] } },
      },
    },
  });
}

async function stackRound(client: CloudFormationClient, concurrency: number, prefix: string): Promise<Level> {
  const latencies: number[] = [];
  const errors: string[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
      const name = `${prefix}-${concurrency}-${i}`;
      const t0 = performance.now();
      try {
        const { StackId } = await client.send(
          new CreateStackCommand({ StackName: name, TemplateBody: stackTemplate(name) }),
        );
        for (;;) {
          const stack = (await client.send(new DescribeStacksCommand({ StackName: StackId }))).Stacks?.[0];
          const status = stack?.StackStatus ?? '';
          if (status === 'CREATE_COMPLETE') break;
          if (!status.endsWith('_IN_PROGRESS'))
            throw new Error(`${name} ended ${status}: ${stack?.StackStatusReason ?? ''}`);
          if (performance.now() - t0 > 60_000) throw new Error(`${name} still ${status} after 60 s`);
          await sleep(POLL_MS);
        }
        latencies.push(performance.now() - t0);
      } catch (error) {
        errors.push(`${(error as Error).name}: ${(error as Error).message}`);
      }
    }),
  );
  return summarize(concurrency, latencies, errors, performance.now() - started, BOUND_MS);
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  return port;
}

async function startMoto(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`moto exited with ${child.exitCode}`);
    if (
      await fetch(`${url}/moto-api/`).then(
        () => true,
        () => false,
      )
    )
      break;
    if (i > 200) throw new Error('moto did not start');
    await sleep(100);
  }
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

/** Instances, one-instance groups and a bundle for the deployment ramp; returns a round runner. */
async function prepareDeployments(url: string, dir: string, groups: number) {
  const common = clientConfig(url);
  const codedeploy = new CodeDeployClient(common);
  const ec2 = new EC2Client(common);
  const s3 = new S3Client({ ...common, forcePathStyle: true });
  const app = 'capacity-app';
  const bucket = 'capacity-bundles';
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await codedeploy.send(new CreateApplicationCommand({ applicationName: app, computePlatform: 'Server' }));
  const site = join(dir, 'site');
  await mkdir(join(site, 'scripts'), { recursive: true });
  await writeFile(
    join(site, 'appspec.yml'),
    [
      'version: 0.0',
      'os: linux',
      'files:',
      '  - source: VERSION',
      '    destination: /opt/capacity',
      'hooks:',
      '  AfterInstall:',
      '    - location: scripts/check.sh',
      '      timeout: 60',
      '',
    ].join('\n'),
  );
  await writeFile(join(site, 'VERSION'), 'v1\n');
  await writeFile(join(site, 'scripts/check.sh'), '#!/bin/sh\ntest -n "$DEPLOYMENT_ID"\n');
  await chmod(join(site, 'scripts/check.sh'), 0o755);
  const bundle = await bundleWorkspace(site);
  const put = await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'capacity.zip', Body: await readFile(bundle.path) }),
  );
  await bundle.cleanup();
  const revision = {
    revisionType: 'S3' as const,
    s3Location: {
      bucket,
      key: 'capacity.zip',
      bundleType: 'zip' as const,
      eTag: put.ETag?.replace(/"/g, ''),
    },
  };
  const run = await ec2.send(
    new RunInstancesCommand({
      ImageId: 'ami-0abcdef1234567890',
      InstanceType: 't3.micro',
      MinCount: groups,
      MaxCount: groups,
    }),
  );
  const instanceIds = (run.Instances ?? []).map((instance) => instance.InstanceId!);
  for (;;) {
    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: instanceIds }));
    const states = (described.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.State?.Name);
    if (states.every((state) => state === 'running')) break;
    await sleep(100);
  }
  for (const [index, instanceId] of instanceIds.entries()) {
    const group = `group-${index}`;
    await ec2.send(
      new CreateTagsCommand({ Resources: [instanceId], Tags: [{ Key: 'Group', Value: group }] }),
    );
    await codedeploy.send(
      new CreateDeploymentGroupCommand({
        applicationName: app,
        deploymentGroupName: group,
        serviceRoleArn: `arn:aws:iam::${account}:role/CodeDeployServiceRole`,
        ec2TagFilters: [{ Key: 'Group', Value: group, Type: 'KEY_AND_VALUE' }],
      }),
    );
  }
  const deploy = async (group: number): Promise<number> => {
    const t0 = performance.now();
    const { deploymentId } = await codedeploy.send(
      new CreateDeploymentCommand({ applicationName: app, deploymentGroupName: `group-${group}`, revision }),
    );
    for (;;) {
      const info = (await codedeploy.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo;
      if (info?.status === 'Succeeded') return performance.now() - t0;
      if (info?.status === 'Failed' || info?.status === 'Stopped')
        throw new Error(`${deploymentId} ${info.status}: ${info.errorInformation?.message ?? ''}`);
      if (performance.now() - t0 > 60_000)
        throw new Error(`${deploymentId} still ${info?.status} after 60 s`);
      await sleep(POLL_MS);
    }
  };
  return {
    deploy,
    async round(concurrency: number, boundMs: number): Promise<Level> {
      const latencies: number[] = [];
      const errors: string[] = [];
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, (_, group) =>
          deploy(group).then(
            (ms) => latencies.push(ms),
            (error: unknown) => errors.push(`${(error as Error).name}: ${(error as Error).message}`),
          ),
        ),
      );
      return summarize(concurrency, latencies, errors, performance.now() - started, boundMs);
    },
    destroy() {
      codedeploy.destroy();
      ec2.destroy();
      s3.destroy();
    },
  };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'keyless-bench-capacity-'));
  const config = join(dir, 'sandbox.json');
  await writeFile(
    config,
    JSON.stringify({
      account: { id: account, region },
      rootCredentials: [KEYS],
      cloudformation: { providerDelaySeconds: 0 },
    }),
  );
  try {
    // Stacks, then deployments, each on a fresh sandbox so one ramp's leftovers do not weigh on the other.
    let sandbox = await startSandboxProcess(['--config', config]);
    let stacks: Level[];
    try {
      const cfn = new CloudFormationClient(clientConfig(sandbox.url));
      await stackRound(cfn, 1, 'warm-up');
      stacks = await ramp('sandbox stacks', STACK_LEVELS, (n) => stackRound(cfn, n, 'capacity'));
      cfn.destroy();
    } finally {
      await sandbox.stop();
    }

    let motoStacks: Level[] = [];
    let peerName = 'moto server';
    if (hasCommand('python3')) {
      const moto = await startMoto();
      try {
        const cfn = new CloudFormationClient(clientConfig(moto.url));
        // Its first CreateStack loads moto's CloudFormation code (over a second); not part of any level.
        await stackRound(cfn, 1, 'warm-up');
        motoStacks = await ramp('moto stacks', STACK_LEVELS, (n) => stackRound(cfn, n, 'capacity'));
        cfn.destroy();
      } catch (error) {
        peerName = `moto server (failed: ${(error as Error).message})`;
      } finally {
        await moto.stop();
      }
    } else {
      peerName = 'moto server (python3 missing)';
    }

    sandbox = await startSandboxProcess(['--config', config, '--time-scale', '10']);
    let deployments: Level[];
    let singleMs: number;
    try {
      const rig = await prepareDeployments(sandbox.url, dir, Math.max(...DEPLOYMENT_LEVELS));
      await rig.deploy(0); // warm-up: the first deployment loads the agent's code paths
      singleMs = await rig.deploy(0);
      const boundMs = 2 * singleMs + 2_000;
      console.log(
        `one deployment alone: ${Math.round(singleMs)} ms; bound for the ramp: p95 <= ${Math.round(boundMs)} ms`,
      );
      deployments = await ramp('sandbox deployments', DEPLOYMENT_LEVELS, (n) => rig.round(n, boundMs));
      rig.destroy();
    } finally {
      await sandbox.stop();
    }

    const keylessStacks = highestSustained(stacks);
    const peerStacks = highestSustained(motoStacks);
    const keylessDeployments = highestSustained(deployments);
    const top = (levels: Level[]) => (levels.at(-1)?.sustained ? '>= ' : '');
    printResult(
      {
        measure: 'sandbox capacity: concurrent stacks, deployments (p95 <= 5 s, no errors)',
        keyless: keylessStacks,
        peer: peerStacks,
        peerName,
        unit: 'stacks',
        ratio: keylessStacks / Math.max(1, peerStacks),
        target: '>= 20 concurrent stacks (and >= moto), >= 10 concurrent deployments',
        met: keylessStacks >= 20 && keylessStacks >= peerStacks && keylessDeployments >= 10,
        note: `${top(stacks)}${keylessStacks} sustained; ${top(deployments)}${keylessDeployments} concurrent deployments`,
        peerNote: `${top(motoStacks)}${peerStacks} sustained`,
      },
      {
        stackLevels: stacks,
        motoStackLevels: motoStacks,
        deploymentLevels: deployments,
        singleDeploymentMs: Math.round(singleMs),
        pollMs: POLL_MS,
      },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
