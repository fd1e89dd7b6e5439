// CloudFormation create + delete of a 100-resource stack (50 SSM parameters, 30 WaitConditionHandles, 20 S3
// buckets, with Ref/GetAtt/DependsOn chains) through the AWS SDK v3, timed from CreateStack to CREATE_COMPLETE
// and from DeleteStack to DELETE_COMPLETE, polling DescribeStacks every 20 ms. Keyless: the sandbox in-process
// with providerDelaySeconds 0 (provisioning still asynchronous, real buckets on disk). Peer, same run, same
// client and template: moto's server (`python3 -m moto.server`), whose CloudFormation provisions synchronously.
// Run: node --import tsx bench/cloudformation-100-resources.ts [rounds]
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { hasCommand, median, printResult } from './lib';

const ROUNDS = Number(process.argv[2] ?? '') || 3;
const KEYS = {
  accessKeyId: 'AKIAIOSFODNN7BENCHMK',
  secretAccessKey: 'bench-secret-key-bench-secret-key-0000',
};

function hundredResourceTemplate(stackName: string): string {
  const resources: Record<string, unknown> = {};
  for (let i = 0; i < 20; i++) resources[`Bucket${i}`] = { Type: 'AWS::S3::Bucket' };
  for (let i = 0; i < 30; i++) {
    resources[`Handle${i}`] = {
      Type: 'AWS::CloudFormation::WaitConditionHandle',
      ...(i % 3 === 0 ? { DependsOn: `Bucket${i % 20}` } : {}),
    };
  }
  for (let i = 0; i < 50; i++) {
    // Every fifth parameter chains on the previous one, so creation has depth as well as width.
    const value =
      i % 5 === 4
        ? { 'Fn::Sub': `\${Param${i - 1}}-${i}` }
        : i % 2 === 0
          ? { 'Fn::GetAtt': [`Bucket${i % 20}`, 'Arn'] }
          : `value-${i}`;
    // Named, because moto cannot generate SSM parameter names.
    resources[`Param${i}`] = {
      Type: 'AWS::SSM::Parameter',
      Properties: { Name: `/bench/${stackName}/param-${i}`, Type: 'String', Value: value },
    };
  }
  return JSON.stringify({ AWSTemplateFormatVersion: '2010-09-09', Resources: resources });
}

async function waitFor(client: CloudFormationClient, stackId: string, done: string): Promise<void> {
  for (;;) {
    const stack = (await client.send(new DescribeStacksCommand({ StackName: stackId }))).Stacks?.[0];
    const status = stack?.StackStatus ?? '';
    if (status === done) return;
    if (!status.endsWith('_IN_PROGRESS'))
      throw new Error(`stack ended ${status}: ${stack?.StackStatusReason ?? ''}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Milliseconds for create-to-complete and delete-to-complete. */
async function createAndDelete(endpoint: string, name: string): Promise<{ create: number; delete: number }> {
  const client = new CloudFormationClient({
    endpoint,
    region: 'us-east-1',
    credentials: KEYS,
    maxAttempts: 1,
  });
  const body = hundredResourceTemplate(name);
  let started = performance.now();
  const { StackId } = await client.send(new CreateStackCommand({ StackName: name, TemplateBody: body }));
  await waitFor(client, StackId!, 'CREATE_COMPLETE');
  const create = performance.now() - started;
  started = performance.now();
  await client.send(new DeleteStackCommand({ StackName: StackId }));
  await waitFor(client, StackId!, 'DELETE_COMPLETE');
  client.destroy();
  return { create, delete: performance.now() - started };
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
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`moto exited with ${child.exitCode}`);
    const up = await fetch(`${url}/moto-api/`).then(
      () => true,
      () => false,
    );
    if (up) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

async function main(): Promise<void> {
  const { startSandbox } = await import('../packages/sandbox/src/index');
  const sandbox = await startSandbox({
    port: 0,
    config: { rootCredentials: [KEYS], cloudformation: { providerDelaySeconds: 0 } },
  });
  const keyless: Array<{ create: number; delete: number }> = [];
  try {
    for (let round = 0; round < ROUNDS; round++)
      keyless.push(await createAndDelete(sandbox.url, `bench-${round}`));
  } finally {
    await sandbox.close();
  }

  const peer: Array<{ create: number; delete: number }> = [];
  let peerName = 'moto server';
  if (hasCommand('python3')) {
    const moto = await startMoto();
    try {
      for (let round = 0; round < ROUNDS; round++)
        peer.push(await createAndDelete(moto.url, `bench-${round}`));
    } catch (error) {
      peerName = `moto server (failed: ${(error as Error).message})`;
    } finally {
      await moto.stop();
    }
  } else {
    peerName = 'moto server (python3 missing)';
  }

  const total = (runs: Array<{ create: number; delete: number }>) =>
    median(runs.map((r) => r.create + r.delete));
  const keylessMs = Math.round(total(keyless));
  const peerMs = peer.length > 0 ? Math.round(total(peer)) : Number.NaN;
  printResult(
    {
      measure: 'sandbox create+delete 100-resource stack',
      keyless: keylessMs,
      peer: peerMs,
      peerName,
      unit: 'ms',
      ratio: peerMs / keylessMs,
      target: '< 10 s',
      met: keylessMs < 10_000,
    },
    {
      rounds: ROUNDS,
      keylessCreateMs: Math.round(median(keyless.map((r) => r.create))),
      keylessDeleteMs: Math.round(median(keyless.map((r) => r.delete))),
      peerCreateMs: peer.length ? Math.round(median(peer.map((r) => r.create))) : null,
      peerDeleteMs: peer.length ? Math.round(median(peer.map((r) => r.delete))) : null,
    },
  );
}

await main();
