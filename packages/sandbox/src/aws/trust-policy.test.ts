import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compileTrustPolicy,
  evaluateTrustPolicy,
  PolicySyntaxError,
  type TrustPrincipal,
} from './trust-policy';

const PROVIDER = 'arn:aws:iam::123456789012:oidc-provider/sts.windows.net/tenant/';
const KEY = 'sts.windows.net/tenant/';
const federated: TrustPrincipal = { type: 'Federated', provider: PROVIDER };

function policy(statement: unknown): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statement });
}

function allowWith(condition: unknown): string {
  return policy({
    Effect: 'Allow',
    Principal: { Federated: PROVIDER },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: condition,
  });
}

function decide(
  doc: string,
  context: Record<string, string[]>,
  principal: TrustPrincipal = federated,
  action = 'sts:AssumeRoleWithWebIdentity',
) {
  const map = new Map(Object.entries(context).map(([k, v]) => [k.toLowerCase(), v]));
  return evaluateTrustPolicy(compileTrustPolicy(doc), { action, principal, context: map });
}

const blog = allowWith({ StringEquals: { [`${KEY}:aud`]: 'api://app', [`${KEY}:sub`]: 'oid-1' } });

test('the blog policy admits the pinned aud+sub and names the deciding statement', () => {
  const decision = decide(blog, { [`${KEY}:aud`]: ['api://app'], [`${KEY}:sub`]: ['oid-1'] });
  assert.equal(decision.allowed, true);
  assert.deepEqual(decision.decidingStatement, { index: 0, sid: undefined, effect: 'Allow' });
});

test('keys AND, values OR; a failing condition is reported with what the request had', () => {
  const decision = decide(blog, { [`${KEY}:aud`]: ['api://app'], [`${KEY}:sub`]: ['oid-2'] });
  assert.equal(decision.allowed, false);
  assert.match(
    decision.reasons[0] ?? '',
    /StringEquals sts\.windows\.net\/tenant\/:sub failed: request has \["oid-2"\]/,
  );
  const either = allowWith({ StringEquals: { [`${KEY}:sub`]: ['oid-1', 'oid-2'] } });
  assert.equal(decide(either, { [`${KEY}:sub`]: ['oid-2'] }).allowed, true);
});

test('condition keys are case-insensitive, values case-sensitive except IgnoreCase', () => {
  const doc = allowWith({ StringEquals: { 'STS.WINDOWS.NET/TENANT/:SUB': 'Oid-1' } });
  assert.equal(decide(doc, { [`${KEY}:sub`]: ['Oid-1'] }).allowed, true);
  assert.equal(decide(doc, { [`${KEY}:sub`]: ['oid-1'] }).allowed, false);
  const ignoreCase = allowWith({ StringEqualsIgnoreCase: { [`${KEY}:sub`]: 'OID-1' } });
  assert.equal(decide(ignoreCase, { [`${KEY}:sub`]: ['oid-1'] }).allowed, true);
});

test('StringLike / StringNotLike with * and ? wildcards', () => {
  const like = allowWith({ StringLike: { [`${KEY}:sub`]: 'repo:org/*:ref:refs/heads/ma?n' } });
  assert.equal(decide(like, { [`${KEY}:sub`]: ['repo:org/app:ref:refs/heads/main'] }).allowed, true);
  assert.equal(decide(like, { [`${KEY}:sub`]: ['repo:org/app:ref:refs/heads/mn'] }).allowed, false);
  assert.equal(decide(like, { [`${KEY}:sub`]: ['repo:other/app:ref:refs/heads/main'] }).allowed, false);
  const notLike = allowWith({ StringNotLike: { [`${KEY}:sub`]: '*:pull_request' } });
  assert.equal(decide(notLike, { [`${KEY}:sub`]: ['repo:o/r:pull_request'] }).allowed, false);
  assert.equal(decide(notLike, { [`${KEY}:sub`]: ['repo:o/r:ref:refs/heads/main'] }).allowed, true);
  // Regex metacharacters in values are literal.
  const literal = allowWith({ StringLike: { [`${KEY}:sub`]: 'a.b' } });
  assert.equal(decide(literal, { [`${KEY}:sub`]: ['axb'] }).allowed, false);
});

test('StringNotEquals; negated operators hold when the key is absent', () => {
  const doc = allowWith({ StringNotEquals: { [`${KEY}:sub`]: 'blocked' } });
  assert.equal(decide(doc, { [`${KEY}:sub`]: ['blocked'] }).allowed, false);
  assert.equal(decide(doc, { [`${KEY}:sub`]: ['fine'] }).allowed, true);
  assert.equal(decide(doc, {}).allowed, true);
  assert.equal(decide(allowWith({ StringEquals: { [`${KEY}:sub`]: 'x' } }), {}).allowed, false);
});

test('ForAnyValue / ForAllValues (ForAllValues is true when the key is absent, as AWS)', () => {
  const any = allowWith({ 'ForAnyValue:StringEquals': { [`${KEY}:amr`]: ['mfa'] } });
  assert.equal(decide(any, { [`${KEY}:amr`]: ['pwd', 'mfa'] }).allowed, true);
  assert.equal(decide(any, { [`${KEY}:amr`]: ['pwd'] }).allowed, false);
  assert.equal(decide(any, {}).allowed, false);
  const all = allowWith({ 'ForAllValues:StringLike': { [`${KEY}:amr`]: ['pw*', 'mfa'] } });
  assert.equal(decide(all, { [`${KEY}:amr`]: ['pwd', 'mfa'] }).allowed, true);
  assert.equal(decide(all, { [`${KEY}:amr`]: ['pwd', 'otp'] }).allowed, false);
  assert.equal(decide(all, {}).allowed, true);
  const allEquals = allowWith({ 'ForAllValues:StringEquals': { [`${KEY}:amr`]: ['a'] } });
  assert.equal(decide(allEquals, { [`${KEY}:amr`]: ['a', 'b'] }).allowed, false);
});

test('...IfExists passes on a missing key and checks a present one', () => {
  const doc = allowWith({ StringEqualsIfExists: { [`${KEY}:oid`]: 'o1' } });
  assert.equal(decide(doc, {}).allowed, true);
  assert.equal(decide(doc, { [`${KEY}:oid`]: ['o1'] }).allowed, true);
  assert.equal(decide(doc, { [`${KEY}:oid`]: ['o2'] }).allowed, false);
});

test('explicit Deny beats Allow regardless of order', () => {
  const doc = policy([
    {
      Sid: 'DenyPR',
      Effect: 'Deny',
      Principal: '*',
      Action: 'sts:*',
      Condition: { StringLike: { [`${KEY}:sub`]: '*pull_request' } },
    },
    { Effect: 'Allow', Principal: { Federated: [PROVIDER] }, Action: ['sts:AssumeRoleWithWebIdentity'] },
  ]);
  const decision = decide(doc, { [`${KEY}:sub`]: ['repo:o/r:pull_request'] });
  assert.equal(decision.allowed, false);
  assert.deepEqual(decision.decidingStatement, { index: 0, sid: 'DenyPR', effect: 'Deny' });
  assert.equal(decide(doc, { [`${KEY}:sub`]: ['repo:o/r:ref:refs/heads/main'] }).allowed, true);
});

test('principal and action must match; Statement may be an object; NotAction', () => {
  const doc = policy({
    Effect: 'Allow',
    Principal: { Federated: 'arn:aws:iam::123456789012:oidc-provider/other' },
    Action: 'sts:AssumeRoleWithWebIdentity',
  });
  const decision = decide(doc, {});
  assert.equal(decision.allowed, false);
  assert.match(decision.reasons[0] ?? '', /principal/);
  const wrongAction = policy({
    Effect: 'Allow',
    Principal: { Federated: PROVIDER },
    Action: 'sts:AssumeRole',
  });
  assert.equal(decide(wrongAction, {}).allowed, false);
  const wildcard = policy({ Effect: 'Allow', Principal: { Federated: PROVIDER }, Action: 'STS:AssumeRole*' });
  assert.equal(decide(wildcard, {}).allowed, true);
  const notAction = policy({
    Effect: 'Allow',
    Principal: { Federated: PROVIDER },
    NotAction: 'sts:AssumeRole',
  });
  assert.equal(decide(notAction, {}).allowed, true);
});

test('AWS principals: account id, :root, role ARN, assumed-role ARN, *', () => {
  const caller: TrustPrincipal = {
    type: 'AWS',
    accountId: '123456789012',
    arns: ['arn:aws:sts::123456789012:assumed-role/source/s1', 'arn:aws:iam::123456789012:role/source'],
  };
  const forPrincipal = (aws: unknown) =>
    policy({ Effect: 'Allow', Principal: { AWS: aws }, Action: 'sts:AssumeRole' });
  for (const aws of [
    '123456789012',
    'arn:aws:iam::123456789012:root',
    'arn:aws:iam::123456789012:role/source',
    'arn:aws:sts::123456789012:assumed-role/source/s1',
    '*',
  ]) {
    assert.equal(decide(forPrincipal(aws), {}, caller, 'sts:AssumeRole').allowed, true, aws);
  }
  for (const aws of [
    '210987654321',
    'arn:aws:iam::123456789012:role/other',
    ['arn:aws:sts::123456789012:assumed-role/source/s2'],
  ]) {
    assert.equal(decide(forPrincipal(aws), {}, caller, 'sts:AssumeRole').allowed, false, String(aws));
  }
  assert.equal(decide(forPrincipal('123456789012'), {}, federated).allowed, false);
});

test('malformed documents are refused with IAM wording; compiled policies are cached', () => {
  assert.throws(
    () => compileTrustPolicy('{not json'),
    new PolicySyntaxError('This policy contains invalid Json'),
  );
  assert.throws(
    () => compileTrustPolicy(policy({ Effect: 'Maybe', Principal: '*', Action: 'sts:*' })),
    /Syntax errors in policy/,
  );
  assert.throws(
    () => compileTrustPolicy(policy({ Effect: 'Allow', Principal: '*', Action: 'sts:*', Resource: '*' })),
    /Has prohibited field Resource/,
  );
  assert.throws(
    () => compileTrustPolicy(policy({ Effect: 'Allow', Action: 'sts:*' })),
    /Missing required field Principal/,
  );
  assert.throws(() => compileTrustPolicy(JSON.stringify({ Version: '2012-10-17' })), /Syntax errors/);
  assert.equal(compileTrustPolicy(blog), compileTrustPolicy(blog));
});

test('unsupported operators never admit, and say so', () => {
  const doc = allowWith({ NumericLessThan: { [`${KEY}:n`]: '5' } });
  const decision = decide(doc, { [`${KEY}:n`]: ['1'] });
  assert.equal(decision.allowed, false);
  assert.match(decision.reasons[0] ?? '', /not supported by the sandbox/);
});
