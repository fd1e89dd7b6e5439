import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Clock } from '../clock';
import { IamState } from './iam-state';
import { SessionStore } from './sessions';

function setup(timeScale = 1, maxSessionSeconds?: number) {
  let now = Date.UTC(2025, 0, 1);
  const clock = new Clock(timeScale, () => now);
  const iam = new IamState('123456789012', () => new Date(now));
  const role = iam.createRole({
    name: 'r',
    assumeRolePolicyDocument: JSON.stringify({
      Statement: { Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole' },
    }),
  });
  const store = new SessionStore('123456789012', clock, maxSessionSeconds, (arn) => iam.roleByArn(arn));
  return { store, role, advance: (ms: number) => (now += ms), now: () => now };
}

test('sessions have AWS-shaped ids, unrelated random secrets and tokens', () => {
  const { store, role } = setup();
  const a = store.issue(role, 'AWSAssumeRole', 3600);
  const b = store.issue(role, 'AWSAssumeRole', 3600);
  assert.match(a.accessKeyId, /^ASIA[A-Z0-9]{16}$/);
  assert.equal(a.secretAccessKey.length, 40);
  assert.ok(a.sessionToken.length >= 400);
  assert.ok(!a.sessionToken.includes(a.secretAccessKey));
  assert.notEqual(a.accessKeyId, b.accessKeyId);
  assert.notEqual(a.sessionToken, b.sessionToken);
  assert.match(role.roleId, /^AROA[A-Z0-9]{17}$/);
  assert.equal(a.assumedRoleArn, 'arn:aws:sts::123456789012:assumed-role/r/AWSAssumeRole');
  assert.equal(a.assumedRoleId, `${role.roleId}:AWSAssumeRole`);
});

test('lifetime is scaled by the clock and capped by maxSessionSeconds; expiry turns into ExpiredToken', () => {
  const scaled = setup(60);
  const session = scaled.store.issue(scaled.role, 's1', 3600);
  assert.equal(session.expiresAtMs - scaled.now(), 60_000);
  const capped = setup(1, 2);
  const short = capped.store.issue(capped.role, 's2', 3600);
  assert.equal(short.expiresAtMs - capped.now(), 2000);
  assert.equal(capped.store.lookup(short.accessKeyId)?.status, 'active');
  capped.advance(2000);
  assert.deepEqual(capped.store.lookup(short.accessKeyId), { status: 'expired' });
  // Still recognised as expired after the secret is dropped from memory.
  assert.equal(capped.store.activeCount, 0);
  assert.deepEqual(capped.store.lookup(short.accessKeyId), { status: 'expired' });
  assert.equal(capped.store.lookup('ASIAUNKNOWNUNKNOWN00'), undefined);
});

test('expired sessions are swept from memory on later issuance', () => {
  const { store, role, advance } = setup(1, 1);
  for (let i = 0; i < 50; i++) store.issue(role, `s${i}`, 900);
  assert.equal(store.activeCount, 50);
  advance(5000);
  store.issue(role, 'fresh', 900);
  assert.equal(store.activeCount, 1);
});

test('issueRoleSession (instance profiles) requires an existing role', () => {
  const { store, role } = setup();
  const credentials = store.issueRoleSession({
    roleArn: role.arn,
    sessionName: 'i-0abc',
    durationSeconds: 21600,
  });
  assert.equal(credentials.assumedRoleArn, 'arn:aws:sts::123456789012:assumed-role/r/i-0abc');
  assert.ok(credentials.expiration instanceof Date);
  assert.throws(
    () =>
      store.issueRoleSession({
        roleArn: 'arn:aws:iam::123456789012:role/nope',
        sessionName: 'x',
        durationSeconds: 900,
      }),
    /no role/,
  );
});

test('root credentials resolve to the root principal', () => {
  const { store } = setup();
  store.addRootCredentials('AKIAROOT', 'root-secret');
  assert.deepEqual(store.lookup('AKIAROOT'), {
    status: 'active',
    secretAccessKey: 'root-secret',
    principal: { kind: 'root', accountId: '123456789012' },
  });
});
