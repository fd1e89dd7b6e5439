import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import type { S3Client } from '@aws-sdk/client-s3';
import { MemoryReporter } from '../report/reporter';
import { deployApplication, type DeployApplicationOptions } from './deploy';
import { DeploymentCancelledError } from './errors';

type Handler = (input: Record<string, unknown>) => unknown;

/** A client answering from scripted handlers, recording every call by command name. */
function fakeClient<T>(handlers: Record<string, Handler>, calls: string[]): T {
  return {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name.replace(/Command$/, '');
      calls.push(name);
      const handler = handlers[name];
      if (!handler) throw new Error(`unexpected call ${name}`);
      return handler(command.input);
    },
  } as unknown as T;
}

function setup(signal?: AbortSignal, overrides: Record<string, Handler> = {}) {
  const calls: string[] = [];
  let looks = 0;
  const codedeploy = fakeClient<CodeDeployClient>(
    {
      GetApplication: () => ({ application: { computePlatform: 'Server' } }),
      GetDeploymentGroup: () => ({
        deploymentGroupInfo: { deploymentStyle: { deploymentType: 'IN_PLACE' } },
      }),
      RegisterApplicationRevision: () => ({}),
      CreateDeployment: () => ({ deploymentId: 'd-NEW' }),
      GetDeployment: () => ({
        deploymentInfo: { deploymentId: 'd-NEW', status: ++looks > 1 ? 'Succeeded' : 'InProgress' },
      }),
      ListDeploymentTargets: () => ({ targetIds: ['i-1'] }),
      BatchGetDeploymentTargets: () => ({
        deploymentTargets: [
          { instanceTarget: { targetId: 'i-1', status: 'Succeeded', lifecycleEvents: [] } },
        ],
      }),
      ...overrides,
    },
    calls,
  );
  const s3 = fakeClient<S3Client>({ HeadObject: () => ({ ETag: '"abc123"' }) }, calls);
  const context = {
    credentials: {
      region: 'us-east-1',
      provider: async () => ({ accessKeyId: 'AKIA', secretAccessKey: 'x' }),
    },
    env: {},
    reporter: new MemoryReporter(),
    clients: { codedeploy, s3 },
    schedule: { initialMs: 2, maxMs: 5, growth: 1 },
    ...(signal ? { signal } : {}),
  };
  return { calls, context };
}

const options: DeployApplicationOptions = {
  applicationName: 'web',
  deploymentGroupName: 'prod',
  revision: { kind: 's3', bucket: 'bundles', key: 'web/1.zip' },
};

test('the deployment id is told as soon as it exists, and the result carries the instance timeline', async () => {
  const { calls, context } = setup();
  const told: Array<{ id: string; key: string; callsSoFar: number }> = [];
  const result = await deployApplication(
    {
      ...options,
      onDeploymentCreated: (id, revision) => told.push({ id, key: revision.key, callsSoFar: calls.length }),
    },
    context,
  );
  assert.equal(result.deploymentId, 'd-NEW');
  assert.deepEqual(told, [
    { id: 'd-NEW', key: 'web/1.zip', callsSoFar: calls.indexOf('CreateDeployment') + 1 },
  ]);
  assert.deepEqual(
    result.instances.map((instance) => [instance.instanceId, instance.status]),
    [['i-1', 'Succeeded']],
  );
  assert.equal(result.revision.eTag, 'abc123');
});

test('a run cancelled before CreateDeployment creates nothing and says nothing was deployed', async () => {
  const controller = new AbortController();
  controller.abort(new Error('cancelled by SIGTERM'));
  const { calls, context } = setup(controller.signal);
  await assert.rejects(deployApplication(options, context), (error: unknown) => {
    assert.ok(error instanceof DeploymentCancelledError);
    assert.equal(error.deploymentId, undefined);
    assert.equal(error.stopped, false);
    assert.match(error.message, /cancelled before the deployment was created; nothing was deployed/);
    return true;
  });
  assert.ok(!calls.includes('CreateDeployment'), calls.join(', '));
});

test('a lost CreateDeployment answer is recognised through the busy group it left, before ListDeployments shows it', async () => {
  let description: string | undefined;
  let creates = 0;
  let looks = 0;
  const { calls, context } = setup(undefined, {
    CreateDeployment: (input) => {
      creates++;
      if (creates === 1) {
        // CodeDeploy created d-OURSAAAAA, then the answer was lost on the way back.
        description = input.description as string;
        throw Object.assign(new Error('We encountered an internal error. Please try again.'), {
          name: 'InternalFailure',
          $metadata: { httpStatusCode: 500 },
        });
      }
      throw Object.assign(
        new Error("The Deployment Group 'prod' already has an active Deployment 'd-OURSAAAAA'"),
        { name: 'DeploymentLimitExceededException', $metadata: { httpStatusCode: 400 } },
      );
    },
    // Eventually consistent: the new deployment is not listed yet.
    ListDeployments: () => ({ deployments: [] }),
    GetDeployment: (input) => {
      assert.equal(input.deploymentId, 'd-OURSAAAAA');
      return {
        deploymentInfo: {
          deploymentId: 'd-OURSAAAAA',
          description,
          status: ++looks > 2 ? 'Succeeded' : 'InProgress',
        },
      };
    },
  });
  const result = await deployApplication(options, context);
  assert.equal(result.deploymentId, 'd-OURSAAAAA');
  assert.equal(creates, 2, calls.join(', '));
  assert.match(description ?? '', /keyless-request:[0-9a-f-]{36}/);
  assert.match(context.reporter.text(), /answer was lost .* d-OURSAAAAA carries this run's marker/);
  assert.doesNotMatch(context.reporter.text(), /not ours/);
});
