import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createFaultPlan } from './faults';

describe('createFaultPlan', () => {
  it('answers queued faults per target in FIFO order, then nothing', () => {
    const plan = createFaultPlan();
    plan.queue('azure-imds', [{ status: 410 }, { status: 429 }]);
    plan.queue('azure-imds', [{ status: 'timeout' }]);
    plan.queue('sts', [{ status: 500, body: 'html', delayMs: 5 }]);
    assert.deepEqual(plan.next('azure-imds'), { status: 410 });
    assert.deepEqual(plan.next('sts'), { status: 500, body: 'html', delayMs: 5 });
    assert.deepEqual(plan.next('azure-imds'), { status: 429 });
    assert.deepEqual(plan.next('azure-imds'), { status: 'timeout' });
    assert.equal(plan.next('azure-imds'), undefined);
    assert.equal(plan.next('github-oidc'), undefined);
  });

  it('clears one target or all of them', () => {
    const plan = createFaultPlan();
    plan.queue('iam', [{ status: 500 }]);
    plan.queue('ec2-imds', [{ status: 500 }]);
    plan.clear('iam');
    assert.equal(plan.next('iam'), undefined);
    assert.deepEqual(plan.next('ec2-imds'), { status: 500 });
    plan.queue('iam', [{ status: 500 }]);
    plan.queue('ec2-imds', [{ status: 500 }]);
    plan.clear();
    assert.equal(plan.next('iam'), undefined);
    assert.equal(plan.next('ec2-imds'), undefined);
  });

  it('is not affected by later changes to the queued array', () => {
    const plan = createFaultPlan();
    const responses = [{ status: 404 }];
    plan.queue('oidc-discovery', responses);
    responses[0]!.status = 200;
    assert.deepEqual(plan.next('oidc-discovery'), { status: 404 });
  });
});
