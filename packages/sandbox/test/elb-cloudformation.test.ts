import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  UpdateStackCommand,
} from '@aws-sdk/client-cloudformation';
import { EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeLoadBalancersCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { startSandbox, type RunningSandbox } from '../src/index';
import { launchWebServer, ROOT_KEYS } from './support';

const TIME_SCALE = 100;

let sandbox: RunningSandbox;
let cfn: CloudFormationClient;
let ec2: EC2Client;
let elb: ElasticLoadBalancingV2Client;

before(async () => {
  sandbox = await startSandbox({ port: 0, timeScale: TIME_SCALE, config: { rootCredentials: [ROOT_KEYS] } });
  const client = { endpoint: sandbox.url, region: 'us-east-1', credentials: ROOT_KEYS, maxAttempts: 1 };
  cfn = new CloudFormationClient(client);
  ec2 = new EC2Client(client);
  elb = new ElasticLoadBalancingV2Client(client);
});

after(async () => {
  cfn?.destroy();
  ec2?.destroy();
  elb?.destroy();
  await sandbox?.close();
});

function template(instanceId: string, healthyThreshold: number): string {
  return JSON.stringify({
    Resources: {
      LoadBalancer: {
        Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer',
        Properties: { Subnets: ['subnet-0a1b2c3d'], SecurityGroups: ['sg-0123abcd'] },
      },
      TargetGroup: {
        Type: 'AWS::ElasticLoadBalancingV2::TargetGroup',
        Properties: {
          Port: 80,
          Protocol: 'HTTP',
          VpcId: 'vpc-0a1b2c3d',
          HealthCheckPath: '/',
          HealthCheckIntervalSeconds: 5,
          HealthCheckTimeoutSeconds: 2,
          HealthyThresholdCount: healthyThreshold,
          UnhealthyThresholdCount: 2,
          Matcher: { HttpCode: '200' },
          TargetGroupAttributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '20' }],
          Targets: [{ Id: instanceId, Port: 80 }],
        },
      },
      Listener: {
        Type: 'AWS::ElasticLoadBalancingV2::Listener',
        Properties: {
          LoadBalancerArn: { Ref: 'LoadBalancer' },
          Port: 80,
          Protocol: 'HTTP',
          DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: 'TargetGroup' } }],
        },
      },
    },
    Outputs: {
      WebsiteURL: { Value: { 'Fn::Sub': 'http://${LoadBalancer.DNSName}/' } },
      LoadBalancerArn: { Value: { Ref: 'LoadBalancer' } },
      FullName: { Value: { 'Fn::GetAtt': ['LoadBalancer', 'LoadBalancerFullName'] } },
      TargetGroupArn: { Value: { Ref: 'TargetGroup' } },
      TargetGroupName: { Value: { 'Fn::GetAtt': ['TargetGroup', 'TargetGroupName'] } },
    },
  });
}

async function settle(name: string): Promise<{ status: string; outputs: Record<string, string> }> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: name }));
    const stack = Stacks?.[0];
    const status = stack?.StackStatus ?? '';
    if (!status.endsWith('_IN_PROGRESS')) {
      const outputs = Object.fromEntries(
        (stack?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']),
      );
      return { status, outputs };
    }
    if (Date.now() > deadline) throw new Error(`${name} still ${status}`);
    await sleep(50);
  }
}

async function failures(name: string): Promise<string[]> {
  const { StackEvents = [] } = await cfn.send(new DescribeStackEventsCommand({ StackName: name }));
  return StackEvents.filter((e) => e.ResourceStatus?.endsWith('FAILED')).map(
    (e) => `${e.LogicalResourceId}: ${e.ResourceStatusReason}`,
  );
}

describe('ELBv2 resources in CloudFormation', () => {
  it('creates a load balancer whose WebsiteURL output really opens the app, updates and deletes it', async () => {
    const instanceId = await launchWebServer(ec2, 'hello from the stack');
    const name = 'elb-web';
    await cfn.send(new CreateStackCommand({ StackName: name, TemplateBody: template(instanceId, 2) }));
    const created = await settle(name);
    assert.equal(created.status, 'CREATE_COMPLETE', (await failures(name)).join('\n'));
    const { WebsiteURL, LoadBalancerArn, FullName, TargetGroupArn, TargetGroupName } =
      created.outputs as Record<string, string>;
    assert.match(WebsiteURL ?? '', /^http:\/\/127\.0\.0\.1:\d+\/$/);
    // A generated name: <stack>-<logical id>-<12 random>, at most 32 characters.
    assert.match(FullName ?? '', /^app\/elb-web-LoadB[\w-]*-[A-Z0-9]{12}\/[0-9a-f]{16}$/);
    assert.ok(LoadBalancerArn?.endsWith(`:loadbalancer/${FullName}`));
    assert.ok(TargetGroupArn?.includes(`:targetgroup/${TargetGroupName}/`));
    assert.ok((TargetGroupName ?? '').length <= 32);

    const attributes = await elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn }));
    assert.equal(
      attributes.Attributes?.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value,
      '20',
    );
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { TargetHealthDescriptions } = await elb.send(
        new DescribeTargetHealthCommand({ TargetGroupArn }),
      );
      if (TargetHealthDescriptions?.[0]?.TargetHealth?.State === 'healthy') break;
      if (Date.now() > deadline) throw new Error('target never became healthy');
      await sleep(25);
    }
    const response = await fetch(WebsiteURL as string);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'hello from the stack');

    // An in-place update (health-check settings) keeps the same load balancer and target group.
    await cfn.send(new UpdateStackCommand({ StackName: name, TemplateBody: template(instanceId, 3) }));
    const updated = await settle(name);
    assert.equal(updated.status, 'UPDATE_COMPLETE', (await failures(name)).join('\n'));
    assert.equal(updated.outputs['TargetGroupArn'], TargetGroupArn);
    assert.equal(updated.outputs['WebsiteURL'], WebsiteURL);

    await cfn.send(new DeleteStackCommand({ StackName: name }));
    const deleted = await settle(name).catch((error: Error) => ({ status: error.message, outputs: {} }));
    assert.match(deleted.status, /DELETE_COMPLETE|does not exist/);
    await assert.rejects(
      elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [LoadBalancerArn as string] })),
      {
        name: 'LoadBalancerNotFoundException',
      },
    );
    await assert.rejects(fetch(WebsiteURL as string));
  });
});
