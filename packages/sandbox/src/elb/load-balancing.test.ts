import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Clock } from '../clock';
import { createLoadBalancing, type ElasticLoadBalancing } from './load-balancing';
import { fakeFleet, fakeInstanceId, get, startFakeApp, type FakeApp } from './test-support';

/** 100×: a 5 s health-check interval is 50 ms, a 300 s deregistration delay 3 s. */
const TIME_SCALE = 100;
const FAST_CHECKS = {
  path: '/health',
  intervalSeconds: 5,
  timeoutSeconds: 2,
  healthyThresholdCount: 2,
  unhealthyThresholdCount: 2,
};

interface Rig {
  elb: ElasticLoadBalancing;
  apps: FakeApp[];
  fleet: ReturnType<typeof fakeFleet>;
  url: string;
  groupArn: string;
  listenerArn: string;
  loadBalancerArn: string;
}

const rigs: Rig[] = [];
after(async () => {
  for (const rig of rigs) {
    await rig.elb.stop();
    await Promise.all(rig.apps.map((app) => app.close()));
  }
});

async function rig(versions: string[], healthCheck: Partial<typeof FAST_CHECKS> = {}): Promise<Rig> {
  const apps = await Promise.all(versions.map((version) => startFakeApp(fakeInstanceId(), version)));
  const fleet = fakeFleet(apps);
  const elb = createLoadBalancing({
    accountId: '123456789012',
    region: 'us-east-1',
    clock: new Clock(TIME_SCALE),
    log: () => undefined,
    fleet: () => fleet,
  });
  const suffix = Math.random().toString(16).slice(2, 10);
  const lb = await elb.createLoadBalancer({ name: `lb-${suffix}` });
  const group = elb.createTargetGroup({
    name: `tg-${suffix}`,
    healthCheck: { ...FAST_CHECKS, ...healthCheck },
  });
  const listener = elb.createListener({
    loadBalancerArn: lb.arn,
    port: 80,
    defaultActions: [
      { type: 'forward', targetGroups: [{ targetGroupArn: group.arn, weight: 1 }], viaForwardConfig: false },
    ],
  });
  const created: Rig = {
    elb,
    apps,
    fleet,
    url: `http://${lb.dnsName}/`,
    groupArn: group.arn,
    listenerArn: listener.arn,
    loadBalancerArn: lb.arn,
  };
  rigs.push(created);
  return created;
}

function ids(apps: FakeApp[]): string[] {
  return apps.map((app) => app.instanceId);
}

describe('health checks', () => {
  it('moves a target from initial to healthy, to unhealthy on a bad code, and back', async () => {
    const { elb, apps, groupArn } = await rig(['v1']);
    const [app] = apps as [FakeApp];
    await elb.registerTargets(groupArn, [app.instanceId]);
    assert.deepEqual(elb.targetHealth(groupArn), [
      { instanceId: app.instanceId, state: 'initial', reason: 'Elb.InitialHealthChecking' },
    ]);
    await elb.waitUntilHealthy(groupArn, [app.instanceId], 60);
    assert.deepEqual(elb.targetHealth(groupArn), [{ instanceId: app.instanceId, state: 'healthy' }]);

    app.healthStatus = 500;
    await waitFor(() => elb.targetHealth(groupArn)[0]?.state === 'unhealthy');
    const [report] = elb.targetHealthReports(groupArn);
    assert.equal(report?.reason, 'Target.ResponseCodeMismatch');
    assert.equal(report?.description, 'Health checks failed with these codes: [500]');

    app.healthStatus = 200;
    await elb.waitUntilHealthy(groupArn, [app.instanceId], 60);
  });

  it('honours a matcher range', async () => {
    const { elb, apps, groupArn } = await rig(['v1'], {});
    elb.modifyTargetGroup(groupArn, { matcher: '200-299' });
    const [app] = apps as [FakeApp];
    app.healthStatus = 204;
    await elb.registerTargets(groupArn, [app.instanceId]);
    await elb.waitUntilHealthy(groupArn, [app.instanceId], 60);
  });

  it('reports targets of a group no listener uses as unused, and checks nothing', async () => {
    const { elb, apps, groupArn, listenerArn } = await rig(['v1']);
    elb.deleteListener(listenerArn);
    const [app] = apps as [FakeApp];
    await elb.registerTargets(groupArn, [app.instanceId]);
    await sleep(200);
    assert.deepEqual(elb.targetHealth(groupArn), [
      { instanceId: app.instanceId, state: 'unused', reason: 'Target.NotInUse' },
    ]);
  });

  it('rejects waitUntilHealthy after its simulated timeout', async () => {
    const { elb, apps, groupArn } = await rig(['v1']);
    const [app] = apps as [FakeApp];
    app.healthStatus = 503;
    await elb.registerTargets(groupArn, [app.instanceId]);
    const started = Date.now();
    await assert.rejects(
      elb.waitUntilHealthy(groupArn, [app.instanceId], 30),
      /not healthy within 30 seconds/,
    );
    assert.ok(Date.now() - started < 2000);
  });

  it('fits the default timeout under a short interval, but refuses an explicit timeout that does not fit', async () => {
    const { elb } = await rig([]);
    const name = `short-${Date.now().toString(16)}`;
    assert.equal(
      elb.createTargetGroup({ name, healthCheck: { intervalSeconds: 5 } }).healthCheck.timeoutSeconds,
      4,
    );
    assert.throws(
      () =>
        elb.createTargetGroup({ name: `${name}-x`, healthCheck: { intervalSeconds: 5, timeoutSeconds: 5 } }),
      { name: 'ValidationError', message: "Health check timeout '5' must be smaller than the interval '5'" },
    );
  });

  it('refuses instances that do not exist or do not run', async () => {
    const { elb, apps, fleet, groupArn } = await rig(['v1']);
    await assert.rejects(elb.registerTargets(groupArn, ['i-0123456789abcdef0']), {
      name: 'InvalidTarget',
      message: "The following instances do not exist: 'i-0123456789abcdef0'",
    });
    await assert.rejects(elb.registerTargets(groupArn, ['web-1']), { name: 'ValidationError' });
    const [app] = apps as [FakeApp];
    fleet.setState(app.instanceId, 'pending');
    await assert.rejects(elb.registerTargets(groupArn, [app.instanceId]), {
      name: 'InvalidTarget',
      message: `The following targets are not in a running state and cannot be registered: '${app.instanceId}'`,
    });
  });
});

describe('routing', () => {
  it('answers 503 while no target is healthy', async () => {
    const { elb, apps, url, groupArn } = await rig(['v1']);
    const empty = await get(url);
    assert.ok('status' in empty);
    assert.equal(empty.status, 503);
    assert.match(empty.body, /503 Service Temporarily Unavailable/);
    // Initial targets take no traffic either.
    (apps[0] as FakeApp).healthStatus = 500;
    await elb.registerTargets(groupArn, ids(apps));
    assert.equal(((await get(url)) as { status: number }).status, 503);
  });

  it('drops the connection when the load balancer has no listener', async () => {
    const { elb, url, listenerArn } = await rig(['v1']);
    elb.deleteListener(listenerArn);
    assert.ok('error' in (await get(url)));
  });

  it('sends traffic only to healthy targets, round robin', async () => {
    const { elb, apps, url, groupArn } = await rig(['a', 'b', 'sick']);
    const sick = apps[2] as FakeApp;
    sick.healthStatus = 500;
    await elb.registerTargets(groupArn, ids(apps));
    await elb.waitUntilHealthy(groupArn, ids(apps.slice(0, 2)), 60);
    const bodies = await Promise.all(Array.from({ length: 20 }, () => get(url)));
    const seen = bodies.map((r) => ('body' in r ? r.body : r.error));
    assert.ok(!seen.includes('sick'));
    assert.equal(seen.filter((b) => b === 'a').length, 10);
    assert.equal(seen.filter((b) => b === 'b').length, 10);
  });

  it('fails open to all targets when every one is unhealthy, as ALB does', async () => {
    const { elb, apps, url, groupArn } = await rig(['v1']);
    const [app] = apps as [FakeApp];
    app.healthStatus = 500;
    await elb.registerTargets(groupArn, [app.instanceId]);
    await waitFor(() => elb.targetHealth(groupArn)[0]?.state === 'unhealthy');
    assert.deepEqual(await get(url), { status: 200, body: 'v1' });
  });

  it('retries a refused connection on another healthy target, and answers 502 when there is none', async () => {
    // A long interval keeps the dead target "healthy" for the whole test, so only the retry can save requests.
    const { elb, apps, url, groupArn } = await rig(['alive', 'dead'], {
      intervalSeconds: 300,
      timeoutSeconds: 5,
    });
    await elb.registerTargets(groupArn, ids(apps));
    await elb.waitUntilHealthy(groupArn, ids(apps), 1000);
    await (apps[1] as FakeApp).close();
    const results = await Promise.all(Array.from({ length: 10 }, () => get(url)));
    assert.deepEqual(
      results,
      results.map(() => ({ status: 200, body: 'alive' })),
    );
    await (apps[0] as FakeApp).close();
    const none = await get(url);
    assert.ok('status' in none);
    assert.equal(none.status, 502);
    assert.match(none.body, /502 Bad Gateway/);
  });

  it('switches target groups when the listener is modified (reroute)', async () => {
    const { elb, apps, url, groupArn, listenerArn } = await rig(['blue', 'green']);
    const green = elb.createTargetGroup({
      name: `green-${Date.now().toString(16)}`,
      healthCheck: FAST_CHECKS,
    });
    await elb.registerTargets(groupArn, [(apps[0] as FakeApp).instanceId]);
    await elb.registerTargets(green.arn, [(apps[1] as FakeApp).instanceId]);
    assert.equal(elb.targetHealth(green.arn)[0]?.state, 'unused');
    await elb.waitUntilHealthy(groupArn, [(apps[0] as FakeApp).instanceId], 60);
    assert.deepEqual(await get(url), { status: 200, body: 'blue' });
    elb.modifyListener(listenerArn, {
      defaultActions: [
        {
          type: 'forward',
          targetGroups: [{ targetGroupArn: green.arn, weight: 1 }],
          viaForwardConfig: false,
        },
      ],
    });
    assert.equal(elb.targetHealth(groupArn)[0]?.state, 'unused');
    await elb.waitUntilHealthy(green.arn, [(apps[1] as FakeApp).instanceId], 60);
    assert.deepEqual(await get(url), { status: 200, body: 'green' });
    assert.throws(() => elb.deleteTargetGroup(green.arn), { name: 'ResourceInUse' });
    elb.deleteTargetGroup(groupArn);
  });
});

describe('deregistration', () => {
  it('drains: an in-flight request completes while new requests go elsewhere', async () => {
    const { elb, apps, url, groupArn } = await rig(['old', 'new']);
    const [oldApp, newApp] = apps as [FakeApp, FakeApp];
    await elb.registerTargets(groupArn, [oldApp.instanceId]);
    await elb.waitUntilHealthy(groupArn, [oldApp.instanceId], 60);
    await elb.registerTargets(groupArn, [newApp.instanceId]);
    await elb.waitUntilHealthy(groupArn, [newApp.instanceId], 60);

    // Send slow requests until one lands on the old target (round robin alternates).
    const slow = [get(`${url}slow?ms=600`), get(`${url}slow?ms=600`)];
    await waitFor(() => oldApp.requests.includes('/slow'));
    const started = Date.now();
    const deregistered = elb.deregisterTargets(groupArn, [oldApp.instanceId]);
    assert.equal(
      elb.targetHealth(groupArn).find((t) => t.instanceId === oldApp.instanceId)?.state,
      'draining',
    );
    const during = await Promise.all(Array.from({ length: 6 }, () => get(url)));
    assert.deepEqual(
      during,
      during.map(() => ({ status: 200, body: 'new' })),
    );
    await deregistered;
    const waited = Date.now() - started;
    // Resolved when the slow request finished (~600 ms), well before the 3 s scaled deregistration delay.
    assert.ok(waited >= 300 && waited < 2500, `deregistration took ${waited} ms`);
    assert.deepEqual(
      (await Promise.all(slow)).map((r) => ('status' in r ? r.status : r.error)).sort(),
      [200, 200],
    );
    assert.deepEqual(
      elb.targetHealth(groupArn).map((t) => t.instanceId),
      [newApp.instanceId],
    );
  });

  it('stops waiting once the deregistration delay has passed', async () => {
    const { elb, apps, url, groupArn } = await rig(['slow']);
    const [app] = apps as [FakeApp];
    elb.setDeregistrationDelay(groupArn, 50); // 0.5 s real
    await elb.registerTargets(groupArn, [app.instanceId]);
    await elb.waitUntilHealthy(groupArn, [app.instanceId], 60);
    const inFlight = get(`${url}slow?ms=1500`);
    await waitFor(() => app.requests.includes('/slow'));
    const started = Date.now();
    await elb.deregisterTargets(groupArn, [app.instanceId]);
    const waited = Date.now() - started;
    assert.ok(waited >= 400 && waited < 1300, `deregistration took ${waited} ms`);
    assert.deepEqual(await inFlight, { status: 200, body: 'slow' });
  });
});

describe('stop', () => {
  it('releases a pending deregistration and closes the proxy at once', async () => {
    const { elb, apps, url, groupArn } = await rig(['v1']);
    const [app] = apps as [FakeApp];
    await elb.registerTargets(groupArn, [app.instanceId]);
    await elb.waitUntilHealthy(groupArn, [app.instanceId], 60);
    const inFlight = get(`${url}slow?ms=5000`);
    await waitFor(() => app.requests.includes('/slow'));
    const deregistered = elb.deregisterTargets(groupArn, [app.instanceId]);
    const started = Date.now();
    await elb.stop();
    await deregistered;
    assert.ok(Date.now() - started < 1000, `stop took ${Date.now() - started} ms`);
    assert.ok('error' in (await inFlight), 'the in-flight client connection is closed');
    assert.ok('error' in (await get(url)));
  });
});

describe('blue/green cutover', () => {
  it('replaces v1 by v2 under continuous load with zero failed requests', async () => {
    const { elb, apps, url, groupArn } = await rig(['v1', 'v2']);
    const [blue, green] = apps as [FakeApp, FakeApp];
    await elb.registerTargets(groupArn, [blue.instanceId]);
    await elb.waitUntilHealthy(groupArn, [blue.instanceId], 60);

    // 20 concurrent clients on keep-alive connections, so pinned connections would show up as stale routing.
    const agent = new Agent({ keepAlive: true, maxSockets: 20 });
    /** `at`: when the request was sent. */
    const log: Array<{ at: number; outcome: string }> = [];
    let running = true;
    const loops = Array.from({ length: 20 }, async () => {
      while (running) {
        const at = Date.now();
        const result = await get(url, { agent });
        log.push({
          at,
          outcome:
            'status' in result
              ? result.status === 200
                ? result.body
                : `HTTP ${result.status}`
              : result.error,
        });
      }
    });

    await waitFor(() => log.length >= 50);
    await elb.registerTargets(groupArn, [green.instanceId]);
    await elb.waitUntilHealthy(groupArn, [green.instanceId], 60);
    const deregistering = Date.now();
    await elb.deregisterTargets(groupArn, [blue.instanceId]);
    const settled = log.length;
    await waitFor(() => log.length >= settled + 50);
    running = false;
    await Promise.all(loops);
    agent.destroy();

    const failures = log.filter((entry) => entry.outcome !== 'v1' && entry.outcome !== 'v2');
    assert.deepEqual(failures, [], 'no request may fail across the cutover');
    assert.ok(log.length >= 100, `only ${log.length} requests were sent`);
    assert.equal(log[0]?.outcome, 'v1');
    assert.ok(log.some((entry) => entry.outcome === 'v2'));
    // Deregistration takes blue out of rotation at once: every request sent from then on is answered by green.
    const afterwards = log.filter((entry) => entry.at > deregistering);
    assert.ok(afterwards.length > 0);
    assert.deepEqual(
      afterwards.filter((entry) => entry.outcome !== 'v2'),
      [],
      'only v2 answers once blue is deregistered',
    );
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}
