import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  CreateStackCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  GetTemplateCommand,
  ListChangeSetsCommand,
  ListExportsCommand,
  ListStackResourcesCommand,
  ListStacksCommand,
  paginateDescribeStackEvents,
  paginateListStacks,
  UpdateStackCommand,
  UpdateTerminationProtectionCommand,
  ValidateTemplateCommand,
  waitUntilChangeSetCreateComplete,
  waitUntilStackCreateComplete,
  waitUntilStackDeleteComplete,
  waitUntilStackUpdateComplete,
  type Stack,
  type StackEvent,
} from '@aws-sdk/client-cloudformation';
import { CreateBucketCommand, HeadBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { startSandbox, type RunningSandbox } from '../src/index';
import {
  ACCOUNT_ID,
  AUDIENCE,
  blogConfig,
  IDENTITY_OBJECT_ID,
  ISSUER,
  PROVIDER_ARN,
  ROOT_KEYS,
  trustPolicy,
} from './support';

/**
 * CloudFormation through the AWS SDK v3: lifecycles observed while they run, events, change sets, rollback via
 * the sandbox's failure metadata, every synchronous error, exports, TemplateURL, paginators and waiters.
 * Providers keep their default delays (1–2 simulated s) at timeScale 20, so in-progress states last 50–100 ms.
 */

let sandbox: RunningSandbox;
let cfn: CloudFormationClient;
let s3: S3Client;
let counter = 0;

/** Unique per test, so tests can run in any order against one sandbox. */
function stackName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

const WAIT = { minDelay: 1, maxDelay: 1, maxWaitTime: 60 } as const;

function template(resources: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ AWSTemplateFormatVersion: '2010-09-09', ...extra, Resources: resources });
}

const param = (value: unknown): Record<string, unknown> => ({
  Type: 'AWS::SSM::Parameter',
  Properties: { Type: 'String', Value: value },
});
const failing = (action: string, reason = 'Simulated outage'): Record<string, unknown> => ({
  'Keyless::Sandbox': { FailOn: [action], Reason: reason },
});

async function describeStack(name: string): Promise<Stack> {
  const out = await cfn.send(new DescribeStacksCommand({ StackName: name }));
  return out.Stacks![0]!;
}

/** Polls DescribeStacks until the status leaves *_IN_PROGRESS; returns every status seen, in order. */
async function settle(name: string): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < 600; i++) {
    const status = (await describeStack(name)).StackStatus!;
    if (seen[seen.length - 1] !== status) seen.push(status);
    if (!status.endsWith('_IN_PROGRESS')) return seen;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${name} did not settle: ${seen.join(' → ')}`);
}

async function events(name: string): Promise<StackEvent[]> {
  return (await cfn.send(new DescribeStackEventsCommand({ StackName: name }))).StackEvents!;
}

async function expectError(
  promise: Promise<unknown>,
  name: string,
  message: string | RegExp,
  status = 400,
): Promise<void> {
  await assert.rejects(promise, (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(error.name, name);
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    assert.equal(error.$metadata?.httpStatusCode, status);
    return true;
  });
}

before(async () => {
  sandbox = await startSandbox({ port: 0, timeScale: 20, config: blogConfig(false) });
  const common = { endpoint: sandbox.url, region: 'us-east-1', credentials: ROOT_KEYS };
  cfn = new CloudFormationClient({ ...common, maxAttempts: 1 });
  s3 = new S3Client({ ...common, forcePathStyle: true });
});

after(async () => {
  await sandbox.close();
});

describe('create, update and delete lifecycles', () => {
  const body = template(
    {
      Bucket: { Type: 'AWS::S3::Bucket' },
      Setting: param({ 'Fn::Sub': 'bucket=${Bucket}' }),
      Handle: { Type: 'AWS::CloudFormation::WaitConditionHandle' },
    },
    {
      Outputs: {
        BucketName: { Value: { Ref: 'Bucket' } },
        BucketArn: { Value: { 'Fn::GetAtt': ['Bucket', 'Arn'] } },
        SettingValue: { Value: { 'Fn::GetAtt': ['Setting', 'Value'] } },
      },
    },
  );

  test('create runs in the background through CREATE_IN_PROGRESS; the SDK waiter sees it complete', async () => {
    const name = stackName('life');
    const token = `create-${name}`;
    const { StackId } = await cfn.send(
      new CreateStackCommand({ StackName: name, TemplateBody: body, ClientRequestToken: token }),
    );
    assert.match(
      StackId!,
      new RegExp(`^arn:aws:cloudformation:us-east-1:${ACCOUNT_ID}:stack/${name}/[0-9a-f-]{36}$`),
    );
    assert.equal((await describeStack(name)).StackStatus, 'CREATE_IN_PROGRESS');
    const waited = await waitUntilStackCreateComplete({ client: cfn, ...WAIT }, { StackName: name });
    assert.equal(waited.state, 'SUCCESS');

    const stack = await describeStack(name);
    assert.equal(stack.StackStatus, 'CREATE_COMPLETE');
    const outputs = Object.fromEntries(stack.Outputs!.map((o) => [o.OutputKey, o.OutputValue]));
    assert.match(outputs['BucketName']!, new RegExp(`^${name}-bucket-[a-z0-9]{12}$`));
    assert.equal(outputs['BucketArn'], `arn:aws:s3:::${outputs['BucketName']}`);
    assert.equal(outputs['SettingValue'], `bucket=${outputs['BucketName']}`);
    // The bucket is real: the sandbox's S3 knows it.
    await s3.send(new HeadBucketCommand({ Bucket: outputs['BucketName'] }));

    const all = await events(name);
    assert.ok(
      all.every((e) => e.ClientRequestToken === token),
      'every event carries the request token',
    );
    const oldestFirst = [...all].reverse();
    assert.equal(oldestFirst[0]!.ResourceStatus, 'CREATE_IN_PROGRESS');
    assert.equal(oldestFirst[0]!.ResourceStatusReason, 'User Initiated');
    assert.equal(oldestFirst[0]!.LogicalResourceId, name);
    assert.equal(oldestFirst[0]!.ResourceType, 'AWS::CloudFormation::Stack');
    assert.equal(all[0]!.ResourceStatus, 'CREATE_COMPLETE');
    assert.equal(all[0]!.LogicalResourceId, name);
    const bucketEvents = oldestFirst.filter((e) => e.LogicalResourceId === 'Bucket');
    assert.deepEqual(
      bucketEvents.map((e) => [e.ResourceStatus, e.ResourceStatusReason]),
      [
        ['CREATE_IN_PROGRESS', undefined],
        ['CREATE_IN_PROGRESS', 'Resource creation Initiated'],
        ['CREATE_COMPLETE', undefined],
      ],
    );
    assert.equal(bucketEvents[2]!.PhysicalResourceId, outputs['BucketName']);
    // Dependency order: the parameter refers to the bucket, so it starts after the bucket completed.
    const settingStart = oldestFirst.findIndex((e) => e.LogicalResourceId === 'Setting');
    const bucketDone = oldestFirst.findIndex(
      (e) => e.LogicalResourceId === 'Bucket' && e.ResourceStatus === 'CREATE_COMPLETE',
    );
    assert.ok(settingStart > bucketDone);
    for (let i = 1; i < all.length; i++)
      assert.ok(all[i - 1]!.Timestamp! >= all[i]!.Timestamp!, 'newest first');

    const resources = (await cfn.send(new DescribeStackResourcesCommand({ StackName: name })))
      .StackResources!;
    assert.deepEqual(resources.map((r) => r.LogicalResourceId).sort(), ['Bucket', 'Handle', 'Setting']);
    assert.ok(resources.every((r) => r.ResourceStatus === 'CREATE_COMPLETE'));
    const template = await cfn.send(new GetTemplateCommand({ StackName: name }));
    assert.equal(template.TemplateBody, body);

    // A retried CreateStack with the same token is the same call, not an AlreadyExists.
    const again = await cfn.send(
      new CreateStackCommand({ StackName: name, TemplateBody: body, ClientRequestToken: token }),
    );
    assert.equal(again.StackId, StackId);
  });

  test('update in place, replacement, no-op, and delete', async () => {
    const name = stackName('upd');
    await cfn.send(new CreateStackCommand({ StackName: name, TemplateBody: body }));
    await waitUntilStackCreateComplete({ client: cfn, ...WAIT }, { StackName: name });
    const before = (await cfn.send(new DescribeStackResourcesCommand({ StackName: name }))).StackResources!;
    const physical = (id: string, list = before) =>
      list.find((r) => r.LogicalResourceId === id)!.PhysicalResourceId!;

    await expectError(
      cfn.send(new UpdateStackCommand({ StackName: name, TemplateBody: body })),
      'ValidationError',
      'No updates are to be performed.',
    );

    const bucketName = `${name}-named`.toLowerCase();
    const changed = template(
      {
        Bucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: bucketName } },
        Setting: param({ 'Fn::Sub': 'now=${Bucket}' }),
        Handle: { Type: 'AWS::CloudFormation::WaitConditionHandle' },
      },
      { Outputs: { SettingValue: { Value: { 'Fn::GetAtt': ['Setting', 'Value'] } } } },
    );
    const token = `update-${name}`;
    await cfn.send(
      new UpdateStackCommand({ StackName: name, TemplateBody: changed, ClientRequestToken: token }),
    );
    const seen = await settle(name);
    assert.deepEqual(
      seen,
      ['UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_COMPLETE'].slice(-seen.length),
    );
    assert.ok(seen.includes('UPDATE_IN_PROGRESS'));
    assert.equal(seen[seen.length - 1], 'UPDATE_COMPLETE');
    const after = (await cfn.send(new DescribeStackResourcesCommand({ StackName: name }))).StackResources!;
    assert.equal(physical('Bucket', after), bucketName, 'BucketName change replaced the bucket');
    assert.equal(physical('Setting', after), physical('Setting'), 'a Value change updates in place');
    assert.equal(physical('Handle', after), physical('Handle'), 'unchanged resources are untouched');
    await s3.send(new HeadBucketCommand({ Bucket: bucketName }));
    await assert.rejects(
      s3.send(new HeadBucketCommand({ Bucket: physical('Bucket') })),
      'old bucket deleted in cleanup',
    );
    const stack = await describeStack(name);
    assert.equal(stack.Outputs![0]!.OutputValue, `now=${bucketName}`);
    assert.ok(stack.LastUpdatedTime);

    const updateEvents = (await events(name)).filter((e) => e.ClientRequestToken === token).reverse();
    assert.ok(
      updateEvents.some(
        (e) =>
          e.LogicalResourceId === 'Bucket' &&
          e.ResourceStatusReason ===
            'Requested update requires the creation of a new physical resource; hence creating one.',
      ),
    );
    assert.ok(
      updateEvents.some(
        (e) =>
          e.LogicalResourceId === 'Bucket' &&
          e.ResourceStatus === 'DELETE_COMPLETE' &&
          e.PhysicalResourceId === physical('Bucket'),
      ),
    );
    assert.ok(!updateEvents.some((e) => e.LogicalResourceId === 'Handle'));

    await cfn.send(new DeleteStackCommand({ StackName: name }));
    assert.equal((await describeStack(name)).StackStatus, 'DELETE_IN_PROGRESS');
    await waitUntilStackDeleteComplete({ client: cfn, ...WAIT }, { StackName: name });
    await expectError(describeStack(name), 'ValidationError', `Stack with id ${name} does not exist`);
    const byArn = (await cfn.send(new DescribeStacksCommand({ StackName: stack.StackId }))).Stacks![0]!;
    assert.equal(byArn.StackStatus, 'DELETE_COMPLETE');
    assert.ok(byArn.DeletionTime);
    await assert.rejects(s3.send(new HeadBucketCommand({ Bucket: bucketName })));
    // Deleting a stack that does not exist succeeds.
    await cfn.send(new DeleteStackCommand({ StackName: name }));
    const deleted = await cfn.send(new ListStacksCommand({ StackStatusFilter: ['DELETE_COMPLETE'] }));
    assert.ok(deleted.StackSummaries!.some((s) => s.StackId === stack.StackId));
    const live = await cfn.send(new ListStacksCommand({ StackStatusFilter: ['CREATE_COMPLETE'] }));
    assert.ok(!live.StackSummaries!.some((s) => s.StackId === stack.StackId));
  });

  test('waitUntilStackUpdateComplete follows an update to the end', async () => {
    const name = stackName('wait');
    await cfn.send(new CreateStackCommand({ StackName: name, TemplateBody: template({ P: param('one') }) }));
    await waitUntilStackCreateComplete({ client: cfn, ...WAIT }, { StackName: name });
    await cfn.send(new UpdateStackCommand({ StackName: name, TemplateBody: template({ P: param('two') }) }));
    const result = await waitUntilStackUpdateComplete({ client: cfn, ...WAIT }, { StackName: name });
    assert.equal(result.state, 'SUCCESS');
  });
});

describe('rollback through the sandbox failure metadata', () => {
  test('a failed create rolls back to ROLLBACK_COMPLETE, deleting what was created', async () => {
    const name = stackName('rb');
    const body = template({
      Bucket: { Type: 'AWS::S3::Bucket' },
      Broken: { ...param('x'), DependsOn: 'Bucket', Metadata: failing('create', 'Simulated outage') },
    });
    await cfn.send(new CreateStackCommand({ StackName: name, TemplateBody: body }));
    const seen = await settle(name);
    assert.equal(seen[seen.length - 1], 'ROLLBACK_COMPLETE');
    assert.ok(seen.includes('CREATE_IN_PROGRESS') || seen.includes('ROLLBACK_IN_PROGRESS'));
    const all = await events(name);
    const failed = all.find((e) => e.LogicalResourceId === 'Broken' && e.ResourceStatus === 'CREATE_FAILED')!;
    assert.match(
      failed.ResourceStatusReason!,
      /^Resource handler returned message: "Simulated outage" \(RequestToken: [0-9a-f-]+, HandlerErrorCode: GeneralServiceException\)$/,
    );
    const rollback = all.find(
      (e) => e.LogicalResourceId === name && e.ResourceStatus === 'ROLLBACK_IN_PROGRESS',
    )!;
    assert.equal(
      rollback.ResourceStatusReason,
      'The following resource(s) failed to create: [Broken]. Rollback requested by user.',
    );
    const bucketDeleted = all.find(
      (e) => e.LogicalResourceId === 'Bucket' && e.ResourceStatus === 'DELETE_COMPLETE',
    )!;
    await assert.rejects(s3.send(new HeadBucketCommand({ Bucket: bucketDeleted.PhysicalResourceId })));

    // ROLLBACK_COMPLETE can only be deleted.
    const stack = await describeStack(name);
    await expectError(
      cfn.send(new UpdateStackCommand({ StackName: name, TemplateBody: body })),
      'ValidationError',
      `Stack:${stack.StackId} is in ROLLBACK_COMPLETE state and can not be updated.`,
    );
    await expectError(
      cfn.send(new CreateStackCommand({ StackName: name, TemplateBody: body })),
      'AlreadyExistsException',
      `Stack [${name}] already exists`,
    );
    await cfn.send(new DeleteStackCommand({ StackName: name }));
    await waitUntilStackDeleteComplete({ client: cfn, ...WAIT }, { StackName: name });
  });

  test('OnFailure DO_NOTHING leaves CREATE_FAILED', async () => {
    const name = stackName('nothing');
    await cfn.send(
      new CreateStackCommand({
        StackName: name,
        TemplateBody: template({ Broken: { ...param('x'), Metadata: failing('create') } }),
        OnFailure: 'DO_NOTHING',
      }),
    );
    const seen = await settle(name);
    assert.equal(seen[seen.length - 1], 'CREATE_FAILED');
    assert.equal(
      (await describeStack(name)).StackStatusReason,
      'The following resource(s) failed to create: [Broken]. ',
    );
  });

  test('a failed update rolls back to UPDATE_ROLLBACK_COMPLETE with the previous resources and outputs', async () => {
    const name = stackName('urb');
    const original = template(
      { Kept: param('v1'), Handle: { Type: 'AWS::CloudFormation::WaitConditionHandle' } },
      { Outputs: { Value: { Value: { 'Fn::GetAtt': ['Kept', 'Value'] } } } },
    );
    await cfn.send(new CreateStackCommand({ StackName: name, TemplateBody: original }));
    await waitUntilStackCreateComplete({ client: cfn, ...WAIT }, { StackName: name });
    const before = (await cfn.send(new ListStackResourcesCommand({ StackName: name })))
      .StackResourceSummaries!;

    const failingUpdate = template(
      {
        Kept: param('v2'),
        Handle: { Type: 'AWS::CloudFormation::WaitConditionHandle' },
        Added: { Type: 'AWS::S3::Bucket' },
        Broken: { ...param('x'), DependsOn: ['Kept', 'Added'], Metadata: failing('create', 'no capacity') },
      },
      { Outputs: { Value: { Value: { 'Fn::GetAtt': ['Kept', 'Value'] } }, Extra: { Value: 'new' } } },
    );
    await cfn.send(new UpdateStackCommand({ StackName: name, TemplateBody: failingUpdate }));
    const seen = await settle(name);
    assert.equal(seen[seen.length - 1], 'UPDATE_ROLLBACK_COMPLETE');
    const stackEvents = (await events(name))
      .filter((e) => e.LogicalResourceId === name)
      .map((e) => e.ResourceStatus);
    assert.deepEqual(stackEvents.slice(0, 4), [
      'UPDATE_ROLLBACK_COMPLETE',
      'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS',
      'UPDATE_ROLLBACK_IN_PROGRESS',
      'UPDATE_IN_PROGRESS',
    ]);
    const after = (await cfn.send(new ListStackResourcesCommand({ StackName: name })))
      .StackResourceSummaries!;
    assert.deepEqual(
      after.map((r) => [r.LogicalResourceId, r.PhysicalResourceId]).sort(),
      before.map((r) => [r.LogicalResourceId, r.PhysicalResourceId]).sort(),
    );
    const stack = await describeStack(name);
    assert.deepEqual(
      stack.Outputs!.map((o) => [o.OutputKey, o.OutputValue]),
      [['Value', 'v1']],
    );
    const template2 = await cfn.send(new GetTemplateCommand({ StackName: name }));
    assert.equal(template2.TemplateBody, original);
    const addedBucket = (await events(name)).find(
      (e) => e.LogicalResourceId === 'Added' && e.ResourceStatus === 'DELETE_COMPLETE',
    );
    assert.ok(addedBucket, 'the added bucket is deleted in cleanup');

    // The stack is updatable again, and a FailOn: [update] on an existing resource fails exactly that update.
    await cfn.send(
      new UpdateStackCommand({
        StackName: name,
        TemplateBody: template(
          {
            Kept: { ...param('v3'), Metadata: failing('update', 'update refused') },
            Handle: { Type: 'AWS::CloudFormation::WaitConditionHandle' },
          },
          { Outputs: { Value: { Value: { 'Fn::GetAtt': ['Kept', 'Value'] } } } },
        ),
      }),
    );
    const again = await settle(name);
    assert.equal(again[again.length - 1], 'UPDATE_ROLLBACK_COMPLETE');
    const updateFailed = (await events(name)).find((e) => e.ResourceStatus === 'UPDATE_FAILED')!;
    assert.match(updateFailed.ResourceStatusReason!, /"update refused"/);
    assert.equal((await describeStack(name)).StackStatusReason, undefined);
    assert.deepEqual(
      (await describeStack(name)).Outputs!.map((o) => o.OutputValue),
      ['v1'],
    );
  });
});

describe('providers', () => {
  test('IAM role, inline policy, managed policy and instance profile: created, referenced, deleted', async () => {
    const name = stackName('iam');
    const body = template(
      {
        Role: {
          Type: 'AWS::IAM::Role',
          Properties: { AssumeRolePolicyDocument: trustPolicy(), Path: '/deploy/' },
        },
        Managed: {
          Type: 'AWS::IAM::ManagedPolicy',
          Properties: {
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }],
            },
            Roles: [{ Ref: 'Role' }],
          },
        },
        Inline: {
          Type: 'AWS::IAM::Policy',
          Properties: {
            PolicyName: 'inline',
            PolicyDocument: { Version: '2012-10-17', Statement: [] },
            Roles: [{ Ref: 'Role' }],
          },
        },
        Profile: { Type: 'AWS::IAM::InstanceProfile', Properties: { Roles: [{ Ref: 'Role' }] } },
      },
      {
        Outputs: {
          RoleName: { Value: { Ref: 'Role' } },
          RoleArn: { Value: { 'Fn::GetAtt': ['Role', 'Arn'] } },
          RoleId: { Value: { 'Fn::GetAtt': ['Role', 'RoleId'] } },
          ManagedArn: { Value: { Ref: 'Managed' } },
          ProfileArn: { Value: { 'Fn::GetAtt': ['Profile', 'Arn'] } },
        },
      },
    );
    await cfn.send(
      new CreateStackCommand({ StackName: name, TemplateBody: body, Capabilities: ['CAPABILITY_IAM'] }),
    );
    await waitUntilStackCreateComplete({ client: cfn, ...WAIT }, { StackName: name });
    const outputs = Object.fromEntries(
      (await describeStack(name)).Outputs!.map((o) => [o.OutputKey, o.OutputValue]),
    );
    assert.match(outputs['RoleName']!, new RegExp(`^${name}-Role-[A-Z0-9]{13}$`));
    assert.equal(outputs['RoleArn'], `arn:aws:iam::${ACCOUNT_ID}:role/deploy/${outputs['RoleName']}`);
    assert.match(outputs['RoleId']!, /^AROA[A-Z0-9]{17}$/);
    assert.match(
      outputs['ManagedArn']!,
      new RegExp(`^arn:aws:iam::${ACCOUNT_ID}:policy/${name}-Managed-[A-Z0-9]{13}$`),
    );
    assert.match(
      outputs['ProfileArn']!,
      new RegExp(`^arn:aws:iam::${ACCOUNT_ID}:instance-profile/${name}-Profile-`),
    );
    const stackId = (await describeStack(name)).StackId!;
    await cfn.send(new DeleteStackCommand({ StackName: name }));
    await waitUntilStackDeleteComplete({ client: cfn, ...WAIT }, { StackName: name });
    const deletes = (await events(stackId))
      .filter((e) => e.ResourceStatus === 'DELETE_COMPLETE')
      .map((e) => e.LogicalResourceId);
    // Dependents first: the role goes last.
    assert.equal(deletes[0], name);
    assert.equal(deletes[1], 'Role');
  });

  test('a non-empty bucket fails the delete (DELETE_FAILED); RetainResources and DeletionPolicy Retain skip', async () => {
    const name = stackName('nonempty');
    await cfn.send(
      new CreateStackCommand({
        StackName: name,
        TemplateBody: template({
          Bucket: { Type: 'AWS::S3::Bucket' },
          Kept: { ...param('kept'), DeletionPolicy: 'Retain' },
        }),
      }),
    );
    await waitUntilStackCreateComplete({ client: cfn, ...WAIT }, { StackName: name });
    const bucket = (
      await cfn.send(new DescribeStackResourcesCommand({ StackName: name, LogicalResourceId: 'Bucket' }))
    ).StackResources![0]!.PhysicalResourceId!;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'file.txt', Body: 'content' }));
    await cfn.send(new DeleteStackCommand({ StackName: name }));
    const seen = await settle(name);
    assert.equal(seen[seen.length - 1], 'DELETE_FAILED');
    const stack = await describeStack(name);
    assert.equal(stack.StackStatusReason, 'The following resource(s) failed to delete: [Bucket]. ');
    const failed = (await events(name)).find(
      (e) => e.LogicalResourceId === 'Bucket' && e.ResourceStatus === 'DELETE_FAILED',
    )!;
    assert.match(
      failed.ResourceStatusReason!,
      /^Resource handler returned message: "The bucket you tried to delete is not empty \(Service: S3, Status Code: 409/,
    );
    const skipped = (await events(name)).find((e) => e.LogicalResourceId === 'Kept')!;
    assert.equal(skipped.ResourceStatus, 'DELETE_SKIPPED');

    await cfn.send(new DeleteStackCommand({ StackName: name, RetainResources: ['Bucket'] }));
    await waitUntilStackDeleteComplete({ client: cfn, ...WAIT }, { StackName: stack.StackId! });
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  });
});

describe('synchronous errors', () => {
  test('does not exist, already exists, termination protection', async () => {
    await expectError(
      describeStack('no-such-stack'),
      'ValidationError',
      'Stack with id no-such-stack does not exist',
    );
    await expectError(
      cfn.send(
        new UpdateStackCommand({ StackName: 'no-such-stack', TemplateBody: template({ P: param('a') }) }),
      ),
      'ValidationError',
      'Stack [no-such-stack] does not exist',
    );
    const name = stackName('protect');
    await cfn.send(
      new CreateStackCommand({
        StackName: name,
        TemplateBody: template({ P: param('a') }),
        EnableTerminationProtection: true,
      }),
    );
    await expectError(
      cfn.send(new CreateStackCommand({ StackName: name, TemplateBody: template({ P: param('a') }) })),
      'AlreadyExistsException',
      `Stack [${name}] already exists`,
    );
    // Still CREATE_IN_PROGRESS: not updatable.
    const stack = await describeStack(name);
    assert.equal(stack.EnableTerminationProtection, true);
    await expectError(
      cfn.send(new UpdateStackCommand({ StackName: name, TemplateBody: template({ P: param('b') }) })),
      'ValidationError',
      `Stack:${stack.StackId} is in CREATE_IN_PROGRESS state and can not be updated.`,
    );
    await waitUntilStackCreateComplete({ client: cfn, ...WAIT }, { StackName: name });
    await expectError(
      cfn.send(new DeleteStackCommand({ StackName: name })),
      'ValidationError',
      `Stack [${name}] cannot be deleted while TerminationProtection is enabled`,
    );
    await cfn.send(
      new UpdateTerminationProtectionCommand({ StackName: name, EnableTerminationProtection: false }),
    );
    await cfn.send(new DeleteStackCommand({ StackName: name }));
    await waitUntilStackDeleteComplete({ client: cfn, ...WAIT }, { StackName: name });
  });

  test('capabilities, size, unknown types, parameters', async () => {
    const role = {
      Type: 'AWS::IAM::Role',
      Properties: { AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [] } },
    };
    await expectError(
      cfn.send(
        new CreateStackCommand({ StackName: stackName('caps'), TemplateBody: template({ Role: role }) }),
      ),
      'InsufficientCapabilitiesException',
      'Requires capabilities : [CAPABILITY_IAM]',
    );
    const tooBig = template({ P: param('x'.repeat(51_200)) });
    await expectError(
      cfn.send(new CreateStackCommand({ StackName: stackName('big'), TemplateBody: tooBig })),
      'ValidationError',
      `1 validation error detected: Value '${tooBig}' at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to 51200`,
    );
    await expectError(
      cfn.send(
        new CreateStackCommand({
          StackName: stackName('types'),
          TemplateBody: template({ Q: { Type: 'AWS::SQS::Queue' } }),
        }),
      ),
      'ValidationError',
      'Template format error: Unrecognized resource types: [AWS::SQS::Queue]',
    );
    const withParams = template(
      { P: param({ Ref: 'Env' }) },
      { Parameters: { Env: { Type: 'String', AllowedValues: ['dev', 'prod'] } } },
    );
    await expectError(
      cfn.send(new CreateStackCommand({ StackName: stackName('params'), TemplateBody: withParams })),
      'ValidationError',
      'Parameters: [Env] must have values',
    );
    await expectError(
      cfn.send(
        new CreateStackCommand({
          StackName: stackName('params'),
          TemplateBody: withParams,
          Parameters: [{ ParameterKey: 'Env', ParameterValue: 'test' }],
        }),
      ),
      'ValidationError',
      "Parameter 'Env' must be one of AllowedValues",
    );
    await expectError(
      cfn.send(
        new CreateStackCommand({ StackName: stackName('url'), TemplateURL: 'ftp://example.com/t.json' }),
      ),
      'ValidationError',
      'TemplateURL must be a supported URL.',
    );
    await expectError(
      cfn.send(
        new CreateStackCommand({
          StackName: stackName('url'),
          TemplateURL: `${sandbox.url}/no-bucket/t.json`,
        }),
      ),
      'ValidationError',
      'TemplateURL must reference a valid S3 object to which you have access.',
    );
  });

  test('ValidateTemplate reports parameters (NoEcho), capabilities and their reason', async () => {
    const out = await cfn.send(
      new ValidateTemplateCommand({
        TemplateBody: template(
          {
            Role: {
              Type: 'AWS::IAM::Role',
              Properties: { AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [] } },
            },
          },
          { Description: 'demo', Parameters: { Secret: { Type: 'String', NoEcho: true, Default: 'x' } } },
        ),
      }),
    );
    assert.equal(out.Description, 'demo');
    assert.deepEqual(out.Capabilities, ['CAPABILITY_IAM']);
    assert.ok(out.CapabilitiesReason);
    assert.equal(out.Parameters![0]!.ParameterKey, 'Secret');
    assert.equal(out.Parameters![0]!.NoEcho, true);
  });
});

describe('change sets', () => {
  const body = template({ P: param('one'), Bucket: { Type: 'AWS::S3::Bucket' } });

  test('CREATE on a new stack: REVIEW_IN_PROGRESS, observable computation, execute, empty change set', async () => {
    const name = stackName('cs');
    const created = await cfn.send(
      new CreateChangeSetCommand({
        StackName: name,
        ChangeSetName: 'first',
        ChangeSetType: 'CREATE',
        TemplateBody: body,
      }),
    );
    assert.match(created.Id!, /^arn:aws:cloudformation:us-east-1:\d{12}:changeSet\/first\/[0-9a-f-]{36}$/);
    const stack = await describeStack(name);
    assert.equal(stack.StackStatus, 'REVIEW_IN_PROGRESS');
    assert.equal(stack.StackId, created.StackId);
    const reviewEvents = await events(name);
    assert.deepEqual(
      reviewEvents.map((e) => [e.ResourceStatus, e.ResourceStatusReason]),
      [['REVIEW_IN_PROGRESS', 'User Initiated']],
    );

    const pending = await cfn.send(new DescribeChangeSetCommand({ StackName: name, ChangeSetName: 'first' }));
    assert.ok(['CREATE_PENDING', 'CREATE_IN_PROGRESS'].includes(pending.Status!), pending.Status);
    assert.equal(pending.ExecutionStatus, 'UNAVAILABLE');
    await expectError(
      cfn.send(new ExecuteChangeSetCommand({ StackName: name, ChangeSetName: 'first' })),
      'InvalidChangeSetStatusException',
      /^ChangeSet \[arn:aws:cloudformation:.*changeSet\/first\/.*\] cannot be executed in its current status of \[CREATE_(PENDING|IN_PROGRESS)\]$/,
    );
    await waitUntilChangeSetCreateComplete(
      { client: cfn, ...WAIT },
      { StackName: name, ChangeSetName: 'first' },
    );
    const ready = await cfn.send(
      new DescribeChangeSetCommand({ StackName: name, ChangeSetName: created.Id }),
    );
    assert.equal(ready.Status, 'CREATE_COMPLETE');
    assert.equal(ready.ExecutionStatus, 'AVAILABLE');
    assert.deepEqual(
      ready
        .Changes!.map((c) => [
          c.ResourceChange!.Action,
          c.ResourceChange!.LogicalResourceId,
          c.ResourceChange!.ResourceType,
        ])
        .sort(),
      [
        ['Add', 'Bucket', 'AWS::S3::Bucket'],
        ['Add', 'P', 'AWS::SSM::Parameter'],
      ],
    );
    await expectError(
      cfn.send(
        new CreateChangeSetCommand({
          StackName: name,
          ChangeSetName: 'other',
          ChangeSetType: 'UPDATE',
          TemplateBody: body,
        }),
      ),
      'ValidationError',
      `Stack [${name}] does not exist`,
    );

    await cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: created.Id }));
    await waitUntilStackCreateComplete({ client: cfn, ...WAIT }, { StackName: name });
    const executed = await cfn.send(new DescribeChangeSetCommand({ ChangeSetName: created.Id }));
    assert.equal(executed.ExecutionStatus, 'EXECUTE_COMPLETE');
    assert.equal(executed.Status, 'CREATE_COMPLETE');
    assert.equal((await describeStack(name)).ChangeSetId, created.Id);

    await expectError(
      cfn.send(
        new CreateChangeSetCommand({
          StackName: name,
          ChangeSetName: 'again',
          ChangeSetType: 'CREATE',
          TemplateBody: body,
        }),
      ),
      'ValidationError',
      `Stack [${name}] already exists and cannot be created again with the changeSet [again].`,
    );

    // The same template again: FAILED with AWS's reason, and not executable.
    await cfn.send(
      new CreateChangeSetCommand({ StackName: name, ChangeSetName: 'empty', TemplateBody: body }),
    );
    await waitUntilChangeSetCreateComplete(
      { client: cfn, ...WAIT },
      { StackName: name, ChangeSetName: 'empty' },
    ).catch(() => undefined);
    const empty = await cfn.send(new DescribeChangeSetCommand({ StackName: name, ChangeSetName: 'empty' }));
    assert.equal(empty.Status, 'FAILED');
    assert.equal(empty.ExecutionStatus, 'UNAVAILABLE');
    assert.equal(
      empty.StatusReason,
      "The submitted information didn't contain changes. Submit different information to create a change set.",
    );
    await expectError(
      cfn.send(new ExecuteChangeSetCommand({ StackName: name, ChangeSetName: 'empty' })),
      'InvalidChangeSetStatusException',
      `ChangeSet [${empty.ChangeSetId}] cannot be executed in its current status of [FAILED]`,
    );

    // A real modification: Modify with Replacement, executed; the executed one deletes its siblings.
    const modified = template({
      P: param('two'),
      Bucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: `${name}-b`.toLowerCase() } },
    });
    await cfn.send(
      new CreateChangeSetCommand({ StackName: name, ChangeSetName: 'modify', TemplateBody: modified }),
    );
    await waitUntilChangeSetCreateComplete(
      { client: cfn, ...WAIT },
      { StackName: name, ChangeSetName: 'modify' },
    );
    const modify = await cfn.send(new DescribeChangeSetCommand({ StackName: name, ChangeSetName: 'modify' }));
    const byId = Object.fromEntries(
      modify.Changes!.map((c) => [c.ResourceChange!.LogicalResourceId, c.ResourceChange!]),
    );
    assert.equal(byId['P']!.Action, 'Modify');
    assert.equal(byId['P']!.Replacement, 'False');
    assert.deepEqual(byId['P']!.Scope, ['Properties']);
    assert.equal(byId['P']!.Details![0]!.Target!.Name, 'Value');
    assert.equal(byId['Bucket']!.Replacement, 'True');
    const listed = await cfn.send(new ListChangeSetsCommand({ StackName: name }));
    assert.deepEqual(listed.Summaries!.map((s) => s.ChangeSetName).sort(), ['empty', 'first', 'modify']);
    await cfn.send(new ExecuteChangeSetCommand({ StackName: name, ChangeSetName: 'modify' }));
    await waitUntilStackUpdateComplete({ client: cfn, ...WAIT }, { StackName: name });
    const remaining = await cfn.send(new ListChangeSetsCommand({ StackName: name }));
    assert.deepEqual(
      remaining.Summaries!.map((s) => [s.ChangeSetName, s.ExecutionStatus]),
      [['modify', 'EXECUTE_COMPLETE']],
    );
    await expectError(
      cfn.send(new ExecuteChangeSetCommand({ StackName: name, ChangeSetName: 'modify' })),
      'InvalidChangeSetStatusException',
      /cannot be executed in its current execution status of \[EXECUTE_COMPLETE\]$/,
    );

    await cfn.send(new DeleteChangeSetCommand({ StackName: name, ChangeSetName: 'modify' }));
    await expectError(
      cfn.send(new DescribeChangeSetCommand({ StackName: name, ChangeSetName: 'modify' })),
      'ChangeSetNotFoundException',
      'ChangeSet [modify] does not exist',
      404,
    );
  });

  test('capabilities are checked when the change set is created', async () => {
    await expectError(
      cfn.send(
        new CreateChangeSetCommand({
          StackName: stackName('cscaps'),
          ChangeSetName: 'c',
          ChangeSetType: 'CREATE',
          TemplateBody: template({
            Role: {
              Type: 'AWS::IAM::Role',
              Properties: {
                RoleName: 'named',
                AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [] },
              },
            },
          }),
          Capabilities: ['CAPABILITY_IAM'],
        }),
      ),
      'InsufficientCapabilitiesException',
      'Requires capabilities : [CAPABILITY_NAMED_IAM]',
    );
  });
});

describe('templates, parameters and exports', () => {
  test('TemplateURL is read from the sandbox S3 (path style and the AWS virtual-host form)', async () => {
    const bucket = `templates-${process.pid}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const body = template({ P: param('from-s3') });
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'dir/stack.json', Body: body }));
    for (const url of [
      `${sandbox.url}/${bucket}/dir/stack.json`,
      `https://${bucket}.s3.amazonaws.com/dir/stack.json`,
    ]) {
      const name = stackName('url');
      await cfn.send(new CreateStackCommand({ StackName: name, TemplateURL: url }));
      await waitUntilStackCreateComplete({ client: cfn, ...WAIT }, { StackName: name });
      assert.equal((await cfn.send(new GetTemplateCommand({ StackName: name }))).TemplateBody, body);
    }
    const validated = await cfn.send(
      new ValidateTemplateCommand({ TemplateURL: `${sandbox.url}/${bucket}/dir/stack.json` }),
    );
    assert.deepEqual(validated.Parameters, []);
  });

  test('NoEcho parameters are shown as ****', async () => {
    const name = stackName('noecho');
    await cfn.send(
      new CreateStackCommand({
        StackName: name,
        TemplateBody: template(
          { P: param({ Ref: 'Plain' }) },
          { Parameters: { Secret: { Type: 'String', NoEcho: true }, Plain: { Type: 'String' } } },
        ),
        Parameters: [
          { ParameterKey: 'Secret', ParameterValue: 'hunter2' },
          { ParameterKey: 'Plain', ParameterValue: 'visible' },
        ],
      }),
    );
    const stack = await describeStack(name);
    assert.deepEqual(Object.fromEntries(stack.Parameters!.map((p) => [p.ParameterKey, p.ParameterValue])), {
      Secret: '****',
      Plain: 'visible',
    });
  });

  test('exports: ImportValue, uniqueness, ListExports, in-use exports', async () => {
    const exportName = `shared-${process.pid}`;
    const producer = stackName('producer');
    await cfn.send(
      new CreateStackCommand({
        StackName: producer,
        TemplateBody: template(
          { P: param('exported-value') },
          { Outputs: { Out: { Value: { 'Fn::GetAtt': ['P', 'Value'] }, Export: { Name: exportName } } } },
        ),
      }),
    );
    await waitUntilStackCreateComplete({ client: cfn, ...WAIT }, { StackName: producer });
    const exports = await cfn.send(new ListExportsCommand({}));
    const entry = exports.Exports!.find((e) => e.Name === exportName)!;
    assert.equal(entry.Value, 'exported-value');
    assert.equal(entry.ExportingStackId, (await describeStack(producer)).StackId);

    const consumer = stackName('consumer');
    await cfn.send(
      new CreateStackCommand({
        StackName: consumer,
        TemplateBody: template(
          { P: param({ 'Fn::ImportValue': exportName }) },
          { Outputs: { Seen: { Value: { 'Fn::GetAtt': ['P', 'Value'] } } } },
        ),
      }),
    );
    await waitUntilStackCreateComplete({ client: cfn, ...WAIT }, { StackName: consumer });
    assert.equal((await describeStack(consumer)).Outputs![0]!.OutputValue, 'exported-value');

    const rival = stackName('rival');
    await cfn.send(
      new CreateStackCommand({
        StackName: rival,
        TemplateBody: template(
          { P: param('x') },
          { Outputs: { Out: { Value: 'y', Export: { Name: exportName } } } },
        ),
      }),
    );
    const seen = await settle(rival);
    assert.equal(seen[seen.length - 1], 'ROLLBACK_COMPLETE');
    const reason = (await events(rival)).find(
      (e) => e.ResourceStatus === 'ROLLBACK_IN_PROGRESS',
    )!.ResourceStatusReason;
    assert.equal(
      reason,
      `Export with name ${exportName} is already exported by stack ${producer}. Rollback requested by user.`,
    );

    await expectError(
      cfn.send(
        new CreateStackCommand({
          StackName: stackName('imp'),
          TemplateBody: template({ P: param({ 'Fn::ImportValue': 'nope-nothing' }) }),
        }),
      ),
      'ValidationError',
      'No export named nope-nothing found.',
    );

    await cfn.send(new DeleteStackCommand({ StackName: producer }));
    const deleting = await settle(producer);
    assert.equal(deleting[deleting.length - 1], 'DELETE_FAILED');
    assert.equal(
      (await describeStack(producer)).StackStatusReason,
      `Export ${exportName} cannot be deleted as it is in use by ${consumer}`,
    );
  });
});

describe('paging and identity', () => {
  test('paginateDescribeStackEvents and paginateListStacks page with NextToken', async () => {
    const name = stackName('many');
    const handles = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [
        `Handle${i}`,
        { Type: 'AWS::CloudFormation::WaitConditionHandle' },
      ]),
    );
    await cfn.send(new CreateStackCommand({ StackName: name, TemplateBody: template(handles) }));
    await waitUntilStackCreateComplete({ client: cfn, ...WAIT }, { StackName: name });
    const pages: number[] = [];
    const collected: StackEvent[] = [];
    for await (const result of paginateDescribeStackEvents({ client: cfn }, { StackName: name })) {
      pages.push(result.StackEvents!.length);
      collected.push(...result.StackEvents!);
    }
    assert.equal(collected.length, 40 * 3 + 2);
    assert.ok(pages.length >= 2, `expected several pages, got ${pages.join(',')}`);
    assert.equal(new Set(collected.map((e) => e.EventId)).size, collected.length);
    assert.equal(collected[collected.length - 1]!.ResourceStatusReason, 'User Initiated');

    const names: string[] = [];
    for await (const result of paginateListStacks({ client: cfn }, {}))
      names.push(...result.StackSummaries!.map((s) => s.StackName!));
    assert.ok(names.includes(name));
  });

  test('a stack-created OIDC provider and role are honoured by STS', async () => {
    const name = stackName('oidc');
    const body = template(
      {
        Provider: {
          Type: 'AWS::IAM::OIDCProvider',
          Properties: { Url: ISSUER, ClientIdList: [AUDIENCE], ThumbprintList: [] },
        },
        Role: {
          Type: 'AWS::IAM::Role',
          DependsOn: 'Provider',
          Properties: {
            RoleName: `deployer-${process.pid}`,
            AssumeRolePolicyDocument: trustPolicy(),
            MaxSessionDuration: 7200,
          },
        },
      },
      {
        Outputs: {
          ProviderArn: { Value: { Ref: 'Provider' } },
          RoleArn: { Value: { 'Fn::GetAtt': ['Role', 'Arn'] } },
        },
      },
    );
    await cfn.send(
      new CreateStackCommand({ StackName: name, TemplateBody: body, Capabilities: ['CAPABILITY_NAMED_IAM'] }),
    );
    await waitUntilStackCreateComplete({ client: cfn, ...WAIT }, { StackName: name });
    const outputs = Object.fromEntries(
      (await describeStack(name)).Outputs!.map((o) => [o.OutputKey, o.OutputValue]),
    );
    assert.equal(outputs['ProviderArn'], PROVIDER_ARN);
    assert.equal(outputs['RoleArn'], `arn:aws:iam::${ACCOUNT_ID}:role/deployer-${process.pid}`);

    const token = await sandbox.control.mintToken('entra', { aud: AUDIENCE, sub: IDENTITY_OBJECT_ID });
    const sts = new STSClient({
      endpoint: sandbox.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const assumed = await sts.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: outputs['RoleArn'],
        RoleSessionName: 'pipeline',
        WebIdentityToken: token,
      }),
    );
    const session = new STSClient({
      endpoint: sandbox.url,
      region: 'us-east-1',
      credentials: {
        accessKeyId: assumed.Credentials!.AccessKeyId!,
        secretAccessKey: assumed.Credentials!.SecretAccessKey!,
        sessionToken: assumed.Credentials!.SessionToken!,
      },
    });
    const identity = await session.send(new GetCallerIdentityCommand({}));
    assert.match(identity.Arn!, new RegExp(`:assumed-role/deployer-${process.pid}/pipeline$`));

    // Deleting the stack removes the trust: STS refuses afterwards.
    await cfn.send(new DeleteStackCommand({ StackName: name }));
    await waitUntilStackDeleteComplete({ client: cfn, ...WAIT }, { StackName: name });
    await assert.rejects(
      sts.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: outputs['RoleArn'],
          RoleSessionName: 'pipeline',
          WebIdentityToken: token,
        }),
      ),
    );
  });
});
