import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { FakeClock } from '../../test/support/fake-clock';
import { MemoryReporter } from '../report/reporter';
import type { CloudFormationContext } from './context';
import { deployStack, type DeployStackOptions } from './deploy';
import {
  CloudFormationRequestError,
  EmptyChangeSetError,
  InsufficientCapabilitiesError,
  StackInRollbackCompleteError,
  StackNotUpdatableError,
  StackOperationFailedError,
  TemplateSourceError,
} from './errors';

const dir = mkdtempSync(join(tmpdir(), 'keyless-deploy-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const templatePath = join(dir, 'app.yml');
writeFileSync(
  templatePath,
  'Parameters:\n  Label: {Type: String, Default: a}\nResources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties: {AssumeRolePolicyDocument: {}}\n',
);
const stackId = 'arn:aws:cloudformation:us-east-1:123456789012:stack/web/1';

type Handler = (input: Record<string, unknown>) => unknown;

/** A scripted CloudFormation: per operation, a queue of answers (the last one repeats); records every call. */
function fakeCloudFormation(script: Record<string, Array<Handler | unknown>>) {
  const calls: string[] = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const operation = command.constructor.name.replace(/Command$/, '');
      calls.push(operation);
      const queue = script[operation];
      if (!queue) throw new Error(`unexpected ${operation}`);
      const answer = queue.length > 1 ? queue.shift() : queue[0];
      const value = typeof answer === 'function' ? (answer as Handler)(command.input) : answer;
      if (value instanceof Error) throw value;
      return value;
    },
  };
  return { client: client as unknown as CloudFormationClient, calls };
}

function awsError(name: string, message: string, status = 400): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

function context(client: CloudFormationClient): CloudFormationContext & { reporter: MemoryReporter } {
  return {
    credentials: {
      region: 'us-east-1',
      provider: async () => ({ accessKeyId: 'AKID', secretAccessKey: 'secret' }),
    },
    env: {},
    reporter: new MemoryReporter(),
    clock: new FakeClock(),
    clients: { cloudformation: client },
  };
}

const options: DeployStackOptions = {
  stackName: 'web',
  template: { kind: 'file', path: templatePath },
  capabilities: ['CAPABILITY_IAM'],
};
const validate = { Parameters: [{ ParameterKey: 'Label', DefaultValue: 'a' }] };
const stack = (StackStatus: string, extra: Record<string, unknown> = {}) => ({
  Stacks: [
    {
      StackName: 'web',
      StackId: stackId,
      StackStatus,
      Parameters: [{ ParameterKey: 'Label', ParameterValue: 'a' }],
      ...extra,
    },
  ],
});
const mutations = ['CreateStack', 'UpdateStack', 'CreateChangeSet', 'ExecuteChangeSet', 'DeleteStack'];

describe('deployStack', () => {
  it('never treats throttling or AccessDenied on DescribeStacks as "the stack does not exist"', async () => {
    for (const error of [
      awsError('Throttling', 'Rate exceeded'),
      awsError('AccessDenied', 'User is not authorized to perform: cloudformation:DescribeStacks', 403),
    ]) {
      const fake = fakeCloudFormation({ ValidateTemplate: [validate], DescribeStacks: [error] });
      await assert.rejects(deployStack(options, context(fake.client)), CloudFormationRequestError);
      assert.deepEqual(
        fake.calls.filter((call) => mutations.includes(call)),
        [],
      );
    }
  });

  it('explains UPDATE_ROLLBACK_FAILED without touching the stack', async () => {
    const fake = fakeCloudFormation({
      ValidateTemplate: [validate],
      DescribeStacks: [stack('UPDATE_ROLLBACK_FAILED')],
    });
    await assert.rejects(
      deployStack(options, context(fake.client)),
      (error: unknown) =>
        error instanceof StackNotUpdatableError &&
        /continue-update-rollback --stack-name web/.test(error.fix ?? ''),
    );
    assert.deepEqual(
      fake.calls.filter((call) => mutations.includes(call)),
      [],
    );
  });

  it('refuses ROLLBACK_COMPLETE when recreation is disabled', async () => {
    const fake = fakeCloudFormation({
      ValidateTemplate: [validate],
      DescribeStacks: [stack('ROLLBACK_COMPLETE')],
    });
    await assert.rejects(
      deployStack({ ...options, recreateRollbackComplete: false }, context(fake.client)),
      StackInRollbackCompleteError,
    );
    assert.deepEqual(
      fake.calls.filter((call) => mutations.includes(call)),
      [],
    );
  });

  it('fails before any call that changes something when ValidateTemplate requires a capability not given', async () => {
    const fake = fakeCloudFormation({
      ValidateTemplate: [
        {
          ...validate,
          Capabilities: ['CAPABILITY_IAM'],
          CapabilitiesReason: 'The following resource(s) require capabilities: [AWS::IAM::Role]',
        },
      ],
    });
    await assert.rejects(
      deployStack({ ...options, capabilities: [] }, context(fake.client)),
      (error: unknown) =>
        error instanceof InsufficientCapabilitiesError &&
        error.message ===
          'Stack web needs CAPABILITY_IAM acknowledged: it creates IAM resources: Role (AWS::IAM::Role).' &&
        error.exitCode === 2,
    );
    assert.deepEqual(fake.calls, ['ValidateTemplate']);
  });

  it('an empty change set (reason with a prefix) is success, and the change set is deleted', async () => {
    const empty = {
      Status: 'FAILED',
      ExecutionStatus: 'UNAVAILABLE',
      StatusReason:
        "CloudFormation failed to preprocess the stack: The submitted information didn't contain changes. Submit different information to create a change set.",
      Changes: [],
    };
    const script = () => ({
      ValidateTemplate: [validate],
      DescribeStacks: [
        stack('UPDATE_COMPLETE', { Outputs: [{ OutputKey: 'Url', OutputValue: 'http://x' }] }),
      ],
      CreateChangeSet: [{ Id: 'arn:changeSet/keyless-1/1', StackId: stackId }],
      DescribeChangeSet: [{ Status: 'CREATE_PENDING' }, empty],
      DeleteChangeSet: [{}],
    });
    const fake = fakeCloudFormation(script());
    const ctx = context(fake.client);
    const result = await deployStack(options, ctx);
    assert.equal(result.outcome, 'no-changes');
    assert.deepEqual(result.outputs, { Url: 'http://x' });
    assert.ok(fake.calls.includes('DeleteChangeSet'));
    assert.ok(!fake.calls.includes('ExecuteChangeSet'));
    assert.match(ctx.reporter.text(), /No changes to deploy: stack web is up to date/);

    const failing = fakeCloudFormation(script());
    await assert.rejects(
      deployStack({ ...options, onEmptyChangeSet: 'fail' }, context(failing.client)),
      EmptyChangeSetError,
    );
    assert.ok(
      failing.calls.includes('DeleteChangeSet'),
      'deleted even when the empty change set is a failure',
    );
  });

  it('a failed update names the failed resource and its reason, not just the final status', async () => {
    const events = [
      {
        EventId: '5',
        LogicalResourceId: 'web',
        ResourceType: 'AWS::CloudFormation::Stack',
        ResourceStatus: 'UPDATE_ROLLBACK_COMPLETE',
        ClientRequestToken: 'tok',
      },
      {
        EventId: '4',
        LogicalResourceId: 'web',
        ResourceType: 'AWS::CloudFormation::Stack',
        ResourceStatus: 'UPDATE_ROLLBACK_IN_PROGRESS',
        ResourceStatusReason: 'The following resource(s) failed to update: [Role].',
        ClientRequestToken: 'tok',
      },
      {
        EventId: '3',
        LogicalResourceId: 'Role',
        ResourceType: 'AWS::IAM::Role',
        ResourceStatus: 'UPDATE_FAILED',
        ResourceStatusReason: 'Simulated outage',
        ClientRequestToken: 'tok',
      },
      {
        EventId: '2',
        LogicalResourceId: 'web',
        ResourceType: 'AWS::CloudFormation::Stack',
        ResourceStatus: 'UPDATE_IN_PROGRESS',
        ClientRequestToken: 'tok',
      },
      {
        EventId: '1',
        LogicalResourceId: 'web',
        ResourceType: 'AWS::CloudFormation::Stack',
        ResourceStatus: 'CREATE_COMPLETE',
        ClientRequestToken: 'old',
      },
    ];
    const fake = fakeCloudFormation({
      ValidateTemplate: [validate],
      DescribeStacks: [stack('CREATE_COMPLETE'), stack('UPDATE_ROLLBACK_COMPLETE')],
      CreateChangeSet: [{ Id: 'arn:cs', StackId: stackId }],
      DescribeChangeSet: [
        {
          Status: 'CREATE_COMPLETE',
          Changes: [
            {
              Type: 'Resource',
              ResourceChange: {
                Action: 'Modify',
                LogicalResourceId: 'Role',
                ResourceType: 'AWS::IAM::Role',
                Replacement: 'False',
              },
            },
          ],
        },
      ],
      DescribeStackEvents: [{ StackEvents: events.slice(4) }, { StackEvents: events }],
      ExecuteChangeSet: [{}],
    });
    await assert.rejects(
      deployStack({ ...options, clientRequestToken: 'tok' }, context(fake.client)),
      (error: unknown) =>
        error instanceof StackOperationFailedError &&
        error.message ===
          'Stack web update failed (UPDATE_ROLLBACK_COMPLETE): Role (AWS::IAM::Role) UPDATE_FAILED: Simulated outage' &&
        /rolled back to its previous state/.test(error.fix ?? ''),
    );
  });

  it("reuses the stack's current template (UsePreviousTemplate), checked through GetTemplateSummary", async () => {
    let update: Record<string, unknown> = {};
    const fake = fakeCloudFormation({
      GetTemplateSummary: [{ Parameters: [{ ParameterKey: 'Label', DefaultValue: 'a' }] }],
      DescribeStacks: [stack('UPDATE_COMPLETE')],
      DescribeStackEvents: [{ StackEvents: [] }],
      UpdateStack: [
        (input: Record<string, unknown>) => {
          update = input;
          return awsError('ValidationError', 'No updates are to be performed.');
        },
      ],
    });
    const result = await deployStack(
      { ...options, template: { kind: 'previous' }, method: 'direct', parameterOverrides: ['Label=b'] },
      context(fake.client),
    );
    assert.equal(result.outcome, 'no-changes');
    assert.equal(update.UsePreviousTemplate, true);
    assert.equal(update.TemplateBody, undefined);
    assert.deepEqual(update.Parameters, [{ ParameterKey: 'Label', ParameterValue: 'b' }]);
    assert.ok(!fake.calls.includes('ValidateTemplate'));
  });

  it('refuses to reuse the previous template of a stack that does not exist, before changing anything', async () => {
    const fake = fakeCloudFormation({
      GetTemplateSummary: [awsError('ValidationError', 'Stack with id web does not exist')],
    });
    await assert.rejects(
      deployStack({ ...options, template: { kind: 'previous' } }, context(fake.client)),
      (error: unknown) =>
        error instanceof TemplateSourceError &&
        error.message === 'Stack web does not exist, so there is no previous template to reuse.',
    );
    assert.deepEqual(
      fake.calls.filter((call) => mutations.includes(call)),
      [],
    );
  });

  it('passes resource types and the nested-stacks flag on to the change set', async () => {
    let created: Record<string, unknown> = {};
    const fake = fakeCloudFormation({
      ValidateTemplate: [validate],
      DescribeStacks: [stack('UPDATE_COMPLETE')],
      CreateChangeSet: [
        (input: Record<string, unknown>) => {
          created = input;
          return { Id: 'arn:cs', StackId: stackId };
        },
      ],
      DescribeChangeSet: [
        { Status: 'FAILED', StatusReason: "The submitted information didn't contain changes.", Changes: [] },
      ],
      DeleteChangeSet: [{}],
    });
    await deployStack(
      { ...options, resourceTypes: ['AWS::IAM::*'], includeNestedStacks: true },
      context(fake.client),
    );
    assert.deepEqual(created.ResourceTypes, ['AWS::IAM::*']);
    assert.equal(created.IncludeNestedStacks, true);
  });
});

describe('NoEcho values', () => {
  it('are secret from the local template on, even when CloudFormation then refuses the template', async () => {
    const noEchoTemplate = join(dir, 'no-echo.yml');
    writeFileSync(
      noEchoTemplate,
      'Parameters:\n  DbPassword: {Type: String, NoEcho: true}\nResources:\n  Topic: {Type: AWS::SNS::Topic}\n',
    );
    const { client } = fakeCloudFormation({
      ValidateTemplate: [
        awsError('ValidationError', 'Template format error: Unrecognized resource types: [AWS::SNS::Topic]'),
      ],
    });
    const ctx = context(client);
    await assert.rejects(
      deployStack(
        {
          stackName: 'web',
          template: { kind: 'file', path: noEchoTemplate },
          parameterOverrides: ['DbPassword=NoEchoPassw0rd!xyz'],
        },
        ctx,
      ),
    );
    assert.ok(ctx.reporter.secrets.has('NoEchoPassw0rd!xyz'), 'registered before the refusal');
  });
});
