import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateSandboxConfig } from '../config-loader';
import { FaultInjector, parseFaultSpec, validateFaultRules, type FaultRule } from './fault-rules';

function tally(injector: FaultInjector, service: string, operation: string, n: number) {
  const counts = { throttle: 0, serverError: 0, reset: 0, duplicate: 0, slow: 0, none: 0, s500: 0, s503: 0 };
  for (let i = 0; i < n; i++) {
    const decision = injector.decide(service, operation);
    if (decision.delayMs !== undefined) counts.slow++;
    counts[decision.kind ?? 'none']++;
    if (decision.status === 500) counts.s500++;
    if (decision.status === 503) counts.s503++;
  }
  return counts;
}

/** |observed - expected| within 5 standard deviations of a binomial: fails on a broken rate, not on luck. */
function assertRate(observed: number, rate: number, n: number, what: string): void {
  const sd = Math.sqrt(n * rate * (1 - rate));
  const expected = n * rate;
  assert.ok(
    Math.abs(observed - expected) <= 5 * sd + 1,
    `${what}: ${observed} of ${n}, expected about ${expected.toFixed(0)} (±${(5 * sd).toFixed(0)})`,
  );
}

describe('FaultInjector', () => {
  const rules: FaultRule[] = [
    { service: '*', throttle: 0.2, serverError: 0.05, reset: 0.02 },
    { service: 'codedeploy', operation: 'CreateDeployment', duplicate: 0.3, slow: 0.1, slowMs: 7 },
  ];

  it('honours every rate with a fixed seed, and the same seed replays the same faults', () => {
    const n = 20_000;
    const a = new FaultInjector(rules, 42);
    const counts = tally(a, 'codedeploy', 'CreateDeployment', n);
    assertRate(counts.throttle, 0.2, n, 'throttle');
    assertRate(counts.serverError, 0.05, n, 'serverError');
    assertRate(counts.reset, 0.02, n, 'reset');
    assertRate(counts.duplicate, 0.3, n, 'duplicate');
    assertRate(counts.slow, 0.1, n, 'slow');
    assertRate(counts.none, 1 - 0.2 - 0.05 - 0.02 - 0.3, n, 'untouched');
    // 5xx answers are 500 and 503 in about equal parts.
    assertRate(counts.s503, 0.5, counts.serverError, '503 among 5xx');
    assert.equal(counts.s500 + counts.s503, counts.serverError);

    const replay = new FaultInjector(rules, 42);
    const other = new FaultInjector(rules, 43);
    const sequence = (injector: FaultInjector) =>
      Array.from({ length: 200 }, () => JSON.stringify(injector.decide('s3', 'PutObject')));
    const first = sequence(new FaultInjector(rules, 7));
    assert.deepEqual(sequence(new FaultInjector(rules, 7)), first);
    assert.notDeepEqual(sequence(other), first);
    assert.equal(replay.seed, 42);
  });

  it('applies operation rules only to that operation, and the most specific rule per kind', () => {
    const injector = new FaultInjector(
      [
        { service: '*', throttle: 0.2, serverError: 0.05 },
        { service: 'codedeploy', throttle: 0.5 },
        { service: 'codedeploy', operation: 'CreateDeployment', duplicate: 0.3, throttle: 0 },
      ],
      1,
    );
    assert.deepEqual(injector.ratesFor('codedeploy', 'CreateDeployment'), {
      throttle: 0,
      serverError: 0.05,
      duplicate: 0.3,
    });
    assert.deepEqual(injector.ratesFor('codedeploy', 'GetDeployment'), { throttle: 0.5, serverError: 0.05 });
    assert.deepEqual(injector.ratesFor('s3', 'PutObject'), { throttle: 0.2, serverError: 0.05 });

    const n = 5_000;
    const get = tally(injector, 'codedeploy', 'GetDeployment', n);
    assert.equal(get.duplicate, 0, 'no duplicates outside CreateDeployment');
    assertRate(get.throttle, 0.5, n, 'codedeploy throttle');
    const create = tally(injector, 'codedeploy', 'CreateDeployment', n);
    assert.equal(create.throttle, 0, 'the operation rule turned throttling off');
    assertRate(create.duplicate, 0.3, n, 'CreateDeployment duplicate');
    const s3 = tally(injector, 's3', 'PutObject', n);
    assert.equal(s3.duplicate + s3.reset, 0);
    assertRate(s3.throttle, 0.2, n, 's3 throttle');
  });

  it('counts requests and injected faults, and starts counting again when the rules change', () => {
    const injector = new FaultInjector([{ service: 's3', reset: 1 }], 3);
    assert.deepEqual(injector.faultStats(), {
      requests: 0,
      injected: { throttle: 0, serverError: 0, reset: 0, slow: 0, duplicate: 0 },
    });
    for (let i = 0; i < 10; i++) injector.decide('s3', 'GetObject');
    for (let i = 0; i < 5; i++) injector.decide('sts', 'GetCallerIdentity');
    assert.deepEqual(injector.faultStats(), {
      requests: 15,
      injected: { throttle: 0, serverError: 0, reset: 10, slow: 0, duplicate: 0 },
    });
    injector.setRules([]);
    assert.equal(injector.active, false);
    assert.deepEqual(injector.decide('s3', 'GetObject'), {});
    assert.equal(injector.faultStats().requests, 1);
    assert.equal(injector.faultStats().injected.reset, 0);
  });
});

describe('parseFaultSpec', () => {
  it('reads the CLI form', () => {
    assert.deepEqual(parseFaultSpec('*=throttle:0.2,5xx:0.05,reset:0.02'), [
      { service: '*', throttle: 0.2, serverError: 0.05, reset: 0.02 },
    ]);
    assert.deepEqual(
      parseFaultSpec(' codedeploy:CreateDeployment=duplicate:0.5 ; s3=slow:0.1@500,throttle:0.1;'),
      [
        { service: 'codedeploy', operation: 'CreateDeployment', duplicate: 0.5 },
        { service: 's3', throttle: 0.1, slow: 0.1, slowMs: 500 },
      ],
    );
    assert.deepEqual(parseFaultSpec('s3=slow:1'), [{ service: 's3', slow: 1 }]);
  });

  it('names what is wrong', () => {
    assert.throws(() => parseFaultSpec('*'), /needs "="/);
    assert.throws(() => parseFaultSpec('*=explode:0.1'), /kind throttle, 5xx, reset, slow or duplicate/);
    assert.throws(() => parseFaultSpec('*=throttle:1.5'), /\[0\]\.throttle must be a rate between 0 and 1/);
    assert.throws(() => parseFaultSpec('*=throttle:0.1@30'), /only slow takes @milliseconds/);
    assert.throws(() => parseFaultSpec('lambda=throttle:0.1'), /service must be one of cloudformation/);
    assert.throws(() => parseFaultSpec('*:CreateStack=throttle:0.1'), /operation needs a service/);
    assert.throws(() => parseFaultSpec('s3=throttle:0.6,duplicate:0.6'), /add up to more than 1/);
  });
});

describe('fault rules from other sources', () => {
  it('validates rules given to startSandbox or the control API', () => {
    assert.throws(() => validateFaultRules({}, 'body'), /body must be a list of fault rules/);
    assert.throws(
      () => validateFaultRules([{ service: 's3', thrNottle: 0.1 }], 'body'),
      /body\[0\] has unknown field\(s\) thrNottle/,
    );
    assert.throws(() => validateFaultRules([{ service: 's3', slowMs: -1 }], 'x'), /slowMs must be/);
  });

  it('checks the config file key, naming it', () => {
    const config = validateSandboxConfig(
      { faults: [{ service: 'codedeploy', operation: 'CreateDeployment', duplicate: 0.2 }], faultSeed: 9 },
      'test.yml',
    );
    assert.equal(config.faults?.[0]?.duplicate, 0.2);
    assert.throws(
      () => validateSandboxConfig({ faults: [{ service: 'lambda' }] }, 'test.yml'),
      /Invalid sandbox config test\.yml:\n {2}faults\[0\]\.service: expected one of cloudformation/,
    );
    assert.throws(
      () => validateSandboxConfig({ faults: [{ service: 's3', reset: 2 }] }, 'test.yml'),
      /test\.yml:\n {2}faults\[0\]\.reset must be a rate between 0 and 1/,
    );
  });
});
