import { test } from 'node:test';
import assert from 'node:assert/strict';
import { injectedFailure } from './failure-injection';
import { runInDependencyOrder, dependents } from './ordering';
import { page } from './paging';
import { generatedName } from './providers/support';
import { createDefaultRegistry } from './providers';
import { s3Location } from './template-source';

const BASE = 'http://127.0.0.1:4566';

test('TemplateURL forms map to the sandbox S3 store; others are unsupported', () => {
  assert.deepEqual(s3Location(`${BASE}/bucket/dir/t.json`, BASE), { bucket: 'bucket', key: 'dir/t.json' });
  assert.deepEqual(s3Location('http://localhost:4566/b/k%20x.yaml', BASE), { bucket: 'b', key: 'k x.yaml' });
  assert.deepEqual(s3Location('http://b.localhost:4566/k.yaml', BASE), { bucket: 'b', key: 'k.yaml' });
  assert.deepEqual(s3Location('https://b.s3.amazonaws.com/k.yaml', BASE), { bucket: 'b', key: 'k.yaml' });
  assert.deepEqual(s3Location('https://b.s3.eu-west-1.amazonaws.com/a/k', BASE), { bucket: 'b', key: 'a/k' });
  assert.deepEqual(s3Location('https://s3.amazonaws.com/b/k', BASE), { bucket: 'b', key: 'k' });
  assert.deepEqual(s3Location('https://s3-us-west-2.amazonaws.com/b/k', BASE), { bucket: 'b', key: 'k' });
  assert.equal(s3Location('s3://b/k', BASE), undefined);
  assert.equal(s3Location('https://example.com/b/k', BASE), undefined);
  assert.equal(s3Location('http://127.0.0.1:9999/b/k', BASE), undefined, 'another port is not this sandbox');
  assert.equal(s3Location(`${BASE}/bucket-only`, BASE), undefined);
});

test('failure injection reads Metadata Keyless::Sandbox and nothing else', () => {
  const metadata = { 'Keyless::Sandbox': { FailOn: ['create', 'Delete'], Reason: 'boom' } };
  assert.equal(injectedFailure(metadata, 'create'), 'boom');
  assert.equal(injectedFailure(metadata, 'delete'), 'boom');
  assert.equal(injectedFailure(metadata, 'update'), undefined);
  assert.match(injectedFailure({ 'Keyless::Sandbox': { FailOn: 'update' } }, 'update') ?? '', /injected/);
  assert.equal(injectedFailure({ Other: { FailOn: ['create'] } }, 'create'), undefined);
  assert.equal(injectedFailure(undefined, 'create'), undefined);
});

test('dependency ordering runs independent work in parallel and skips dependents of failures', async () => {
  const graph = new Map([
    ['A', new Set<string>()],
    ['B', new Set(['A'])],
    ['C', new Set<string>()],
    ['D', new Set(['B', 'C'])],
  ]);
  const started: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const ok = await runInDependencyOrder(
    graph.keys(),
    (id) => graph.get(id) ?? [],
    async (id) => {
      started.push(id);
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
      return true;
    },
  );
  assert.equal(ok, true);
  assert.ok(started.indexOf('B') > started.indexOf('A'));
  assert.equal(started[started.length - 1], 'D');
  assert.equal(maxInFlight, 2, 'A and C run together');

  const ran: string[] = [];
  const failed = await runInDependencyOrder(
    graph.keys(),
    (id) => graph.get(id) ?? [],
    async (id) => {
      ran.push(id);
      return id !== 'B';
    },
  );
  assert.equal(failed, false);
  assert.ok(!ran.includes('D'));

  const reverse = dependents(graph);
  assert.deepEqual([...(reverse.get('A') ?? [])], ['B']);
  assert.deepEqual([...(reverse.get('B') ?? [])].sort(), ['D']);
});

test('NextToken paging is opaque and scoped', () => {
  const items = Array.from({ length: 5 }, (_, i) => i);
  const first = page(items, undefined, 2, 'x');
  assert.deepEqual(first.items, [0, 1]);
  const second = page(items, first.nextToken, 2, 'x');
  assert.deepEqual(second.items, [2, 3]);
  assert.deepEqual(page(items, second.nextToken, 2, 'x'), { items: [4], nextToken: undefined });
  assert.throws(() => page(items, first.nextToken, 2, 'y'), /Invalid NextToken/);
});

test('generated names fit AWS limits: <stack>-<logicalId>-<suffix>', () => {
  const request = {
    logicalId: 'ArtifactsBucketForTheApplication',
    stackName: 'a-rather-long-stack-name-for-the-blog-sample-application',
    stackId: 'arn',
    properties: {},
    requestToken: 't',
  };
  const bucket = generatedName(request, { maxLength: 63, suffixLength: 12, lowerCase: true });
  assert.ok(bucket.length <= 63);
  assert.match(bucket, /^[a-z0-9-]+-[a-z0-9]{12}$/);
  assert.match(
    generatedName({ ...request, stackName: 's', logicalId: 'Role' }, { maxLength: 64 }),
    /^s-Role-[A-Z0-9]{13}$/,
  );
});

test("the registry knows this issue's types and refuses duplicates", () => {
  const registry = createDefaultRegistry();
  assert.deepEqual(registry.types(), [
    'AWS::CloudFormation::WaitConditionHandle',
    'AWS::IAM::InstanceProfile',
    'AWS::IAM::ManagedPolicy',
    'AWS::IAM::OIDCProvider',
    'AWS::IAM::Policy',
    'AWS::IAM::Role',
    'AWS::S3::Bucket',
    'AWS::SSM::Parameter',
  ]);
  assert.throws(() => registry.register(registry.get('AWS::S3::Bucket')), /registered twice/);
  const role = registry.get('AWS::IAM::Role');
  assert.equal(role.requiresReplacement({ RoleName: 'a' }, { RoleName: 'b' }), true);
  assert.equal(role.requiresReplacement({ MaxSessionDuration: 3600 }, { MaxSessionDuration: 7200 }), false);
});
