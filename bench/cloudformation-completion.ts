// How soon a stack update's completion is noticed, and at what API cost: Keyless's poller (deployStack) vs the
// SDK v3 waiter (waitUntilStackUpdateComplete, its real default delays: 30 s minimum, backing off towards 120 s),
// on equal updates in one in-process sandbox. Latency = the moment the waiter/poller knows − the sandbox's
// timestamp on the stack's final event. Calls/min = CloudFormation calls the waiting side made between starting
// the update and noticing. Both sides run their 10 updates concurrently (one stack each). The stacks are created
// with an instant resource (a wait-condition handle) and each update adds an S3 bucket that takes
// BENCH_CFN_DELAY seconds (default 40): long enough that Keyless polls at its steady rate and the waiter needs its
// second, jittered delay (30 + 30–60 s), short enough that the whole benchmark stays under two minutes.
// Run: node --import tsx bench/cloudformation-completion.ts   (BENCH_CFN_DELAY=seconds for the update, default 40)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStackEventsCommand,
  UpdateStackCommand,
  waitUntilStackCreateComplete,
  waitUntilStackUpdateComplete,
} from '@aws-sdk/client-cloudformation';
import { startSandbox } from '../packages/sandbox/src/index';
import { deployStack, MemoryReporter } from '../packages/core/src/index';
import { median, printResult } from './lib';

const updates = 10;
const delaySeconds = Number(process.env.BENCH_CFN_DELAY ?? 40);
const root = { accessKeyId: 'AKIABENCHCFNROOT0001', secretAccessKey: 'bench-cloudformation-root-secret' };
const region = 'us-east-1';

const dir = mkdtempSync(join(tmpdir(), 'keyless-bench-cfn-'));
const templatePath = join(dir, 'bench.yml');
/**
 * One template for both versions: the bucket exists only for Label v2, so creating the stack with v1 provisions
 * nothing (instant) and the update to v2 adds the bucket, which takes `delaySeconds`: the wait being measured.
 */
const template = [
  'Parameters:',
  '  Label: {Type: String}',
  'Conditions:',
  '  IsV2: !Equals [!Ref Label, v2]',
  'Resources:',
  '  Bucket:',
  '    Type: AWS::S3::Bucket',
  '    Condition: IsV2',
  '    Properties:',
  '      Tags: [{Key: label, Value: !Ref Label}]',
  'Outputs:',
  '  Label: {Value: !Ref Label}',
  '',
].join('\n');
writeFileSync(templatePath, template);

/** A CloudFormation client that counts its calls (by operation) with their times. */
function countingClient(endpoint: string): { client: CloudFormationClient; calls: number[] } {
  const client = new CloudFormationClient({ region, endpoint, credentials: root, maxAttempts: 8 });
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

async function finalEventTime(client: CloudFormationClient, stackName: string): Promise<number> {
  const events =
    (await client.send(new DescribeStackEventsCommand({ StackName: stackName }))).StackEvents ?? [];
  const final = events.find(
    (event) =>
      event.ResourceType === 'AWS::CloudFormation::Stack' && event.ResourceStatus === 'UPDATE_COMPLETE',
  );
  if (!final?.Timestamp) throw new Error(`no UPDATE_COMPLETE event for ${stackName}`);
  return final.Timestamp.getTime();
}

interface Measured {
  latencyMs: number;
  callsPerMinute: number;
}

function measured(started: number, noticed: number, finished: number, calls: number[]): Measured {
  const during = calls.filter((time) => time >= started && time <= noticed).length;
  return { latencyMs: noticed - finished, callsPerMinute: (during * 60_000) / (noticed - started) };
}

const sandbox = await startSandbox({
  port: 0,
  config: {
    rootCredentials: [root],
    cloudformation: { providerDelaySeconds: delaySeconds },
  },
});
try {
  const admin = new CloudFormationClient({ region, endpoint: sandbox.url, credentials: root });
  const names = Array.from({ length: updates }, (_, i) => [`keyless-${i}`, `sdk-waiter-${i}`]).flat();
  console.error(`creating ${names.length} stacks (instant)…`);
  await Promise.all(
    names.map(async (StackName) => {
      await admin.send(
        new CreateStackCommand({
          StackName,
          TemplateBody: template,
          Parameters: [{ ParameterKey: 'Label', ParameterValue: 'v1' }],
        }),
      );
      await waitUntilStackCreateComplete(
        { client: admin, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
        { StackName },
      );
    }),
  );
  console.error(
    `updating (each update takes ${delaySeconds} s): Keyless and the SDK waiter, ${updates} stacks each, concurrently…`,
  );

  const keylessRun = async (i: number): Promise<Measured> => {
    const stackName = `keyless-${i}`;
    const { client, calls } = countingClient(sandbox.url);
    let started = 0;
    let noticed = 0;
    const reporter = new MemoryReporter();
    const info = reporter.info.bind(reporter);
    // The poller "knows" when it prints the stack's final event; what follows (DescribeStacks for outputs) is the deploy's.
    reporter.info = (message: string) => {
      if (message.startsWith('Updating stack')) started = Date.now();
      if (!noticed && /UPDATE_COMPLETE {2}AWS::CloudFormation::Stack/.test(message)) noticed = Date.now();
      info(message);
    };
    const startedCall = Date.now();
    await deployStack(
      {
        stackName,
        template: { kind: 'file', path: templatePath },
        parameterOverrides: ['Label=v2'],
        method: 'direct',
      },
      {
        credentials: { region, provider: async () => root },
        env: {},
        reporter,
        clients: { cloudformation: client },
      },
    );
    // UpdateStack was sent just before "Updating stack" was printed; count from the call before it.
    const updateSent = calls.filter((time) => time <= started && time >= startedCall).at(-1) ?? started;
    return measured(updateSent, noticed, await finalEventTime(admin, stackName), calls);
  };

  const waiterRun = async (i: number): Promise<Measured> => {
    const StackName = `sdk-waiter-${i}`;
    const { client, calls } = countingClient(sandbox.url);
    await client.send(
      new UpdateStackCommand({
        StackName,
        TemplateBody: template,
        Parameters: [{ ParameterKey: 'Label', ParameterValue: 'v2' }],
      }),
    );
    const started = calls.at(-1)!;
    await waitUntilStackUpdateComplete({ client, maxWaitTime: 300 }, { StackName });
    const noticed = Date.now();
    return measured(started, noticed, await finalEventTime(admin, StackName), calls);
  };

  const [keyless, waiter] = await Promise.all([
    Promise.all(Array.from({ length: updates }, (_, i) => keylessRun(i))),
    Promise.all(Array.from({ length: updates }, (_, i) => waiterRun(i))),
  ]);
  const keylessLatency = median(keyless.map((m) => m.latencyMs)) / 1000;
  const waiterLatency = median(waiter.map((m) => m.latencyMs)) / 1000;
  const keylessRate = median(keyless.map((m) => m.callsPerMinute));
  const waiterRate = median(waiter.map((m) => m.callsPerMinute));
  const round = (value: number) => Math.round(value * 100) / 100;
  printResult(
    {
      measure: `CloudFormation completion noticed (median of ${updates})`,
      keyless: round(keylessLatency),
      peer: round(waiterLatency),
      peerName: 'SDK v3 waitUntilStackUpdateComplete',
      unit: 's',
      ratio: waiterLatency / keylessLatency,
      target: '<= 2 s at <= 30 calls/min',
      met: keylessLatency <= 2 && keylessRate <= 30,
      note: `${round(keylessRate)} calls/min`,
      peerNote: `${round(waiterRate)} calls/min`,
    },
    {
      providerDelaySeconds: delaySeconds,
      keylessCallsPerMinute: round(keylessRate),
      waiterCallsPerMinute: round(waiterRate),
      keylessLatenciesS: keyless.map((m) => round(m.latencyMs / 1000)),
      waiterLatenciesS: waiter.map((m) => round(m.latencyMs / 1000)),
    },
  );
} finally {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
}
