import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { startSandbox, type RunningSandbox } from '../src/index';
import { launchWebServer, ROOT_KEYS } from './support';

/** 100×: 5 s health-check intervals are 50 ms, the 30 s deregistration delay 0.3 s. */
const TIME_SCALE = 100;

let sandbox: RunningSandbox;
let elb: ElasticLoadBalancingV2Client;
let ec2: EC2Client;

before(async () => {
  sandbox = await startSandbox({ port: 0, timeScale: TIME_SCALE, config: { rootCredentials: [ROOT_KEYS] } });
  const client = { endpoint: sandbox.url, region: 'us-east-1', credentials: ROOT_KEYS, maxAttempts: 1 };
  elb = new ElasticLoadBalancingV2Client(client);
  ec2 = new EC2Client(client);
});

after(async () => {
  elb?.destroy();
  ec2?.destroy();
  await sandbox?.close();
});

async function health(
  targetGroupArn: string,
): Promise<Record<string, TargetHealthDescription['TargetHealth']>> {
  const { TargetHealthDescriptions = [] } = await elb.send(
    new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }),
  );
  return Object.fromEntries(TargetHealthDescriptions.map((d) => [d.Target?.Id ?? '', d.TargetHealth]));
}

async function waitForState(
  targetGroupArn: string,
  instanceId: string,
  state: string | undefined,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await health(targetGroupArn))[instanceId]?.State !== state) {
    if (Date.now() > deadline) throw new Error(`${instanceId} never reached ${state}`);
    await sleep(25);
  }
}

async function body(url: string): Promise<string> {
  const response = await fetch(url);
  return `${response.status} ${await response.text()}`;
}

describe('ELBv2 through the AWS SDK', () => {
  it('load balances real instances and cuts over from blue to green', async () => {
    const [blue, green] = await Promise.all([launchWebServer(ec2, 'v1'), launchWebServer(ec2, 'v2')]);

    const created = await elb.send(
      new CreateLoadBalancerCommand({
        Name: 'web-alb',
        Subnets: ['subnet-0a1b2c3d', 'subnet-1a2b3c4d'],
        SecurityGroups: ['sg-0123abcd'],
        Scheme: 'internet-facing',
        Type: 'application',
      }),
    );
    const lb = created.LoadBalancers?.[0];
    assert.match(
      lb?.LoadBalancerArn ?? '',
      /^arn:aws:elasticloadbalancing:us-east-1:\d{12}:loadbalancer\/app\/web-alb\/[0-9a-f]{16}$/,
    );
    assert.match(lb?.DNSName ?? '', /^127\.0\.0\.1:\d+$/);
    assert.equal(lb?.State?.Code, 'active');
    const loadBalancerArn = lb?.LoadBalancerArn as string;
    const again = await elb.send(
      new CreateLoadBalancerCommand({
        Name: 'web-alb',
        Subnets: ['subnet-0a1b2c3d', 'subnet-1a2b3c4d'],
        SecurityGroups: ['sg-0123abcd'],
      }),
    );
    assert.equal(again.LoadBalancers?.[0]?.LoadBalancerArn, loadBalancerArn, 'creation is idempotent');
    const described = await elb.send(new DescribeLoadBalancersCommand({ Names: ['web-alb'] }));
    assert.deepEqual(described.LoadBalancers?.[0]?.SecurityGroups, ['sg-0123abcd']);

    const group = await elb.send(
      new CreateTargetGroupCommand({
        Name: 'web-blue',
        Protocol: 'HTTP',
        Port: 80,
        VpcId: 'vpc-0a1b2c3d',
        TargetType: 'instance',
        HealthCheckPath: '/',
        HealthCheckIntervalSeconds: 5,
        HealthCheckTimeoutSeconds: 2,
        HealthyThresholdCount: 5,
        UnhealthyThresholdCount: 2,
        Matcher: { HttpCode: '200-299' },
      }),
    );
    const tg = group.TargetGroups?.[0];
    assert.match(tg?.TargetGroupArn ?? '', /:targetgroup\/web-blue\/[0-9a-f]{16}$/);
    assert.equal(tg?.Matcher?.HttpCode, '200-299');
    assert.equal(tg?.HealthCheckIntervalSeconds, 5);
    const targetGroupArn = tg?.TargetGroupArn as string;

    await elb.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: targetGroupArn,
        Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }],
      }),
    );
    const attributes = await elb.send(
      new DescribeTargetGroupAttributesCommand({ TargetGroupArn: targetGroupArn }),
    );
    assert.equal(
      attributes.Attributes?.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value,
      '30',
    );

    // No listener yet: registered targets are not in use and nothing is checked.
    await elb.send(
      new RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: blue, Port: 80 }] }),
    );
    assert.deepEqual((await health(targetGroupArn))[blue], {
      State: 'unused',
      Reason: 'Target.NotInUse',
      Description: 'Target group is not configured to receive traffic from the load balancer',
    });

    const listener = await elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: loadBalancerArn,
        Port: 80,
        Protocol: 'HTTP',
        DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
      }),
    );
    const listenerArn = listener.Listeners?.[0]?.ListenerArn as string;
    assert.match(listenerArn, /:listener\/app\/web-alb\/[0-9a-f]{16}\/[0-9a-f]{16}$/);
    const listeners = await elb.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn }));
    assert.equal(listeners.Listeners?.[0]?.DefaultActions?.[0]?.TargetGroupArn, targetGroupArn);
    const groups = await elb.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: loadBalancerArn }));
    assert.deepEqual(groups.TargetGroups?.[0]?.LoadBalancerArns, [loadBalancerArn]);

    await waitForState(targetGroupArn, blue, 'healthy');
    const url = `http://${lb?.DNSName}/`;
    assert.equal(await body(url), '200 v1');

    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: green }] }));
    // Green has been serving for a while, so its first checks pass; five must pass before it is healthy.
    const initial = (await health(targetGroupArn))[green];
    assert.equal(initial?.State, 'initial');
    assert.equal(initial?.Reason, 'Elb.InitialHealthChecking');
    await waitForState(targetGroupArn, green, 'healthy');
    await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: blue }] }));
    // DeregisterTargets answers at once; blue drains (no request in flight, so briefly) and is gone.
    const right = (await health(targetGroupArn))[blue];
    assert.ok(right === undefined || right.State === 'draining', `blue is ${right?.State}`);
    await waitForState(targetGroupArn, blue, undefined);
    assert.deepEqual(await Promise.all([body(url), body(url), body(url)]), ['200 v2', '200 v2', '200 v2']);

    const notRegistered = await elb.send(
      new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: blue }] }),
    );
    assert.equal(notRegistered.TargetHealthDescriptions?.[0]?.TargetHealth?.Reason, 'Target.NotRegistered');

    // Reroute by listener: an empty second group answers 503, as ALB does with no healthy target.
    const empty = await elb.send(
      new CreateTargetGroupCommand({ Name: 'web-green', Protocol: 'HTTP', Port: 80, VpcId: 'vpc-0a1b2c3d' }),
    );
    const emptyArn = empty.TargetGroups?.[0]?.TargetGroupArn as string;
    await elb.send(
      new ModifyListenerCommand({
        ListenerArn: listenerArn,
        DefaultActions: [
          { Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: emptyArn, Weight: 1 }] } },
        ],
      }),
    );
    const unavailable = await fetch(url);
    assert.equal(unavailable.status, 503);
    assert.match(await unavailable.text(), /503 Service Temporarily Unavailable/);
    await assert.rejects(elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: emptyArn })), {
      name: 'ResourceInUseException',
    });

    await elb.send(new DeleteListenerCommand({ ListenerArn: listenerArn }));
    await elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: emptyArn }));
    await elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: loadBalancerArn }));
    await assert.rejects(fetch(url), 'the proxy stops with its load balancer');
    await assert.rejects(
      elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [loadBalancerArn] })),
      {
        name: 'LoadBalancerNotFoundException',
        message: 'One or more load balancers not found',
      },
    );
  });

  it('answers AWS error codes', async () => {
    const tg = await elb.send(
      new CreateTargetGroupCommand({ Name: 'errors-tg', Protocol: 'HTTP', Port: 80, VpcId: 'vpc-1' }),
    );
    const targetGroupArn = tg.TargetGroups?.[0]?.TargetGroupArn as string;
    await assert.rejects(
      elb.send(
        new CreateTargetGroupCommand({ Name: 'errors-tg', Protocol: 'HTTP', Port: 8080, VpcId: 'vpc-1' }),
      ),
      {
        name: 'DuplicateTargetGroupNameException',
      },
    );
    await assert.rejects(elb.send(new DescribeTargetGroupsCommand({ Names: ['no-such-group'] })), {
      name: 'TargetGroupNotFoundException',
      message: 'One or more target groups not found',
    });
    await assert.rejects(
      elb.send(
        new RegisterTargetsCommand({
          TargetGroupArn: targetGroupArn,
          Targets: [{ Id: 'i-0123456789abcdef0' }],
        }),
      ),
      {
        name: 'InvalidTargetException',
        message: "The following instances do not exist: 'i-0123456789abcdef0'",
      },
    );
    await assert.rejects(elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: 'not-an-arn' })), {
      name: 'ValidationError',
      message: "'not-an-arn' is not a valid target group ARN",
    });
    await assert.rejects(
      elb.send(
        new CreateListenerCommand({
          LoadBalancerArn:
            'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/missing/0123456789abcdef',
          Port: 80,
          DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
        }),
      ),
      { name: 'LoadBalancerNotFoundException' },
    );
    await assert.rejects(
      elb.send(
        new DescribeListenersCommand({
          ListenerArns: [
            'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/x/0123456789abcdef/0123456789abcdef',
          ],
        }),
      ),
      { name: 'ListenerNotFoundException' },
    );
    await assert.rejects(elb.send(new CreateLoadBalancerCommand({ Name: '-bad-name' })), {
      name: 'ValidationError',
    });
  });
});
