import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CodeDeployClient, DeploymentInfo, InstanceTarget } from '@aws-sdk/client-codedeploy';
import { MemoryReporter } from '../report/reporter';
import { createCodeDeployEngine } from './context';
import { describeOverview, exitCodeFrom } from './diagnostics';
import { DeploymentCancelledError, DeploymentFailedError, DeploymentTimeoutError } from './errors';
import { blockingDeploymentId } from './explain';
import { watchDeployment } from './watch';
import { FakeClock } from '../../test/support/fake-clock';

type Handler = (input: Record<string, unknown>) => unknown;

/** A CodeDeploy client answering from scripted handlers, recording every call. */
function fakeCodeDeploy(handlers: Record<string, Handler>) {
  const calls: Array<{ name: string; input: Record<string, unknown> }> = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name.replace(/Command$/, '');
      calls.push({ name, input: command.input });
      const handler = handlers[name];
      if (!handler) throw new Error(`unexpected call ${name}`);
      return handler(command.input);
    },
  };
  return { client: client as unknown as CodeDeployClient, calls };
}

/** An engine over a fake client: real time with a tiny schedule, or fake time with the real schedule. */
function engineWith(client: CodeDeployClient, clock?: FakeClock) {
  const reporter = new MemoryReporter();
  const engine = createCodeDeployEngine({
    credentials: {
      region: 'us-east-1',
      provider: async () => ({ accessKeyId: 'AKIA', secretAccessKey: 'x' }),
    },
    env: {},
    reporter,
    clients: { codedeploy: client },
    ...(clock ? { clock } : { schedule: { initialMs: 2, maxMs: 5, growth: 1 } }),
  });
  return { engine, reporter };
}

function serviceError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });
}

function sequence(infos: DeploymentInfo[]): Handler {
  let index = 0;
  return () => ({ deploymentInfo: infos[Math.min(index++, infos.length - 1)] });
}

const failedTarget: InstanceTarget = {
  targetId: 'i-0123456789abcdef0',
  status: 'Failed',
  lifecycleEvents: [
    { lifecycleEventName: 'ApplicationStart', status: 'Succeeded' },
    {
      lifecycleEventName: 'ValidateService',
      status: 'Failed',
      diagnostics: {
        errorCode: 'ScriptFailed',
        scriptName: 'scripts/validate.sh',
        message: 'Script at specified location: scripts/validate.sh failed with exit code 3',
        logTail:
          'LifecycleEvent - ValidateService\n[stdout]checking http://localhost/\n[stderr]curl: (7) Failed to connect\n',
      },
    },
  ],
};

test('a failed deployment throws its errorInformation, the failing hook with exit code and log tail, and the rollback', async () => {
  const main = sequence([
    { deploymentId: 'd-AAAAAAAAA', status: 'InProgress' },
    {
      deploymentId: 'd-AAAAAAAAA',
      applicationName: 'web',
      deploymentGroupName: 'prod',
      status: 'Failed',
      errorInformation: {
        code: 'HEALTH_CONSTRAINTS',
        message: 'The overall deployment failed because too many individual instances failed deployment',
      },
      rollbackInfo: { rollbackDeploymentId: 'd-ROLLBACK1' },
    },
  ]);
  const { client } = fakeCodeDeploy({
    GetDeployment: (input) =>
      input.deploymentId === 'd-ROLLBACK1'
        ? { deploymentInfo: { deploymentId: 'd-ROLLBACK1', status: 'Succeeded' } }
        : main(input),
    ListDeploymentTargets: () => ({ targetIds: ['i-0123456789abcdef0'] }),
    BatchGetDeploymentTargets: () => ({ deploymentTargets: [{ instanceTarget: failedTarget }] }),
  });
  const { engine, reporter } = engineWith(client);
  await assert.rejects(
    watchDeployment(engine, { deploymentId: 'd-AAAAAAAAA', timeoutMs: 10_000 }),
    (error: unknown) => {
      assert.ok(error instanceof DeploymentFailedError);
      const [headline, ...rest] = error.message.split('\n');
      assert.equal(
        headline,
        'Deployment d-AAAAAAAAA to web/prod failed (HEALTH_CONSTRAINTS): The overall deployment failed because too many individual instances failed deployment',
      );
      const text = rest.join('\n');
      assert.match(
        text,
        /First failure: i-0123456789abcdef0 ValidateService \(scripts\/validate\.sh, exit code 3\)/,
      );
      assert.match(
        text,
        /i-0123456789abcdef0 ValidateService failed: ScriptFailed, script scripts\/validate\.sh, exit code 3/,
      );
      assert.match(text, /\[stderr\]curl: \(7\) Failed to connect/);
      assert.match(text, /Automatic rollback: deployment d-ROLLBACK1 \(Succeeded\)/);
      assert.equal(error.failedEvents[0]?.exitCode, 3);
      assert.equal(error.rollback?.deploymentId, 'd-ROLLBACK1');
      assert.match(error.fix ?? '', /Correct the failing hook script/);
      return true;
    },
  );
  assert.match(reporter.text(), /i-0123456789abcdef0 ValidateService Failed.*ScriptFailed/);
});

test('Ready with --continue-ready sends ContinueDeployment(READY_WAIT) once; targets not started yet are tolerated', async () => {
  let started = false;
  const { client, calls } = fakeCodeDeploy({
    GetDeployment: sequence([
      { deploymentId: 'd-B', status: 'Created' },
      { deploymentId: 'd-B', status: 'InProgress' },
      { deploymentId: 'd-B', status: 'Ready', deploymentOverview: { Ready: 2 } },
      { deploymentId: 'd-B', status: 'Ready', deploymentOverview: { Ready: 2 } },
      { deploymentId: 'd-B', status: 'Succeeded', deploymentOverview: { Succeeded: 2 } },
    ]),
    ListDeploymentTargets: () => {
      if (!started) {
        started = true;
        throw serviceError('DeploymentNotStartedException', 'not started');
      }
      return { targetIds: [] };
    },
    ContinueDeployment: () => ({}),
  });
  const { engine, reporter } = engineWith(client);
  const result = await watchDeployment(engine, {
    deploymentId: 'd-B',
    timeoutMs: 10_000,
    continueReady: true,
  });
  assert.equal(result.outcome, 'succeeded');
  const continued = calls.filter((call) => call.name === 'ContinueDeployment');
  assert.deepEqual(
    continued.map((call) => call.input.deploymentWaitType),
    ['READY_WAIT'],
  );
  assert.match(reporter.text(), /Progress: 100% of 2 instances \(0 succeeded, 2 ready\)/);
});

test('Ready without --continue-ready says it waits for a manual reroute', async () => {
  const { client } = fakeCodeDeploy({
    GetDeployment: sequence([
      { deploymentId: 'd-C', status: 'Ready' },
      { deploymentId: 'd-C', status: 'Ready' },
      { deploymentId: 'd-C', status: 'Succeeded' },
    ]),
    ListDeploymentTargets: () => ({ targetIds: [] }),
  });
  const { engine, reporter } = engineWith(client);
  await watchDeployment(engine, { deploymentId: 'd-C', timeoutMs: 10_000 });
  assert.match(
    reporter.text(),
    /is Ready: .*waits for a manual traffic reroute.*continue-deployment --deployment-id d-C --deployment-wait-type READY_WAIT/,
  );
});

test('--finish-after-reroute succeeds once the termination wait starts, saying blue terminates later', async () => {
  const { client } = fakeCodeDeploy({
    GetDeployment: sequence([
      { deploymentId: 'd-D', status: 'InProgress' },
      { deploymentId: 'd-D', status: 'InProgress', instanceTerminationWaitTimeStarted: true },
    ]),
    ListDeploymentTargets: () => ({ targetIds: [] }),
  });
  const { engine, reporter } = engineWith(client);
  const result = await watchDeployment(engine, {
    deploymentId: 'd-D',
    timeoutMs: 10_000,
    finishAfterReroute: true,
    terminationWaitMinutes: 60,
  });
  assert.equal(result.outcome, 'rerouted');
  assert.match(reporter.text(), /blue instances are terminated later \(after 60 min\)/);
});

test('--skip-termination-wait sends ContinueDeployment(TERMINATION_WAIT) and waits for Succeeded', async () => {
  const { client, calls } = fakeCodeDeploy({
    GetDeployment: sequence([
      { deploymentId: 'd-E', status: 'InProgress', instanceTerminationWaitTimeStarted: true },
      { deploymentId: 'd-E', status: 'InProgress', instanceTerminationWaitTimeStarted: true },
      { deploymentId: 'd-E', status: 'Succeeded' },
    ]),
    ListDeploymentTargets: () => ({ targetIds: [] }),
    ContinueDeployment: () => ({}),
  });
  const { engine } = engineWith(client);
  const result = await watchDeployment(engine, {
    deploymentId: 'd-E',
    timeoutMs: 10_000,
    skipTerminationWait: true,
  });
  assert.equal(result.outcome, 'succeeded');
  assert.deepEqual(
    calls.filter((call) => call.name === 'ContinueDeployment').map((call) => call.input.deploymentWaitType),
    ['TERMINATION_WAIT'],
  );
});

test('a timeout says "still in progress"; with --stop-on-timeout it stops with rollback and says so', async () => {
  const running = () =>
    fakeCodeDeploy({
      GetDeployment: () => ({ deploymentInfo: { deploymentId: 'd-F', status: 'InProgress' } }),
      ListDeploymentTargets: () => ({ targetIds: [] }),
      StopDeployment: () => ({ status: 'Pending', statusMessage: 'Stopping' }),
    });
  const plain = running();
  await assert.rejects(
    watchDeployment(engineWith(plain.client).engine, { deploymentId: 'd-F', timeoutMs: 30 }),
    (error: unknown) => {
      assert.ok(error instanceof DeploymentTimeoutError);
      assert.equal(error.stopped, false);
      assert.match(error.message, /STILL IN PROGRESS/);
      assert.match(error.fix ?? '', /aws deploy get-deployment --deployment-id d-F/);
      return true;
    },
  );
  assert.ok(!plain.calls.some((call) => call.name === 'StopDeployment'));

  const stopping = running();
  await assert.rejects(
    watchDeployment(engineWith(stopping.client).engine, {
      deploymentId: 'd-F',
      timeoutMs: 30,
      stopOnTimeout: true,
    }),
    (error: unknown) => {
      assert.ok(error instanceof DeploymentTimeoutError);
      assert.equal(error.stopped, true);
      assert.match(error.message, /STOPPED it with automatic rollback/);
      return true;
    },
  );
  const stop = stopping.calls.find((call) => call.name === 'StopDeployment');
  assert.deepEqual(stop?.input, { deploymentId: 'd-F', autoRollbackEnabled: true });
});

test('the blocking deployment id comes from both forms of DeploymentLimitExceeded', () => {
  assert.equal(
    blockingDeploymentId("The Deployment Group 'prod' already has an active Deployment 'd-ABC123XYZ'"),
    'd-ABC123XYZ',
  );
  assert.equal(
    blockingDeploymentId("Deployment group prod is already deploying 'd-0K9J8H7G6'"),
    'd-0K9J8H7G6',
  );
  assert.equal(blockingDeploymentId('Too many deployments'), undefined);
});

test('progress and exit codes: a missing overview is tolerated', () => {
  assert.equal(describeOverview(undefined), undefined);
  assert.equal(
    describeOverview({ Pending: 0, InProgress: 0, Succeeded: 0, Failed: 0, Skipped: 0, Ready: 0 }),
    undefined,
  );
  assert.equal(
    describeOverview({ Succeeded: 1, InProgress: 1 }),
    '50% of 2 instances (1 succeeded, 1 in progress)',
  );
  assert.equal(exitCodeFrom('Script at specified location: a.sh failed with exit code 127'), 127);
  assert.equal(exitCodeFrom('Script at specified location: a.sh timed out'), undefined);
});

const target = (id: string, status: InstanceTarget['status'], label?: 'Blue' | 'Green'): InstanceTarget => ({
  targetId: id,
  status,
  ...(label ? { instanceLabel: label } : {}),
  lifecycleEvents: [
    {
      lifecycleEventName: 'BeforeInstall',
      status: 'Succeeded',
      startTime: new Date('2025-01-01T00:00:00Z'),
      endTime: new Date('2025-01-01T00:00:02.500Z'),
    },
    { lifecycleEventName: 'ValidateService', status: status === 'Succeeded' ? 'Succeeded' : 'Pending' },
  ],
});

test('the result carries every instance timeline from the last check, and progress is reported as counts change', async () => {
  const { client, calls } = fakeCodeDeploy({
    GetDeployment: sequence([
      { deploymentId: 'd-T', status: 'InProgress', deploymentOverview: { InProgress: 2 } },
      { deploymentId: 'd-T', status: 'InProgress', deploymentOverview: { Succeeded: 1, InProgress: 1 } },
      { deploymentId: 'd-T', status: 'Succeeded', deploymentOverview: { Succeeded: 2 } },
    ]),
    ListDeploymentTargets: () => ({ targetIds: ['i-2', 'i-1'] }),
    BatchGetDeploymentTargets: (input) => ({
      deploymentTargets: (input.targetIds as string[]).map((id) => ({
        instanceTarget: target(
          id,
          calls.filter((c) => c.name === 'GetDeployment').length >= 3 ? 'Succeeded' : 'InProgress',
        ),
      })),
    }),
  });
  const { engine } = engineWith(client);
  const progress: Array<{ status: string; percent?: number }> = [];
  const result = await watchDeployment(engine, {
    deploymentId: 'd-T',
    timeoutMs: 10_000,
    onProgress: ({ status, percent }) =>
      progress.push({ status, ...(percent !== undefined ? { percent } : {}) }),
  });
  assert.deepEqual(
    result.instances.map((instance) => [instance.instanceId, instance.status, instance.role]),
    [
      ['i-1', 'Succeeded', undefined],
      ['i-2', 'Succeeded', undefined],
    ],
  );
  const [beforeInstall, validate] = result.instances[0]!.events;
  assert.equal(beforeInstall?.name, 'BeforeInstall');
  assert.equal(beforeInstall?.durationMs, 2500);
  assert.equal(validate?.status, 'Succeeded');
  assert.deepEqual(progress, [
    { status: 'InProgress', percent: 0 },
    { status: 'InProgress', percent: 50 },
    { status: 'Succeeded', percent: 100 },
  ]);
  // The timeline came from the watch's own checks: no extra listing after the end.
  const last = calls.at(-1);
  assert.equal(last?.name, 'BatchGetDeploymentTargets');
});

test('a failed deployment error carries the timeline of every instance, not only the failed ones', async () => {
  const healthy = target('i-0aaaaaaaaaaaaaaaa', 'Succeeded');
  const { client } = fakeCodeDeploy({
    GetDeployment: () => ({
      deploymentInfo: {
        deploymentId: 'd-G',
        status: 'Failed',
        errorInformation: { code: 'HEALTH_CONSTRAINTS' },
      },
    }),
    ListDeploymentTargets: () => ({ targetIds: ['i-0123456789abcdef0', 'i-0aaaaaaaaaaaaaaaa'] }),
    BatchGetDeploymentTargets: () => ({
      deploymentTargets: [{ instanceTarget: failedTarget }, { instanceTarget: healthy }],
    }),
  });
  await assert.rejects(
    watchDeployment(engineWith(client).engine, { deploymentId: 'd-G', timeoutMs: 10_000 }),
    (error: unknown) => {
      assert.ok(error instanceof DeploymentFailedError);
      assert.deepEqual(
        error.instances.map((instance) => [instance.instanceId, instance.status]),
        [
          ['i-0123456789abcdef0', 'Failed'],
          ['i-0aaaaaaaaaaaaaaaa', 'Succeeded'],
        ],
      );
      const failedEvent = error.instances[0]!.events.find((event) => event.status === 'Failed');
      assert.equal(failedEvent?.scriptName, 'scripts/validate.sh');
      assert.equal(error.failedEvents.length, 1, 'only the failed instance is a failure');
      return true;
    },
  );
});

/** A deployment that runs until cancelled; StopDeployment makes it Stopped with a linked rollback. */
function cancellable(options: { rollbackStatus?: string; stopError?: Error } = {}) {
  const controller = new AbortController();
  let stopped = false;
  let looks = 0;
  const fake = fakeCodeDeploy({
    GetDeployment: (input) => {
      if (input.deploymentId === 'd-RB')
        return { deploymentInfo: { deploymentId: 'd-RB', status: options.rollbackStatus ?? 'InProgress' } };
      if (++looks === 3) controller.abort(new Error('cancelled by SIGINT'));
      return {
        deploymentInfo: stopped
          ? { deploymentId: 'd-K', status: 'Stopped', rollbackInfo: { rollbackDeploymentId: 'd-RB' } }
          : { deploymentId: 'd-K', status: 'InProgress' },
      };
    },
    ListDeploymentTargets: () => ({ targetIds: ['i-1'] }),
    BatchGetDeploymentTargets: () => ({
      deploymentTargets: [{ instanceTarget: target('i-1', stopped ? 'Skipped' : 'InProgress') }],
    }),
    StopDeployment: () => {
      if (options.stopError) throw options.stopError;
      stopped = true;
      return { status: 'Pending' };
    },
  });
  const reporter = new MemoryReporter();
  const engine = createCodeDeployEngine({
    credentials: {
      region: 'eu-west-1',
      provider: async () => ({ accessKeyId: 'AKIA', secretAccessKey: 'x' }),
    },
    env: {},
    reporter,
    signal: controller.signal,
    clients: { codedeploy: fake.client },
    schedule: { initialMs: 2, maxMs: 5, growth: 1 },
  });
  return { ...fake, engine, reporter };
}

test('cancelled without stopOnCancel: the deployment is left running and the error says how to watch it', async () => {
  const { engine, calls } = cancellable();
  await assert.rejects(
    watchDeployment(engine, { deploymentId: 'd-K', timeoutMs: 10_000 }),
    (error: unknown) => {
      assert.ok(error instanceof DeploymentCancelledError);
      assert.equal(error.stopped, false);
      assert.equal(error.deploymentId, 'd-K');
      assert.match(
        error.message,
        /deployment d-K continues in AWS .*watch it with: aws deploy get-deployment --deployment-id d-K --region eu-west-1$/,
      );
      assert.match(error.fix ?? '', /aws deploy stop-deployment --deployment-id d-K --auto-rollback-enabled/);
      assert.equal(error.instances[0]?.instanceId, 'i-1');
      return true;
    },
  );
  assert.ok(!calls.some((call) => call.name === 'StopDeployment'));
});

test('cancelled with stopOnCancel: StopDeployment with rollback, waits for Stopped, reports the rollback', async () => {
  const { engine, calls } = cancellable({ rollbackStatus: 'Succeeded' });
  await assert.rejects(
    watchDeployment(engine, {
      deploymentId: 'd-K',
      timeoutMs: 10_000,
      stopOnCancel: true,
      cancelGraceMs: 2_000,
    }),
    (error: unknown) => {
      assert.ok(error instanceof DeploymentCancelledError);
      assert.equal(error.stopped, true);
      assert.equal(error.lastStatus, 'Stopped');
      assert.deepEqual(error.rollback, { deploymentId: 'd-RB', status: 'Succeeded' });
      assert.equal(
        error.message,
        'The run was cancelled: deployment d-K was stopped and rolled back (rollback deployment d-RB succeeded).',
      );
      assert.equal(error.instances[0]?.status, 'Skipped', 'the timeline is fetched after the stop');
      return true;
    },
  );
  assert.deepEqual(calls.find((call) => call.name === 'StopDeployment')?.input, {
    deploymentId: 'd-K',
    autoRollbackEnabled: true,
  });

  const running = cancellable({ rollbackStatus: 'InProgress' });
  await assert.rejects(
    watchDeployment(running.engine, { deploymentId: 'd-K', timeoutMs: 10_000, stopOnCancel: true }),
    /deployment d-K was stopped and is being rolled back by deployment d-RB \(InProgress\); watch it with: aws deploy get-deployment --deployment-id d-RB --region eu-west-1/,
  );
});

test('cancelled with stopOnCancel after the deployment finished, or when stopping is refused', async () => {
  const done = cancellable({
    stopError: serviceError(
      'DeploymentAlreadyCompletedException',
      'The deployment d-K has already completed.',
    ),
  });
  await assert.rejects(
    watchDeployment(done.engine, { deploymentId: 'd-K', timeoutMs: 10_000, stopOnCancel: true }),
    (error: unknown) => {
      assert.ok(error instanceof DeploymentCancelledError);
      assert.equal(error.stopped, false);
      assert.match(error.message, /had already finished .*nothing to stop/);
      return true;
    },
  );
  const denied = cancellable({
    stopError: serviceError('AccessDeniedException', 'not authorized to StopDeployment'),
  });
  await assert.rejects(
    watchDeployment(denied.engine, { deploymentId: 'd-K', timeoutMs: 10_000, stopOnCancel: true }),
    (error: unknown) => {
      assert.ok(error instanceof DeploymentCancelledError);
      assert.equal(error.stopped, false);
      assert.match(
        error.message,
        /stopping deployment d-K failed \(not authorized to StopDeployment\); it continues in AWS/,
      );
      assert.match(error.fix ?? '', /aws deploy stop-deployment --deployment-id d-K/);
      return true;
    },
  );
});

test('blue/green on fake time: checks thin out in the termination wait, speed up at its known end, and events are fetched only while instances work', async () => {
  const clock = new FakeClock();
  const start = clock.now();
  // Green installs for 60 s, traffic moves, the 5-minute termination wait, blue terminates 20 s later.
  const rerouted = start + 60_000;
  const waitEnds = rerouted + 5 * 60_000;
  const ended = waitEnds + 20_000;
  const at = (time: number): DeploymentInfo => {
    const common = { deploymentId: 'd-BG' };
    if (time < rerouted)
      return { ...common, status: 'InProgress', deploymentOverview: { InProgress: 2, Pending: 2 } };
    if (time < ended)
      return {
        ...common,
        status: 'InProgress',
        instanceTerminationWaitTimeStarted: true,
        deploymentOverview: { Succeeded: 4 },
      };
    return { ...common, status: 'Succeeded', deploymentOverview: { Succeeded: 4 } };
  };
  const checks: number[] = [];
  const { client, calls } = fakeCodeDeploy({
    GetDeployment: () => {
      checks.push(clock.now());
      return { deploymentInfo: at(clock.now()) };
    },
    ListDeploymentTargets: () => ({ targetIds: ['i-1', 'i-2'] }),
    BatchGetDeploymentTargets: (input) => ({
      deploymentTargets: (input.targetIds as string[]).map((id) => ({
        instanceTarget: target(id, clock.now() < rerouted ? 'InProgress' : 'Succeeded'),
      })),
    }),
  });
  const { engine } = engineWith(client, clock);
  const result = await watchDeployment(engine, {
    deploymentId: 'd-BG',
    timeoutMs: 3_600_000,
    terminationWaitMinutes: 5,
  });
  assert.equal(result.outcome, 'succeeded');

  const during = (from: number, to: number) => checks.filter((time) => time >= from && time < to).length;
  // At the normal pace (2.5 s) the wait would cost 120 checks; thinned out, about 36.
  const inWait = during(rerouted, waitEnds);
  assert.ok(inWait <= 40, `${inWait} checks in the 5-minute termination wait`);
  assert.ok(
    checks.every((time, i) => i === 0 || time - checks[i - 1]! <= 30_000),
    'never more than 30 s between checks',
  );
  // After the wait's known end, the normal pace: the end noticed within one interval.
  assert.ok(checks.at(-1)! - ended <= 2_500 * 1.2, `noticed ${checks.at(-1)! - ended} ms after the end`);
  assert.ok(during(waitEnds, ended) >= 6, 'the normal pace resumed once the wait could be over');
  // Lifecycle events: while instances work, every third check; in the wait (nothing works) not at all,
  // apart from the look when the overview changed and the final one.
  const eventCalls = calls.filter((call) => call.name === 'BatchGetDeploymentTargets').length;
  const activeChecks = during(start, rerouted);
  assert.ok(eventCalls <= Math.ceil(activeChecks / 3) + 3, `${eventCalls} event fetches`);
  assert.ok(eventCalls >= 3, 'live progress while green installs');
});

test('Ready for a manual reroute: the checks thin out to one every 30 s at most', async () => {
  const clock = new FakeClock();
  const start = clock.now();
  const continuedAt = start + 20 * 60_000;
  const checks: number[] = [];
  const { client } = fakeCodeDeploy({
    GetDeployment: () => {
      checks.push(clock.now());
      return {
        deploymentInfo: {
          deploymentId: 'd-R',
          status: clock.now() < continuedAt ? 'Ready' : 'Succeeded',
          deploymentOverview: { Ready: 2 },
        },
      };
    },
    ListDeploymentTargets: () => ({ targetIds: [] }),
  });
  const { engine } = engineWith(client, clock);
  await watchDeployment(engine, { deploymentId: 'd-R', timeoutMs: 3_600_000 });
  assert.ok(checks.length <= 80, `${checks.length} checks in 20 minutes (480 at the normal pace)`);
  assert.ok(checks.at(-1)! - continuedAt <= 30_000, 'a person continuing it is noticed within 30 s');
});
