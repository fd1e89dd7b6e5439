/**
 * Cross-check: the engine's create, update and no-op flows on an S3-bucket-plus-outputs template reach the
 * same outcome on moto (written by others, from AWS's behaviour) as on our sandbox. Moto runs as a separate
 * process on a free loopback port; the test skips, saying so, when it is not installed.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startSandbox, type RunningSandbox } from '@keyless/sandbox';
import {
  deleteStack,
  deployStack,
  MemoryReporter,
  type CloudFormationContext,
  type DeployStackOptions,
} from '../src/index';

const motoAvailable = spawnSync('python3', ['-c', 'import moto.server'], { stdio: 'ignore' }).status === 0;
const keys = { accessKeyId: 'AKIAKEYLESSCROSSCHK1', secretAccessKey: 'cross-check-secret-key-not-real' };

const dir = mkdtempSync(join(tmpdir(), 'keyless-crosscheck-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const templatePath = join(dir, 'bucket.yml');
writeFileSync(
  templatePath,
  [
    'Parameters:',
    '  Label: {Type: String}',
    '  Env: {Type: String, Default: dev}',
    'Resources:',
    '  Bucket:',
    '    Type: AWS::S3::Bucket',
    '    Properties:',
    // moto's bucket update needs an explicit BucketName (it raises KeyError otherwise).
    '      BucketName: !Sub "${AWS::StackName}-data"',
    '      Tags: [{Key: label, Value: !Ref Label}]',
    'Outputs:',
    '  BucketName: {Value: !Ref Bucket}',
    '  Label: {Value: !Sub "${Label}-${Env}"}',
    '',
  ].join('\n'),
);

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

async function startMoto(): Promise<{ url: string; process: ChildProcess }> {
  const port = await freePort();
  const child = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      await fetch(`${url}/moto-api/`);
      return { url, process: child };
    } catch {
      await delay(100);
    }
  }
  child.kill();
  throw new Error(`moto did not start on ${url}`);
}

function contextFor(url: string): CloudFormationContext {
  return {
    credentials: { region: 'us-east-1', provider: async () => keys, endpoints: { default: url } },
    env: {},
    reporter: new MemoryReporter(),
  };
}

/** What must agree between endpoints: outcome, status and outputs. */
interface StepOutcome {
  outcome: string;
  status: string;
  outputs: Record<string, string>;
}

async function scenario(
  url: string,
  method: 'direct' | 'change-set',
  compareOutputs: boolean,
): Promise<StepOutcome[]> {
  const ctx = contextFor(url);
  const stackName = `crosscheck-${method}`;
  const base: DeployStackOptions = { stackName, template: { kind: 'file', path: templatePath }, method };
  const steps: StepOutcome[] = [];
  for (const label of ['first', 'second', 'second']) {
    // Env is passed every time: moto fails UsePreviousValue for a parameter that kept its default (KeyError).
    const result = await deployStack({ ...base, parameterOverrides: [`Label=${label}`, 'Env=dev'] }, ctx);
    const outputs = Object.fromEntries(
      Object.entries(result.outputs).map(([key, value]) => [
        key,
        value.replace(/-bucket-[a-z0-9]+$/, '-bucket-<generated>'),
      ]),
    );
    steps.push({ outcome: result.outcome, status: result.status, outputs: compareOutputs ? outputs : {} });
  }
  const deleted = await deleteStack({ stackName }, ctx);
  const again = await deleteStack({ stackName }, ctx);
  steps.push({ outcome: `${deleted.outcome}/${again.outcome}`, status: '', outputs: {} });
  return steps;
}

const expectedDirect: StepOutcome[] = [
  {
    outcome: 'created',
    status: 'CREATE_COMPLETE',
    outputs: { BucketName: 'crosscheck-direct-data', Label: 'first-dev' },
  },
  {
    outcome: 'updated',
    status: 'UPDATE_COMPLETE',
    outputs: { BucketName: 'crosscheck-direct-data', Label: 'second-dev' },
  },
  {
    outcome: 'no-changes',
    status: 'UPDATE_COMPLETE',
    outputs: { BucketName: 'crosscheck-direct-data', Label: 'second-dev' },
  },
  { outcome: 'deleted/absent', status: '', outputs: {} },
];
// moto computes no outputs for stacks created through change sets, so that flow compares outcomes and statuses.
const expectedChangeSet: StepOutcome[] = [
  { outcome: 'created', status: 'CREATE_COMPLETE', outputs: {} },
  { outcome: 'updated', status: 'UPDATE_COMPLETE', outputs: {} },
  { outcome: 'no-changes', status: 'UPDATE_COMPLETE', outputs: {} },
  { outcome: 'deleted/absent', status: '', outputs: {} },
];

describe(
  'the same deploy scenario on moto and on the sandbox',
  { skip: motoAvailable ? false : 'python3 -m moto is not importable' },
  () => {
    let moto: { url: string; process: ChildProcess };
    let sandbox: RunningSandbox;

    before(async () => {
      moto = await startMoto();
      sandbox = await startSandbox({
        port: 0,
        config: { rootCredentials: [keys], cloudformation: { providerDelaySeconds: 0.5 } },
      });
    });
    after(async () => {
      moto?.process.kill();
      await sandbox?.close();
    });

    for (const [method, expected] of [
      ['direct', expectedDirect],
      ['change-set', expectedChangeSet],
    ] as const) {
      it(`${method}: create, update, no-op and delete agree`, async () => {
        const onMoto = await scenario(moto.url, method, method === 'direct');
        const onSandbox = await scenario(sandbox.url, method, method === 'direct');
        assert.deepEqual(onMoto, expected, 'moto');
        assert.deepEqual(onSandbox, expected, 'sandbox');
      });
    }
  },
);
