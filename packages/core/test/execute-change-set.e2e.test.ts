// End to end: executeChangeSet against the sandbox's CloudFormation: change sets are created with the plain SDK (as a
// review step or another tool would), then executed by the engine. Nothing is faked on our side of the wire.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  ListChangeSetsCommand,
  UpdateStackCommand,
} from '@aws-sdk/client-cloudformation';
import { startSandbox, type RunningSandbox } from '@keyless/sandbox';
import {
  ChangeSetNotExecutableError,
  ChangeSetNotFoundError,
  EmptyChangeSetError,
  executeChangeSet,
  InvalidInputError,
  MemoryReporter,
  StackOperationFailedError,
  type CloudFormationContext,
} from '../src/index';

const keys = { accessKeyId: 'AKIAEXECUTECHANGESET', secretAccessKey: 'execute-change-set-test-secret' };
let sandbox: RunningSandbox;
let cfn: CloudFormationClient;

before(async () => {
  sandbox = await startSandbox({
    port: 0,
    // Change sets take two simulated seconds to compute; a faster clock keeps them observable but quick.
    timeScale: 5,
    config: { rootCredentials: [keys], cloudformation: { providerDelaySeconds: 1 } },
  });
  cfn = new CloudFormationClient({ region: 'us-east-1', endpoint: sandbox.url, credentials: keys });
});
after(() => sandbox.close());

function template(options: { failOn?: 'create' | 'update' } = {}): string {
  const metadata = options.failOn
    ? [
        '    Metadata:',
        '      Keyless::Sandbox:',
        `        FailOn: [${options.failOn}]`,
        '        Reason: "Simulated parameter store outage"',
      ]
    : [];
  return [
    'Parameters:',
    '  Label: {Type: String}',
    'Resources:',
    '  Setting:',
    '    Type: AWS::SSM::Parameter',
    ...metadata,
    '    Properties: {Type: String, Value: !Ref Label}',
    'Outputs:',
    '  SettingName: {Value: !Ref Setting}',
    '  Label: {Value: !Ref Label}',
    '',
  ].join('\n');
}

function context(): CloudFormationContext & { reporter: MemoryReporter } {
  return {
    credentials: { region: 'us-east-1', provider: async () => keys, endpoints: { default: sandbox.url } },
    env: {},
    reporter: new MemoryReporter(),
    schedule: { initialMs: 200, growth: 1.2, maxMs: 400 },
  };
}

async function createChangeSet(
  stackName: string,
  name: string,
  type: 'CREATE' | 'UPDATE',
  label: string,
  body = template(),
): Promise<string> {
  const output = await cfn.send(
    new CreateChangeSetCommand({
      StackName: stackName,
      ChangeSetName: name,
      ChangeSetType: type,
      TemplateBody: body,
      Parameters: [{ ParameterKey: 'Label', ParameterValue: label }],
    }),
  );
  return output.Id ?? '';
}

async function waitUntilAvailable(stackName: string, name: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const output = await cfn.send(
      new DescribeChangeSetCommand({ ChangeSetName: name, StackName: stackName }),
    );
    if (output.ExecutionStatus === 'AVAILABLE') return;
    await delay(100);
  }
  throw new Error(`change set ${name} never became AVAILABLE`);
}

/** An UpdateStack outside any change set, waited for (as another tool would). */
async function updateDirectly(stackName: string, label: string): Promise<void> {
  await cfn.send(
    new UpdateStackCommand({
      StackName: stackName,
      TemplateBody: template(),
      Parameters: [{ ParameterKey: 'Label', ParameterValue: label }],
    }),
  );
  for (let attempt = 0; attempt < 200; attempt++) {
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
    if (stack?.StackStatus === 'UPDATE_COMPLETE') return;
    await delay(100);
  }
  throw new Error(`stack ${stackName} never finished its update`);
}

async function createdStack(stackName: string, label: string): Promise<void> {
  await createChangeSet(stackName, 'initial', 'CREATE', label);
  const result = await executeChangeSet({ changeSetName: 'initial', stackName }, context());
  assert.equal(result.outcome, 'created');
}

describe('executeChangeSet', () => {
  it('executes a CREATE change set still being computed, prints events, returns outputs; a re-run does nothing', async () => {
    await createChangeSet('exec-create', 'first', 'CREATE', 'one');
    const ctx = context();
    const result = await executeChangeSet({ changeSetName: 'first', stackName: 'exec-create' }, ctx);
    assert.equal(result.outcome, 'created');
    assert.equal(result.status, 'CREATE_COMPLETE');
    assert.equal(result.outputs.Label, 'one');
    assert.match(result.outputs.SettingName ?? '', /^CFN-Setting-/);
    assert.match(result.stackId, /^arn:aws:cloudformation:us-east-1:\d{12}:stack\/exec-create\//);
    assert.deepEqual(result.summary.counts, { add: 1, modify: 0, remove: 0, other: 0 });
    assert.match(ctx.reporter.text(), /CREATE_COMPLETE {2}AWS::SSM::Parameter {2}Setting/);

    const again = await executeChangeSet({ changeSetName: 'first', stackName: 'exec-create' }, context());
    assert.equal(again.outcome, 'already-executed');
    assert.equal(again.outputs.Label, 'one');
  });

  it('executes an UPDATE change set given only by ARN', async () => {
    await createdStack('exec-update', 'one');
    const arn = await createChangeSet('exec-update', 'relabel', 'UPDATE', 'two');
    const result = await executeChangeSet({ changeSetName: arn }, context());
    assert.equal(result.outcome, 'updated');
    assert.equal(result.status, 'UPDATE_COMPLETE');
    assert.equal(result.stackName, 'exec-update');
    assert.equal(result.changeSetName, 'relabel');
    assert.equal(result.outputs.Label, 'two');
    assert.deepEqual(result.summary.counts, { add: 0, modify: 1, remove: 0, other: 0 });
  });

  it('fails on an empty change set by default, and succeeds (deleting it when asked) otherwise', async () => {
    await createdStack('exec-empty', 'same');
    await createChangeSet('exec-empty', 'nothing', 'UPDATE', 'same');
    await assert.rejects(
      executeChangeSet({ changeSetName: 'nothing', stackName: 'exec-empty' }, context()),
      (error: unknown) =>
        error instanceof EmptyChangeSetError &&
        /nothing of stack exec-empty contains no changes/.test(error.message) &&
        /noFailOnEmptyChangeSet/.test(error.fix ?? ''),
    );
    const kept = await cfn.send(new ListChangeSetsCommand({ StackName: 'exec-empty' }));
    assert.ok(kept.Summaries?.some((summary) => summary.ChangeSetName === 'nothing'));

    const result = await executeChangeSet(
      { changeSetName: 'nothing', stackName: 'exec-empty', onEmpty: 'succeed', deleteEmpty: true },
      context(),
    );
    assert.equal(result.outcome, 'empty');
    assert.equal(result.deleted, true);
    assert.equal(result.outputs.Label, 'same');
    const left = await cfn.send(new ListChangeSetsCommand({ StackName: 'exec-empty' }));
    assert.ok(!left.Summaries?.some((summary) => summary.ChangeSetName === 'nothing'));
  });

  it('names the failed resource and its reason when the stack operation fails', async () => {
    await createdStack('exec-fail', 'one');
    await createChangeSet('exec-fail', 'breaks', 'UPDATE', 'two', template({ failOn: 'update' }));
    await assert.rejects(
      executeChangeSet({ changeSetName: 'breaks', stackName: 'exec-fail' }, context()),
      (error: unknown) =>
        error instanceof StackOperationFailedError &&
        error.status === 'UPDATE_ROLLBACK_COMPLETE' &&
        error.rootCauses[0]?.logicalId === 'Setting' &&
        /Simulated parameter store outage/.test(error.message),
    );
  });

  it("refuses a change set that does not exist (executing one deletes the stack's others)", async () => {
    await createdStack('exec-others', 'one');
    await createChangeSet('exec-others', 'a', 'UPDATE', 'two');
    await createChangeSet('exec-others', 'b', 'UPDATE', 'three');
    await executeChangeSet({ changeSetName: 'a', stackName: 'exec-others' }, context());
    await assert.rejects(
      executeChangeSet({ changeSetName: 'b', stackName: 'exec-others' }, context()),
      (error: unknown) =>
        error instanceof ChangeSetNotFoundError &&
        /Change set b of stack exec-others does not exist in us-east-1/.test(error.message),
    );
  });

  it('refuses an executed change set once the stack has changed since, and an obsolete one', async () => {
    await createdStack('exec-stale', 'one');
    await createChangeSet('exec-stale', 'second', 'UPDATE', 'two');
    await executeChangeSet({ changeSetName: 'second', stackName: 'exec-stale' }, context());
    await createChangeSet('exec-stale', 'pending', 'UPDATE', 'four');
    await waitUntilAvailable('exec-stale', 'pending');
    await updateDirectly('exec-stale', 'three');
    await assert.rejects(
      executeChangeSet({ changeSetName: 'second', stackName: 'exec-stale' }, context()),
      (error: unknown) =>
        error instanceof ChangeSetNotExecutableError &&
        /it was already executed, and the stack has changed since/.test(error.message),
    );
    await assert.rejects(
      executeChangeSet({ changeSetName: 'pending', stackName: 'exec-stale' }, context()),
      (error: unknown) =>
        error instanceof ChangeSetNotExecutableError && /no longer applies/.test(error.message),
    );
  });

  it('checks its inputs before any call', async () => {
    await assert.rejects(
      executeChangeSet({ changeSetName: 'by-name-only' }, context()),
      (error: unknown) => error instanceof InvalidInputError && /stack must be named too/.test(error.message),
    );
  });
});
