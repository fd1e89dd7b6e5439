// Rate-based fault injection as clients see it: every service's throttling and 5xx in its own wire shape, which
// SDK v3 and the AWS CLI classify as retryable (they retry, the sandbox counts the attempts); resets before
// processing; `duplicate` processes the request once and loses the answer; the HTTP control API.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  CreateStackCommand,
  DescribeChangeSetCommand,
  ListStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { CodeDeployClient, ListApplicationsCommand } from '@aws-sdk/client-codedeploy';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { FaultRule, FaultStats } from '../src/index';
import {
  awsCliEnv,
  awsCliVersion,
  ROOT_KEYS,
  startTestSandbox,
  withTempDir,
  type TestSandbox,
} from './support';

let test_: TestSandbox;
const common = () => ({ region: 'us-east-1', endpoint: test_.sandbox.url, credentials: ROOT_KEYS });
const TEMPLATE = JSON.stringify({
  Resources: { Handle: { Type: 'AWS::CloudFormation::WaitConditionHandle' } },
});

before(async () => {
  test_ = await startTestSandbox({ faultSeed: 1234, config: { rootCredentials: [ROOT_KEYS] } });
});
after(() => test_.close());

/** One call per service, as a client of that service makes it. */
function calls(maxAttempts: number): Record<string, () => Promise<unknown>> {
  const c = { ...common(), maxAttempts };
  return {
    cloudformation: () => new CloudFormationClient(c).send(new ListStacksCommand({})),
    codedeploy: () => new CodeDeployClient(c).send(new ListApplicationsCommand({})),
    s3: () =>
      new S3Client({ ...c, forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: 'faulty' })),
    ec2: () => new EC2Client(c).send(new DescribeInstancesCommand({})),
    sts: () => new STSClient(c).send(new GetCallerIdentityCommand({})),
    iam: () => new IAMClient(c).send(new ListRolesCommand({})),
    autoscaling: () => new AutoScalingClient(c).send(new DescribeAutoScalingGroupsCommand({})),
    elbv2: () => new ElasticLoadBalancingV2Client(c).send(new DescribeLoadBalancersCommand({})),
  };
}

async function failure(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Record<string, unknown>;
  }
  assert.fail('expected the call to fail');
}

async function withRules<T>(
  rules: FaultRule[],
  fn: () => Promise<T>,
): Promise<{ result: T; stats: FaultStats }> {
  test_.sandbox.control.setFaultRules(rules);
  try {
    const result = await fn();
    return { result, stats: test_.sandbox.control.faultStats() };
  } finally {
    test_.sandbox.control.setFaultRules([]);
  }
}

describe('throttling and 5xx in each service’s own shape, retried by SDK v3', () => {
  const throttling: Record<string, [string, number]> = {
    cloudformation: ['Throttling', 400],
    codedeploy: ['ThrottlingException', 400],
    s3: ['SlowDown', 503],
    ec2: ['RequestLimitExceeded', 503],
    sts: ['Throttling', 400],
    iam: ['Throttling', 400],
    autoscaling: ['Throttling', 400],
    elbv2: ['Throttling', 400],
  };
  for (const [service, [code, status]] of Object.entries(throttling)) {
    test(`${service}: ${code} (${status}), retried`, async () => {
      const { result: error, stats } = await withRules([{ service, throttle: 1 }], () =>
        failure(calls(2)[service]!()),
      );
      assert.equal(error.name, code);
      assert.equal((error.$metadata as { httpStatusCode?: number }).httpStatusCode, status);
      // Two requests reached the sandbox: the SDK classified the first answer as retryable.
      assert.equal(stats.requests, 2);
      assert.equal(stats.injected.throttle, 2);
    });
  }

  test('5xx: InternalFailure 500 / ServiceUnavailable 503 (S3: InternalError / ServiceUnavailable), retried', async () => {
    const seen = new Set<string>();
    for (const service of Object.keys(throttling)) {
      const { result: error, stats } = await withRules([{ service, serverError: 1 }], () =>
        failure(calls(3)[service]!()),
      );
      const status = (error.$metadata as { httpStatusCode?: number }).httpStatusCode;
      assert.ok(status === 500 || status === 503, `${service}: ${String(status)}`);
      seen.add(`${service}:${String(error.name)}`);
      assert.equal(stats.requests, 3, `${service}: retried twice`);
      assert.equal(stats.injected.serverError, 3);
    }
    assert.ok([...seen].some((name) => /^cloudformation:(InternalFailure|ServiceUnavailable)$/.test(name)));
    assert.ok([...seen].some((name) => /^s3:(InternalError|ServiceUnavailable)$/.test(name)));
  });

  test('reset: the socket is dropped before processing (ECONNRESET), and the SDK retries', async () => {
    const { result: error, stats } = await withRules([{ service: 'cloudformation', reset: 1 }], () =>
      failure(
        new CloudFormationClient({ ...common(), maxAttempts: 3 }).send(
          new CreateStackCommand({ StackName: 'never-created', TemplateBody: TEMPLATE }),
        ),
      ),
    );
    assert.equal(error.code, 'ECONNRESET');
    assert.equal(stats.requests, 3);
    assert.equal(stats.injected.reset, 3);
    const stacks = await new CloudFormationClient(common()).send(new ListStacksCommand({}));
    assert.ok(!stacks.StackSummaries?.some((s) => s.StackName === 'never-created'), 'nothing was processed');
  });

  test('a call succeeds through a 50% fault rate (rules on one operation only), with slow answers', async () => {
    const { stats } = await withRules(
      [
        { service: 'sts', operation: 'GetCallerIdentity', throttle: 0.1, serverError: 0.2, reset: 0.2 },
        { service: 'sts', slow: 0.5, slowMs: 20 },
      ],
      async () => {
        const sts = new STSClient({ ...common(), maxAttempts: 10 });
        for (let i = 0; i < 10; i++) {
          const who = await sts.send(new GetCallerIdentityCommand({}));
          assert.equal(who.Account, '123456789012');
        }
      },
    );
    const { throttle, serverError, reset, slow } = stats.injected;
    assert.ok(throttle + serverError + reset > 0, JSON.stringify(stats));
    assert.ok(slow > 0, JSON.stringify(stats));
    assert.equal(stats.requests, 10 + throttle + serverError + reset);
  });
});

describe('duplicate: processed once, answer lost', () => {
  test('CreateStack: one stack however often the lost answer is retried; the token makes retries idempotent', async () => {
    const cfn = new CloudFormationClient({ ...common(), maxAttempts: 3 });
    const { result: error, stats } = await withRules(
      [{ service: 'cloudformation', operation: 'CreateStack', duplicate: 1 }],
      () =>
        failure(
          cfn.send(
            new CreateStackCommand({
              StackName: 'dup-stack',
              TemplateBody: TEMPLATE,
              ClientRequestToken: 'tok-1',
            }),
          ),
        ),
    );
    assert.equal(error.code, 'ECONNRESET', 'the client never got an answer');
    assert.equal(stats.injected.duplicate, 3);
    const live = (await cfn.send(new ListStacksCommand({}))).StackSummaries?.filter(
      (s) => s.StackName === 'dup-stack' && s.StackStatus !== 'DELETE_COMPLETE',
    );
    assert.equal(live?.length, 1, 'exactly one stack');
    // As on AWS: the same token answers with the same stack; another token is a second create.
    const again = await cfn.send(
      new CreateStackCommand({ StackName: 'dup-stack', TemplateBody: TEMPLATE, ClientRequestToken: 'tok-1' }),
    );
    assert.equal(again.StackId, live?.[0]?.StackId);
    const other = await failure(
      cfn.send(
        new CreateStackCommand({
          StackName: 'dup-stack',
          TemplateBody: TEMPLATE,
          ClientRequestToken: 'tok-2',
        }),
      ),
    );
    assert.equal(other.name, 'AlreadyExistsException');
  });

  test('CreateChangeSet: the retry with the same ClientToken gets the change set the first attempt created', async () => {
    const cfn = new CloudFormationClient({ ...common(), maxAttempts: 1 });
    const input = {
      StackName: 'dup-changeset',
      ChangeSetName: 'keyless-1',
      ChangeSetType: 'CREATE' as const,
      TemplateBody: TEMPLATE,
      ClientToken: 'tok-cs',
    };
    const { result: error } = await withRules(
      [{ service: 'cloudformation', operation: 'CreateChangeSet', duplicate: 1 }],
      () => failure(cfn.send(new CreateChangeSetCommand(input))),
    );
    assert.equal(error.code, 'ECONNRESET');
    const described = await cfn.send(
      new DescribeChangeSetCommand({ StackName: 'dup-changeset', ChangeSetName: 'keyless-1' }),
    );
    const retried = await cfn.send(new CreateChangeSetCommand(input));
    assert.equal(retried.Id, described.ChangeSetId);
    const another = await failure(cfn.send(new CreateChangeSetCommand({ ...input, ClientToken: 'other' })));
    assert.equal(another.name, 'AlreadyExistsException');
  });

  test('PutObject: the object is stored although the uploader saw a reset', async () => {
    const s3 = new S3Client({ ...common(), forcePathStyle: true, maxAttempts: 1 });
    await s3.send(new CreateBucketCommand({ Bucket: 'dup-bucket' }));
    const { result: error, stats } = await withRules(
      [{ service: 's3', operation: 'PutObject', duplicate: 1 }],
      () =>
        failure(s3.send(new PutObjectCommand({ Bucket: 'dup-bucket', Key: 'a.txt', Body: 'stored once' }))),
    );
    assert.equal(error.code, 'ECONNRESET');
    assert.deepEqual(stats, {
      requests: 1,
      injected: { throttle: 0, serverError: 0, reset: 0, slow: 0, duplicate: 1 },
    });
    const object = await s3.send(new GetObjectCommand({ Bucket: 'dup-bucket', Key: 'a.txt' }));
    assert.equal(await object.Body?.transformToString(), 'stored once');
  });
});

describe('control API and the AWS CLI', () => {
  test('PUT /_sandbox/fault-rules and GET /_sandbox/fault-stats', async () => {
    const url = test_.sandbox.url;
    const put = (body: string) =>
      fetch(`${url}/_sandbox/fault-rules`, {
        method: 'PUT',
        body,
        headers: { 'content-type': 'application/json' },
      });
    assert.equal((await put(JSON.stringify([{ service: 'iam', throttle: 1 }]))).status, 204);
    const iam = new IAMClient({ ...common(), maxAttempts: 1 });
    assert.equal((await failure(iam.send(new ListRolesCommand({})))).name, 'Throttling');
    const stats = (await (await fetch(`${url}/_sandbox/fault-stats`)).json()) as FaultStats;
    assert.deepEqual(stats, {
      requests: 1,
      injected: { throttle: 1, serverError: 0, reset: 0, slow: 0, duplicate: 0 },
    });
    const bad = await put(JSON.stringify([{ service: 'iam', throttle: 3 }]));
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /body\[0\]\.throttle must be a rate/);
    assert.equal((await put('[]')).status, 204);
    await iam.send(new ListRolesCommand({}));
    assert.equal(test_.sandbox.control.faultStats().injected.throttle, 0);
  });

  test('the AWS CLI retries the injected throttling and 5xx of every protocol', async (t) => {
    if (!(await awsCliVersion())) {
      t.skip('AWS CLI not installed: `aws` is not on PATH');
      return;
    }
    await withTempDir(async (dir) => {
      const env = { ...awsCliEnv(dir), AWS_MAX_ATTEMPTS: '2', AWS_RETRY_MODE: 'standard' };
      const run = (args: string[]) =>
        promisify(execFile)('aws', [...args, '--endpoint-url', test_.sandbox.url], {
          env,
          timeout: 60_000,
        }).then(
          () => '',
          (error: { stderr?: string }) => error.stderr ?? '',
        );
      test_.sandbox.control.setFaultRules([
        { service: 'cloudformation', throttle: 1 },
        { service: 'codedeploy', throttle: 1 },
        { service: 's3', throttle: 1 },
        { service: 'ec2', serverError: 1 },
      ]);
      try {
        const [cfn, deploy, s3, ec2] = await Promise.all([
          run(['cloudformation', 'list-stacks']),
          run(['deploy', 'list-applications']),
          run(['s3api', 'list-buckets']),
          run(['ec2', 'describe-instances']),
        ]);
        assert.match(cfn, /\(Throttling\).*\(reached max retries: 1\): Rate exceeded/);
        assert.match(deploy, /\(ThrottlingException\).*\(reached max retries: 1\)/);
        assert.match(s3, /\(SlowDown\).*\(reached max retries: 1\)/);
        assert.match(ec2, /\((InternalError|Unavailable)\).*\(reached max retries: 1\)/);
        assert.equal(test_.sandbox.control.faultStats().requests, 8);
      } finally {
        test_.sandbox.control.setFaultRules([]);
      }
    });
  });
});
