import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  SetDesiredCapacityCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import {
  CreateLaunchTemplateCommand,
  DescribeAvailabilityZonesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type Instance,
} from '@aws-sdk/client-ec2';
import { startSandbox, type RunningSandbox } from '../src/index';
import { blogConfig, ROOT_KEYS, waitFor, withTempDir } from './support';

/**
 * EC2 and Auto Scaling through the AWS SDK v3 (and the AWS CLI): instances are real directories, ports and
 * processes, so these tests check what ran, what answers on the instance's port and what is gone afterwards.
 * The sandbox runs at timeScale 10, so an instance's simulated 2 s in `pending` lasts 200 ms.
 */

const run = promisify(execFile);
const TIME_SCALE = 10;

let sandbox: RunningSandbox;
let ec2: EC2Client;
let autoscaling: AutoScalingClient;
let cfn: CloudFormationClient;
let counter = 0;

function unique(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

/** A web server on the instance's port serving a page from the instance's /var/www/html. */
function webServerUserData(marker: string): string {
  const script = [
    '#!/bin/bash',
    'set -e',
    `echo "${marker} from $KEYLESS_INSTANCE_ID" > "$KEYLESS_INSTANCE_ROOT/var/www/html/index.html"`,
    'cd "$KEYLESS_INSTANCE_ROOT/var/www/html"',
    'python3 -m http.server "$KEYLESS_INSTANCE_PORT" --bind 127.0.0.1 >/dev/null 2>&1 &',
    'echo started',
  ].join('\n');
  return Buffer.from(script).toString('base64');
}

async function fetchText(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    return response.ok ? await response.text() : undefined;
  } catch {
    return undefined;
  }
}

async function answers(port: number): Promise<boolean> {
  return (await fetchText(`http://127.0.0.1:${port}/`)) !== undefined;
}

/** The sandbox knows each instance's port; the API shows only 127.0.0.1, so tests read it from the fleet log line. */
function portOf(logs: string[], instanceId: string): number {
  const line = logs.find((l) => l.includes(`ec2 ${instanceId}: launched (port `));
  const match = /port (\d+)/.exec(line ?? '');
  assert.ok(match, `no launch log line for ${instanceId}`);
  return Number(match[1]);
}

async function describeInstance(instanceId: string): Promise<Instance> {
  const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const instance = out.Reservations?.[0]?.Instances?.[0];
  assert.ok(instance);
  return instance;
}

async function describeGroup(name: string): Promise<AutoScalingGroup | undefined> {
  const out = await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
  return out.AutoScalingGroups?.[0];
}

const logs: string[] = [];

before(async () => {
  sandbox = await startSandbox({
    port: 0,
    timeScale: TIME_SCALE,
    log: (line) => logs.push(line),
    config: { ...blogConfig(), cloudformation: { providerDelaySeconds: 0 } },
  });
  const clientConfig = {
    endpoint: sandbox.url,
    region: 'us-east-1',
    credentials: ROOT_KEYS,
  };
  ec2 = new EC2Client(clientConfig);
  autoscaling = new AutoScalingClient(clientConfig);
  cfn = new CloudFormationClient(clientConfig);
});

after(async () => {
  await sandbox.close();
});

describe('EC2', () => {
  test('launch template → RunInstances → user data serves on the instance port → TerminateInstances stops it', async () => {
    const name = unique('web');
    const created = await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: name,
        LaunchTemplateData: {
          ImageId: 'ami-0abcdef1234567890',
          InstanceType: 't3.micro',
          UserData: webServerUserData('hello'),
          TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'App', Value: name }] }],
        },
      }),
    );
    const templateId = created.LaunchTemplate?.LaunchTemplateId;
    assert.match(templateId ?? '', /^lt-[0-9a-f]{17}$/);
    assert.equal(created.LaunchTemplate?.LatestVersionNumber, 1);

    const versions = await ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: templateId, Versions: ['$Latest'] }),
    );
    assert.equal(versions.LaunchTemplateVersions?.[0]?.LaunchTemplateData?.InstanceType, 't3.micro');
    assert.equal(versions.LaunchTemplateVersions?.[0]?.DefaultVersion, true);

    const ran = await ec2.send(
      new RunInstancesCommand({
        MinCount: 1,
        MaxCount: 1,
        LaunchTemplate: { LaunchTemplateName: name, Version: '$Latest' },
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'web-1' }] }],
      }),
    );
    const launched = ran.Instances?.[0];
    const instanceId = launched?.InstanceId ?? '';
    assert.match(instanceId, /^i-[0-9a-f]{17}$/);
    assert.equal(launched?.State?.Name, 'pending');
    assert.equal(launched?.State?.Code, 0);
    assert.equal(launched?.InstanceType, 't3.micro');
    assert.equal(launched?.ImageId, 'ami-0abcdef1234567890');

    const running = await waitFor('running', async () => {
      const instance = await describeInstance(instanceId);
      return instance.State?.Name === 'running' ? instance : undefined;
    });
    assert.equal(running.PrivateIpAddress, '127.0.0.1');
    assert.equal(running.Placement?.AvailabilityZone, 'us-east-1a');
    assert.ok(running.LaunchTime instanceof Date);
    const tags = Object.fromEntries((running.Tags ?? []).map((t) => [t.Key, t.Value]));
    assert.equal(tags['Name'], 'web-1');
    assert.equal(tags['App'], name);
    assert.equal(tags['aws:ec2launchtemplate:id'], templateId);

    // Filters: by tag, by state, by tag key, by id.
    const byTag = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'tag:App', Values: [name] },
          { Name: 'instance-state-name', Values: ['running'] },
        ],
      }),
    );
    assert.deepEqual(
      byTag.Reservations?.flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId),
      [instanceId],
    );
    const noneStopped = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'instance-id', Values: [instanceId] },
          { Name: 'instance-state-name', Values: ['stopped', 'terminated'] },
        ],
      }),
    );
    assert.deepEqual(noneStopped.Reservations, []);
    const byKey = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'tag-key', Values: ['App'] }] }),
    );
    assert.ok(byKey.Reservations?.some((r) => r.Instances?.some((i) => i.InstanceId === instanceId)));

    // The user data really ran: its page is on disk and its server answers on the instance's port.
    const port = portOf(logs, instanceId);
    const page = await waitFor('the instance web server', () => fetchText(`http://127.0.0.1:${port}/`));
    assert.equal(page.trim(), `hello from ${instanceId}`);
    const root = join(
      logs
        .find((l) => l.includes(`ec2 ${instanceId}: launched`))
        ?.split('root ')[1]
        ?.replace(/\)$/, '') ?? '',
    );
    assert.equal(
      (await readFile(join(root, 'var/www/html/index.html'), 'utf8')).trim(),
      `hello from ${instanceId}`,
    );
    assert.match(await readFile(join(root, 'var/log/cloud-init-output.log'), 'utf8'), /started/);

    const terminated = await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
    const change = terminated.TerminatingInstances?.[0];
    assert.equal(change?.PreviousState?.Name, 'running');
    assert.equal(change?.CurrentState?.Name, 'shutting-down');
    assert.equal(change?.CurrentState?.Code, 32);
    await waitFor('terminated', async () =>
      (await describeInstance(instanceId)).State?.Name === 'terminated' ? true : undefined,
    );
    assert.equal(await answers(port), false, 'the instance web server must be gone after terminate');
  });

  test('errors come back in EC2 shape with EC2 codes', async () => {
    await assert.rejects(
      ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })),
      (error: Error) => {
        assert.equal(error.name, 'InvalidInstanceID.NotFound');
        assert.equal(error.message, "The instance ID 'i-0123456789abcdef0' does not exist");
        return true;
      },
    );
    await assert.rejects(
      ec2.send(new TerminateInstancesCommand({ InstanceIds: ['i-nothex'] })),
      (error: Error) => error.name === 'InvalidInstanceID.Malformed',
    );
    await assert.rejects(
      ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: [unique('missing')] })),
      (error: Error) => error.name === 'InvalidLaunchTemplateName.NotFoundException',
    );
    const name = unique('dup');
    await ec2.send(
      new CreateLaunchTemplateCommand({ LaunchTemplateName: name, LaunchTemplateData: { ImageId: 'ami-1' } }),
    );
    await assert.rejects(
      ec2.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: name,
          LaunchTemplateData: { ImageId: 'ami-1' },
        }),
      ),
      (error: Error) => {
        assert.equal(error.name, 'InvalidLaunchTemplateName.AlreadyExistsException');
        assert.equal(error.message, 'Launch template name already in use.');
        return true;
      },
    );
  });

  test('DescribeAvailabilityZones lists the region zones', async () => {
    const out = await ec2.send(new DescribeAvailabilityZonesCommand({}));
    assert.deepEqual(
      out.AvailabilityZones?.map((z) => [z.ZoneName, z.State, z.ZoneId]),
      [
        ['us-east-1a', 'available', 'use1-az1'],
        ['us-east-1b', 'available', 'use1-az2'],
        ['us-east-1c', 'available', 'use1-az3'],
      ],
    );
  });
});

describe('Auto Scaling', () => {
  test('create → InService → scale up and down → delete (ResourceInUse without ForceDelete)', async () => {
    const name = unique('asg');
    const template = await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: `${name}-lt`,
        LaunchTemplateData: {
          ImageId: 'ami-0abc',
          InstanceType: 't3.small',
          UserData: webServerUserData('asg'),
        },
      }),
    );
    const templateId = template.LaunchTemplate?.LaunchTemplateId ?? '';
    await autoscaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: name,
        LaunchTemplate: { LaunchTemplateId: templateId, Version: '$Latest' },
        MinSize: 1,
        MaxSize: 3,
        DesiredCapacity: 2,
        Tags: [{ Key: 'Team', Value: 'web', PropagateAtLaunch: true }],
      }),
    );
    await assert.rejects(
      autoscaling.send(
        new CreateAutoScalingGroupCommand({
          AutoScalingGroupName: name,
          LaunchTemplate: { LaunchTemplateId: templateId },
          MinSize: 1,
          MaxSize: 1,
        }),
      ),
      // The SDK names modeled awsQuery errors by shape: code AlreadyExists is AlreadyExistsFault.
      (error: Error) => error.name === 'AlreadyExistsFault',
    );
    const inService = async (count: number): Promise<AutoScalingGroup> =>
      waitFor(`${count} InService`, async () => {
        const group = await describeGroup(name);
        const instances = group?.Instances ?? [];
        return instances.length === count && instances.every((i) => i.LifecycleState === 'InService')
          ? group
          : undefined;
      });
    const group = await inService(2);
    assert.equal(group.DesiredCapacity, 2);
    assert.equal(group.LaunchTemplate?.LaunchTemplateId, templateId);
    assert.equal(group.LaunchTemplate?.Version, '$Latest');
    assert.match(group.AutoScalingGroupARN ?? '', new RegExp(`:autoScalingGroupName/${name}$`));
    assert.equal(group.Instances?.[0]?.HealthStatus, 'Healthy');
    assert.equal(group.Instances?.[0]?.LaunchTemplate?.Version, '1');
    const firstIds = (group.Instances ?? []).map((i) => i.InstanceId ?? '');

    // Instances carry the group tag and the propagated tags; their web servers answer.
    const described = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'tag:aws:autoscaling:groupName', Values: [name] }] }),
    );
    const members = described.Reservations?.flatMap((r) => r.Instances ?? []) ?? [];
    assert.deepEqual(members.map((i) => i.InstanceId).sort(), [...firstIds].sort());
    for (const member of members) assert.ok(member.Tags?.some((t) => t.Key === 'Team' && t.Value === 'web'));
    const ports = firstIds.map((id) => portOf(logs, id));
    for (const port of ports)
      await waitFor('asg instance web server', () => fetchText(`http://127.0.0.1:${port}/`));

    const rows = await autoscaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: firstIds }));
    assert.deepEqual(
      rows.AutoScalingInstances?.map((r) => [r.AutoScalingGroupName, r.HealthStatus]),
      [
        [name, 'HEALTHY'],
        [name, 'HEALTHY'],
      ],
    );

    await assert.rejects(
      autoscaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: name, DesiredCapacity: 4 })),
      (error: Error) => {
        assert.equal(error.name, 'ValidationError');
        assert.match(error.message, /above max value 3/);
        return true;
      },
    );
    await autoscaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: name, DesiredCapacity: 3 }));
    await inService(3);

    await autoscaling.send(
      new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, MinSize: 0, DesiredCapacity: 1 }),
    );
    const scaledIn = await inService(1);
    const gone = firstIds.filter((id) => !scaledIn.Instances?.some((i) => i.InstanceId === id));
    assert.ok(gone.length >= 1);
    for (const id of gone) {
      await waitFor('scaled-in instance terminated', async () =>
        (await describeInstance(id)).State?.Name === 'terminated' ? true : undefined,
      );
      assert.equal(await answers(portOf(logs, id)), false);
    }

    await assert.rejects(
      autoscaling.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name })),
      (error: Error) => {
        assert.equal(error.name, 'ResourceInUseFault');
        assert.equal(
          error.message,
          'You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.',
        );
        return true;
      },
    );
    const lastId = scaledIn.Instances?.[0]?.InstanceId ?? '';
    await autoscaling.send(
      new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name, ForceDelete: true }),
    );
    await waitFor('group deleted', async () =>
      (await describeGroup(name)) === undefined ? true : undefined,
    );
    assert.equal((await describeInstance(lastId)).State?.Name, 'terminated');
    await assert.rejects(
      autoscaling.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name, ForceDelete: true })),
      (error: Error) => {
        assert.equal(error.name, 'ValidationError');
        assert.equal(error.message, `AutoScalingGroup name not found - AutoScalingGroup '${name}' not found`);
        return true;
      },
    );
  });

  test('capacity outside min..max is refused with AWS wording', async () => {
    const template = await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: unique('cap'),
        LaunchTemplateData: { ImageId: 'ami-1' },
      }),
    );
    await assert.rejects(
      autoscaling.send(
        new CreateAutoScalingGroupCommand({
          AutoScalingGroupName: unique('cap'),
          LaunchTemplate: { LaunchTemplateId: template.LaunchTemplate?.LaunchTemplateId },
          MinSize: 2,
          MaxSize: 3,
          DesiredCapacity: 1,
        }),
      ),
      (error: Error) => {
        assert.equal(error.name, 'ValidationError');
        assert.equal(
          error.message,
          'Desired capacity:1 must be between the specified min size:2 and max size:3',
        );
        return true;
      },
    );
  });
});

describe('CloudFormation', () => {
  test('VPC, subnet, security group, launch template and ASG reach CREATE_COMPLETE with instances running; delete terminates them', async () => {
    const stackName = unique('fleet-stack');
    const userData = [
      '#!/bin/bash',
      'echo "stack page" > "$KEYLESS_INSTANCE_ROOT/var/www/html/index.html"',
    ].join('\n');
    const template = {
      AWSTemplateFormatVersion: '2010-09-09',
      Resources: {
        Vpc: { Type: 'AWS::EC2::VPC', Properties: { CidrBlock: '10.0.0.0/16' } },
        Gateway: { Type: 'AWS::EC2::InternetGateway' },
        Attachment: {
          Type: 'AWS::EC2::VPCGatewayAttachment',
          Properties: { VpcId: { Ref: 'Vpc' }, InternetGatewayId: { Ref: 'Gateway' } },
        },
        Subnet: {
          Type: 'AWS::EC2::Subnet',
          Properties: {
            VpcId: { Ref: 'Vpc' },
            CidrBlock: '10.0.1.0/24',
            AvailabilityZone: { 'Fn::Select': [1, { 'Fn::GetAZs': '' }] },
          },
        },
        Routes: { Type: 'AWS::EC2::RouteTable', Properties: { VpcId: { Ref: 'Vpc' } } },
        DefaultRoute: {
          Type: 'AWS::EC2::Route',
          DependsOn: 'Attachment',
          Properties: {
            RouteTableId: { Ref: 'Routes' },
            DestinationCidrBlock: '0.0.0.0/0',
            GatewayId: { Ref: 'Gateway' },
          },
        },
        SubnetRoutes: {
          Type: 'AWS::EC2::SubnetRouteTableAssociation',
          Properties: { SubnetId: { Ref: 'Subnet' }, RouteTableId: { Ref: 'Routes' } },
        },
        WebGroup: {
          Type: 'AWS::EC2::SecurityGroup',
          Properties: {
            GroupDescription: 'web',
            VpcId: { Ref: 'Vpc' },
            SecurityGroupIngress: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, CidrIp: '0.0.0.0/0' }],
          },
        },
        Template: {
          Type: 'AWS::EC2::LaunchTemplate',
          Properties: {
            LaunchTemplateData: {
              ImageId: 'ami-0abc',
              InstanceType: 't3.micro',
              SecurityGroupIds: [{ 'Fn::GetAtt': ['WebGroup', 'GroupId'] }],
              UserData: { 'Fn::Base64': userData },
            },
          },
        },
        Group: {
          Type: 'AWS::AutoScaling::AutoScalingGroup',
          Properties: {
            LaunchTemplate: {
              LaunchTemplateId: { Ref: 'Template' },
              Version: { 'Fn::GetAtt': ['Template', 'LatestVersionNumber'] },
            },
            MinSize: '1',
            MaxSize: 2,
            DesiredCapacity: '2',
            VPCZoneIdentifier: [{ Ref: 'Subnet' }],
            Tags: [{ Key: 'Name', Value: 'web', PropagateAtLaunch: true }],
          },
        },
      },
      Outputs: {
        GroupName: { Value: { Ref: 'Group' } },
        Zone: { Value: { 'Fn::GetAtt': ['Subnet', 'AvailabilityZone'] } },
        VpcCidr: { Value: { 'Fn::GetAtt': ['Vpc', 'CidrBlock'] } },
      },
    };
    await cfn.send(new CreateStackCommand({ StackName: stackName, TemplateBody: JSON.stringify(template) }));
    const stack = await waitFor(
      'CREATE_COMPLETE',
      async () => {
        const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
        const found = out.Stacks?.[0];
        if (found?.StackStatus === 'CREATE_COMPLETE') return found;
        assert.ok(
          !/FAILED|ROLLBACK/.test(found?.StackStatus ?? ''),
          `stack ${found?.StackStatus}: ${found?.StackStatusReason}`,
        );
        return undefined;
      },
      60_000,
    );
    const outputs = Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
    assert.equal(outputs['Zone'], 'us-east-1b');
    assert.equal(outputs['VpcCidr'], '10.0.0.0/16');
    const resources = await cfn.send(new DescribeStackResourcesCommand({ StackName: stackName }));
    const physical = Object.fromEntries(
      (resources.StackResources ?? []).map((r) => [r.LogicalResourceId, r.PhysicalResourceId]),
    );
    assert.match(physical['Vpc'] ?? '', /^vpc-[0-9a-f]{17}$/);
    assert.match(physical['Subnet'] ?? '', /^subnet-[0-9a-f]{17}$/);
    assert.match(physical['WebGroup'] ?? '', /^sg-[0-9a-f]{17}$/);
    assert.match(physical['Gateway'] ?? '', /^igw-[0-9a-f]{17}$/);
    assert.match(physical['Template'] ?? '', /^lt-[0-9a-f]{17}$/);

    const group = await describeGroup(outputs['GroupName'] ?? '');
    assert.equal(group?.Instances?.length, 2);
    assert.ok(group?.Instances?.every((i) => i.LifecycleState === 'InService'));
    const ids = group?.Instances?.map((i) => i.InstanceId ?? '') ?? [];
    for (const id of ids) {
      const instance = await describeInstance(id);
      assert.equal(instance.State?.Name, 'running');
      assert.equal(instance.SubnetId, physical['Subnet']);
      assert.equal(instance.Placement?.AvailabilityZone, 'us-east-1b');
      assert.deepEqual(
        instance.SecurityGroups?.map((g) => g.GroupId),
        [physical['WebGroup']],
      );
      assert.ok(
        instance.Tags?.some((t) => t.Key === 'aws:cloudformation:stack-name' && t.Value === stackName),
      );
    }

    await cfn.send(new DeleteStackCommand({ StackName: stackName }));
    await waitFor(
      'DELETE_COMPLETE',
      async () => {
        const out = await cfn
          .send(new DescribeStacksCommand({ StackName: stackName }))
          .catch(() => undefined);
        const status = out?.Stacks?.[0]?.StackStatus;
        assert.notEqual(status, 'DELETE_FAILED', out?.Stacks?.[0]?.StackStatusReason);
        return out === undefined || status === 'DELETE_COMPLETE' ? true : undefined;
      },
      60_000,
    );
    for (const id of ids) assert.equal((await describeInstance(id)).State?.Name, 'terminated');
  });
});

test('the blog shape: an ALB forwards to the target group the ASG registers its instances with', async () => {
  const stackName = unique('fleet-alb');
  const template = {
    AWSTemplateFormatVersion: '2010-09-09',
    Resources: {
      Vpc: { Type: 'AWS::EC2::VPC', Properties: { CidrBlock: '10.1.0.0/16' } },
      SubnetA: {
        Type: 'AWS::EC2::Subnet',
        Properties: { VpcId: { Ref: 'Vpc' }, CidrBlock: '10.1.1.0/24', AvailabilityZone: 'us-east-1a' },
      },
      SubnetB: {
        Type: 'AWS::EC2::Subnet',
        Properties: { VpcId: { Ref: 'Vpc' }, CidrBlock: '10.1.2.0/24', AvailabilityZone: 'us-east-1b' },
      },
      Targets: {
        Type: 'AWS::ElasticLoadBalancingV2::TargetGroup',
        Properties: {
          Port: 80,
          Protocol: 'HTTP',
          VpcId: { Ref: 'Vpc' },
          HealthCheckIntervalSeconds: 5,
          HealthyThresholdCount: 2,
        },
      },
      Balancer: {
        Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer',
        Properties: { Subnets: [{ Ref: 'SubnetA' }, { Ref: 'SubnetB' }] },
      },
      Http: {
        Type: 'AWS::ElasticLoadBalancingV2::Listener',
        Properties: {
          LoadBalancerArn: { Ref: 'Balancer' },
          Port: 80,
          Protocol: 'HTTP',
          DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: 'Targets' } }],
        },
      },
      Template: {
        Type: 'AWS::EC2::LaunchTemplate',
        Properties: { LaunchTemplateData: { ImageId: 'ami-0abc', UserData: webServerUserData('blog') } },
      },
      Group: {
        Type: 'AWS::AutoScaling::AutoScalingGroup',
        Properties: {
          LaunchTemplate: { LaunchTemplateId: { Ref: 'Template' }, Version: '$Latest' },
          MinSize: 1,
          MaxSize: 2,
          DesiredCapacity: 1,
          VPCZoneIdentifier: [{ Ref: 'SubnetA' }, { Ref: 'SubnetB' }],
          TargetGroupARNs: [{ Ref: 'Targets' }],
        },
      },
    },
    Outputs: {
      WebsiteURL: { Value: { 'Fn::Join': ['', ['http://', { 'Fn::GetAtt': ['Balancer', 'DNSName'] }]] } },
    },
  };
  await cfn.send(new CreateStackCommand({ StackName: stackName, TemplateBody: JSON.stringify(template) }));
  const stack = await waitFor(
    'CREATE_COMPLETE',
    async () => {
      const found = (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
      assert.ok(
        !/FAILED|ROLLBACK/.test(found?.StackStatus ?? ''),
        `${found?.StackStatus}: ${found?.StackStatusReason}`,
      );
      return found?.StackStatus === 'CREATE_COMPLETE' ? found : undefined;
    },
    60_000,
  );
  const url = stack.Outputs?.find((o) => o.OutputKey === 'WebsiteURL')?.OutputValue ?? '';
  const page = await waitFor('the site through the load balancer', async () => {
    const text = await fetchText(url);
    return text?.startsWith('blog from i-') ? text : undefined;
  });
  assert.match(page, /^blog from i-[0-9a-f]{17}/);

  await cfn.send(new DeleteStackCommand({ StackName: stackName }));
  await waitFor(
    'DELETE_COMPLETE',
    async () => {
      const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName })).catch(() => undefined);
      const status = out?.Stacks?.[0]?.StackStatus;
      assert.notEqual(status, 'DELETE_FAILED', out?.Stacks?.[0]?.StackStatusReason);
      return out === undefined || status === 'DELETE_COMPLETE' ? true : undefined;
    },
    60_000,
  );
});

test('the AWS CLI reads DescribeInstances', async (t) => {
  const version = await run('aws', ['--version'], { timeout: 20_000 }).catch(() => undefined);
  if (!version) {
    t.skip('AWS CLI not installed: `aws` is not on PATH, so the CLI compatibility check cannot run');
    return;
  }
  const ran = await ec2.send(
    new RunInstancesCommand({
      MinCount: 2,
      MaxCount: 2,
      ImageId: 'ami-0cli',
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Cli', Value: 'yes' }] }],
    }),
  );
  const ids = ran.Instances?.map((i) => i.InstanceId ?? '') ?? [];
  await withTempDir(async (dir) => {
    await writeFile(join(dir, 'config'), '');
    await writeFile(join(dir, 'credentials'), '');
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('AWS_')) env[key] = value;
    const { stdout } = await run(
      'aws',
      [
        'ec2',
        'describe-instances',
        '--endpoint-url',
        sandbox.url,
        '--region',
        'us-east-1',
        '--filters',
        'Name=tag:Cli,Values=yes',
        '--output',
        'json',
      ],
      {
        timeout: 60_000,
        env: {
          ...env,
          AWS_CONFIG_FILE: join(dir, 'config'),
          AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
          AWS_ACCESS_KEY_ID: ROOT_KEYS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: ROOT_KEYS.secretAccessKey,
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_PAGER: '',
        },
      },
    );
    const parsed = JSON.parse(stdout) as {
      Reservations: Array<{
        Instances: Array<{ InstanceId: string; ImageId: string; State: { Name: string } }>;
      }>;
    };
    const instances = parsed.Reservations.flatMap((r) => r.Instances);
    assert.deepEqual(instances.map((i) => i.InstanceId).sort(), [...ids].sort());
    assert.ok(instances.every((i) => i.ImageId === 'ami-0cli'));
  });
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }));
});
