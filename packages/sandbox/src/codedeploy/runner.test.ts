import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Clock } from '../clock';
import type { AwsEnvironment } from '../aws/service';
import type { LoadBalancing, TargetGroup } from '../elb/types';
import type { AutoScalingGroup, Fleet, Instance } from '../fleet/types';
import type { AgentDeployment, LifecycleEventName, LifecycleEventResult } from './agent/types';
import type { LifecycleAgent } from './agents';
import { batches, DeploymentConfigStore, healthPlan, healthy } from './configs';
import type { DeploymentRecord } from './model';
import { renderDeployment } from './deployments';
import { createCodeDeployService } from './service';

/**
 * The deployment state machine with fakes for the fleet, the load balancer and the agents: health math, event
 * order with traffic control, and blue/green's failure, Ready-timeout and KEEP_ALIVE paths.
 */

let nextId = 0;

function fakeInstance(tags: Record<string, string>, group?: string): Instance {
  nextId += 1;
  return {
    instanceId: `i-${nextId.toString(16).padStart(17, '0')}`,
    state: 'running',
    rootDir: '/nonexistent',
    port: 1,
    privateIpAddress: '10.0.0.1',
    imageId: 'ami-1',
    instanceType: 't3.micro',
    securityGroupIds: [],
    tags,
    launchTime: new Date(Date.now() + nextId),
    ...(group ? { autoScalingGroupName: group } : {}),
  };
}

class FakeFleet {
  readonly all = new Map<string, Instance>();
  readonly groups = new Map<string, AutoScalingGroup>();
  readonly deleted: string[] = [];

  add(instance: Instance): Instance {
    this.all.set(instance.instanceId, instance);
    return instance;
  }

  group(name: string, size: number, targetGroupArns: string[] = []): AutoScalingGroup {
    const ids = Array.from({ length: size }, () => this.add(fakeInstance({}, name)).instanceId);
    const group: AutoScalingGroup = {
      name,
      arn: `arn:aws:autoscaling:::${name}`,
      launchTemplate: { launchTemplateId: 'lt-1', version: '1' },
      minSize: size,
      maxSize: size,
      desiredCapacity: size,
      targetGroupArns,
      vpcZoneIdentifier: ['subnet-1'],
      tags: {},
      instanceIds: ids,
    };
    this.groups.set(name, group);
    return group;
  }

  asFleet(): Fleet {
    const unsupported = () => {
      throw new Error('not used by CodeDeploy');
    };
    return {
      runInstances: unsupported,
      terminateInstances: async (ids) => {
        for (const id of ids) {
          const instance = this.all.get(id);
          if (instance) instance.state = 'terminated';
        }
      },
      instance: (id) => this.all.get(id),
      instances: () => [...this.all.values()].filter((i) => i.state !== 'terminated'),
      trackProcessGroup: () => undefined,
      createLaunchTemplate: unsupported,
      launchTemplate: unsupported,
      createAutoScalingGroup: async (settings) => {
        const group = this.group(settings.name, settings.desiredCapacity, settings.targetGroupArns);
        Object.assign(group, { ...settings, instanceIds: group.instanceIds });
        return group;
      },
      autoScalingGroup: (name) => this.groups.get(name),
      updateAutoScalingGroup: async (name, changes) => {
        const group = this.groups.get(name);
        if (!group) throw new Error(`no group ${name}`);
        Object.assign(group, changes);
        return group;
      },
      deleteAutoScalingGroup: async (name) => {
        const group = this.groups.get(name);
        for (const id of group?.instanceIds ?? []) {
          const instance = this.all.get(id);
          if (instance) instance.state = 'terminated';
        }
        this.groups.delete(name);
        this.deleted.push(name);
      },
      stop: async () => undefined,
    };
  }
}

class FakeLoadBalancing implements LoadBalancing {
  readonly registered = new Set<string>();
  readonly calls: string[] = [];
  readonly group: TargetGroup = {
    arn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1',
    name: 'web',
    port: 80,
    protocol: 'HTTP',
    healthCheck: {
      path: '/',
      intervalSeconds: 5,
      timeoutSeconds: 2,
      healthyThresholdCount: 2,
      unhealthyThresholdCount: 2,
      matcher: '200',
    },
    deregistrationDelaySeconds: 0,
  };
  targetGroup(arnOrName: string) {
    return arnOrName === this.group.name || arnOrName === this.group.arn ? this.group : undefined;
  }
  async registerTargets(_arn: string, ids: string[]) {
    for (const id of ids) this.registered.add(id);
    this.calls.push(`register ${ids.join(',')}`);
  }
  async deregisterTargets(_arn: string, ids: string[]) {
    for (const id of ids) this.registered.delete(id);
    this.calls.push(`deregister ${ids.join(',')}`);
  }
  targetHealth() {
    return [...this.registered].map((instanceId) => ({ instanceId, state: 'healthy' as const }));
  }
  async waitUntilHealthy() {}
  async stop() {}
}

/** Agents that succeed unless told that an event fails on an instance; they record what ran. */
class FakeAgents {
  readonly ran: string[] = [];
  readonly succeeded: string[] = [];
  failing = new Set<string>();

  factory = (instanceId: string): LifecycleAgent => ({
    runEvent: async (
      deployment: AgentDeployment,
      event: LifecycleEventName,
    ): Promise<LifecycleEventResult> => {
      this.ran.push(`${instanceId} ${event}`);
      const failed = this.failing.has(`${instanceId} ${event}`) || this.failing.has(`* ${event}`);
      const now = new Date();
      return {
        lifecycleEventName: event,
        status: failed ? 'Failed' : 'Succeeded',
        startTime: now,
        endTime: now,
        diagnostics: failed
          ? {
              errorCode: 'ScriptFailed',
              scriptName: 'x.sh',
              message: 'Script at specified location: x.sh failed with exit code 1',
              logTail: '',
            }
          : { errorCode: 'Success', scriptName: '', message: 'Succeeded', logTail: '' },
      };
    },
    markSucceeded: (deployment: AgentDeployment) => {
      this.succeeded.push(`${instanceId} ${deployment.deploymentId}`);
    },
  });
}

function harness() {
  const fleet = new FakeFleet();
  const elb = new FakeLoadBalancing();
  const agents = new FakeAgents();
  const env = {
    accountId: '123456789012',
    region: 'us-east-1',
    clock: new Clock(6000),
    fleet: fleet.asFleet(),
    elb,
    log: () => undefined,
  } as unknown as AwsEnvironment;
  const backend = createCodeDeployService(env, { agentFactory: agents.factory });
  const call = (op: string, input: Record<string, unknown>) => backend.invoke(op, input);
  const deploymentRecord = (id: string) => backend.state.deployments.get(id) as DeploymentRecord;
  async function finished(id: string): Promise<DeploymentRecord> {
    for (let i = 0; i < 400; i += 1) {
      const record = deploymentRecord(id);
      if (['Succeeded', 'Failed', 'Stopped'].includes(record.status)) return record;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error(`deployment ${id} did not finish (${deploymentRecord(id).status})`);
  }
  const revision = { revisionType: 'S3', s3Location: { bucket: 'b', key: 'k.zip', bundleType: 'zip' } };
  return { fleet, elb, agents, backend, call, finished, revision };
}

describe('health math', () => {
  const configs = new DeploymentConfigStore(() => new Date());
  const plan = (name: string, total: number) => healthPlan(configs.require(name), total);

  test('OneAtATime: one by one; all must succeed except the last instance', () => {
    const p = plan('CodeDeployDefault.OneAtATime', 3);
    assert.equal(p.batchSize, 1);
    assert.equal(healthy(p, 0, false), true);
    assert.equal(healthy(p, 1, false), false);
    assert.equal(healthy(p, 1, true), true);
    assert.equal(healthy(plan('CodeDeployDefault.OneAtATime', 1), 1, true), false);
  });

  test('HalfAtATime: half at a time; at least half must succeed', () => {
    const p = plan('CodeDeployDefault.HalfAtATime', 4);
    assert.equal(p.batchSize, 2);
    assert.deepEqual(batches([1, 2, 3, 4], p), [
      [1, 2],
      [3, 4],
    ]);
    assert.equal(healthy(p, 2, false), true);
    assert.equal(healthy(p, 3, false), false);
  });

  test('AllAtOnce: everything at once; one success is enough', () => {
    const p = plan('CodeDeployDefault.AllAtOnce', 3);
    assert.equal(p.batchSize, 3);
    assert.equal(healthy(p, 2, false), true);
    assert.equal(healthy(p, 3, false), false);
  });

  test('custom HOST_COUNT at or above the fleet size is refused', () => {
    const store = new DeploymentConfigStore(() => new Date());
    const config = store.create('TwoHealthy', { type: 'HOST_COUNT', value: 2 }, new Date());
    assert.match(healthPlan(config, 2).invalid ?? '', /minimum number of healthy instances/);
    assert.equal(healthPlan(config, 3).batchSize, 1);
  });
});

describe('in-place with fakes', () => {
  test('OneAtATime stops at the first failure: HEALTH_CONSTRAINTS, later instances Skipped', async () => {
    const h = harness();
    const a = h.fleet.add(fakeInstance({ App: 'one' }));
    h.fleet.add(fakeInstance({ App: 'one' }));
    h.agents.failing.add(`${a.instanceId} AfterInstall`);
    await h.call('CreateApplication', { applicationName: 'app' });
    await h.call('CreateDeploymentGroup', {
      applicationName: 'app',
      deploymentGroupName: 'g',
      serviceRoleArn: 'arn:aws:iam::123456789012:role/r',
      ec2TagFilters: [{ Key: 'App', Type: 'KEY_ONLY' }],
    });
    const { deploymentId } = await h.call('CreateDeployment', {
      applicationName: 'app',
      deploymentGroupName: 'g',
      revision: h.revision,
    });
    const done = await h.finished(deploymentId as string);
    assert.equal(done.status, 'Failed');
    assert.equal(done.errorInformation?.code, 'HEALTH_CONSTRAINTS');
    const [first, second] = [...done.targets.values()];
    assert.equal(first?.status, 'Failed');
    assert.deepEqual(
      first?.lifecycleEvents.map((e) => e.status),
      ['Succeeded', 'Succeeded', 'Succeeded', 'Succeeded', 'Failed', 'Skipped', 'Skipped'],
    );
    assert.equal(second?.status, 'Skipped');
    assert.ok(second?.lifecycleEvents.every((e) => e.status === 'Skipped'));
    assert.deepEqual(done.rollbackInfo, undefined);
  });

  test('with traffic control: Block first, Allow last, through the load balancer', async () => {
    const h = harness();
    const instance = h.fleet.add(fakeInstance({ App: 'lb' }));
    await h.call('CreateApplication', { applicationName: 'app' });
    await h.call('CreateDeploymentGroup', {
      applicationName: 'app',
      deploymentGroupName: 'g',
      serviceRoleArn: 'arn:aws:iam::123456789012:role/r',
      ec2TagFilters: [{ Key: 'App', Value: 'lb', Type: 'KEY_AND_VALUE' }],
      deploymentStyle: { deploymentType: 'IN_PLACE', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      loadBalancerInfo: { targetGroupInfoList: [{ name: 'web' }] },
    });
    const { deploymentId } = await h.call('CreateDeployment', {
      applicationName: 'app',
      deploymentGroupName: 'g',
      revision: h.revision,
    });
    const done = await h.finished(deploymentId as string);
    assert.equal(done.status, 'Succeeded');
    assert.deepEqual(
      [...done.targets.values()][0]?.lifecycleEvents.map((e) => e.lifecycleEventName),
      [
        'BeforeBlockTraffic',
        'BlockTraffic',
        'AfterBlockTraffic',
        'ApplicationStop',
        'DownloadBundle',
        'BeforeInstall',
        'Install',
        'AfterInstall',
        'ApplicationStart',
        'ValidateService',
        'BeforeAllowTraffic',
        'AllowTraffic',
        'AfterAllowTraffic',
      ],
    );
    assert.deepEqual(h.elb.calls, [`deregister ${instance.instanceId}`, `register ${instance.instanceId}`]);
    // The agent never sees the service's own events.
    assert.ok(
      !h.agents.ran.some(
        (line) => line.endsWith('BlockTraffic') && !line.includes('Before') && !line.includes('After'),
      ),
    );
    assert.deepEqual(h.agents.succeeded, [`${instance.instanceId} ${deploymentId}`]);
  });
});

async function blueGreenSetup(blueGreen: Record<string, unknown>) {
  const h = harness();
  h.fleet.group('web-asg', 2, [h.elb.group.arn]);
  for (const id of h.fleet.groups.get('web-asg')?.instanceIds ?? []) h.elb.registered.add(id);
  await h.call('CreateApplication', { applicationName: 'app' });
  await h.call('CreateDeploymentGroup', {
    applicationName: 'app',
    deploymentGroupName: 'bg',
    serviceRoleArn: 'arn:aws:iam::123456789012:role/r',
    autoScalingGroups: ['web-asg'],
    deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
    loadBalancerInfo: { targetGroupInfoList: [{ name: 'web' }] },
    blueGreenDeploymentConfiguration: {
      greenFleetProvisioningOption: { action: 'COPY_AUTO_SCALING_GROUP' },
      ...blueGreen,
    },
  });
  return h;
}

describe('blue/green with fakes', () => {
  test('a failure on green before the reroute tears green down; blue keeps serving', async () => {
    const h = await blueGreenSetup({});
    h.agents.failing.add('* ValidateService');
    const blue = [...(h.fleet.groups.get('web-asg')?.instanceIds ?? [])];
    const { deploymentId } = await h.call('CreateDeployment', {
      applicationName: 'app',
      deploymentGroupName: 'bg',
      revision: h.revision,
    });
    const done = await h.finished(deploymentId as string);
    assert.equal(done.status, 'Failed');
    assert.equal(done.errorInformation?.code, 'HEALTH_CONSTRAINTS');
    assert.deepEqual(h.fleet.deleted, [`CodeDeploy_bg_${deploymentId}`]);
    assert.deepEqual([...h.elb.registered].sort(), blue.sort());
    const group = await h.call('GetDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'bg' });
    assert.deepEqual((group['deploymentGroupInfo'] as { autoScalingGroups: unknown }).autoScalingGroups, [
      { name: 'web-asg' },
    ]);
    const blueTargets = [...done.targets.values()].filter((t) => t.label === 'Blue');
    assert.ok(blueTargets.every((t) => t.status === 'Skipped'));
  });

  test('STOP_DEPLOYMENT: Ready until the wait time passes, then Stopped (TIMEOUT)', async () => {
    const h = await blueGreenSetup({
      deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 5 },
    });
    const { deploymentId } = await h.call('CreateDeployment', {
      applicationName: 'app',
      deploymentGroupName: 'bg',
      revision: h.revision,
    });
    const record = h.backend.state.deployments.get(deploymentId as string) as DeploymentRecord;
    for (let i = 0; i < 200 && record.status !== 'Ready'; i += 1) await new Promise((r) => setTimeout(r, 1));
    assert.equal(record.status, 'Ready');
    await assert.rejects(
      h.call('ContinueDeployment', { deploymentId, deploymentWaitType: 'TERMINATION_WAIT' }),
      {
        name: 'InvalidDeploymentWaitTypeException',
      },
    );
    const done = await h.finished(deploymentId as string);
    assert.equal(done.status, 'Stopped');
    assert.equal(done.errorInformation?.code, 'TIMEOUT');
    assert.deepEqual(h.fleet.deleted, [`CodeDeploy_bg_${deploymentId}`]);
  });

  test('KEEP_ALIVE leaves blue running outside the group and the target group', async () => {
    const h = await blueGreenSetup({ terminateBlueInstancesOnDeploymentSuccess: { action: 'KEEP_ALIVE' } });
    const blue = [...(h.fleet.groups.get('web-asg')?.instanceIds ?? [])];
    const { deploymentId } = await h.call('CreateDeployment', {
      applicationName: 'app',
      deploymentGroupName: 'bg',
      revision: h.revision,
    });
    // Targets are unknown until the green fleet exists.
    await assert.rejects(h.call('ListDeploymentTargets', { deploymentId }), {
      name: 'DeploymentNotStartedException',
    });
    assert.equal(
      renderDeployment(h.backend.state.deployments.get(deploymentId as string) as DeploymentRecord)[
        'deploymentOverview'
      ],
      undefined,
    );
    const done = await h.finished(deploymentId as string);
    assert.equal(done.status, 'Succeeded', JSON.stringify(done.errorInformation));
    assert.equal(done.instanceTerminationWaitTimeStarted, false);
    assert.deepEqual(h.fleet.deleted, []);
    assert.ok(blue.every((id) => h.fleet.all.get(id)?.state === 'running'));
    assert.ok(blue.every((id) => !h.elb.registered.has(id)));
    assert.deepEqual(h.fleet.groups.get('web-asg')?.targetGroupArns, []);
    const green = h.fleet.groups.get(`CodeDeploy_bg_${deploymentId}`);
    assert.deepEqual(green?.targetGroupArns, [h.elb.group.arn]);
    assert.ok(green?.instanceIds.every((id) => h.elb.registered.has(id)));
    // Green instances ran the install and Allow events; blue only the Block events.
    const [greenTarget] = [...done.targets.values()].filter((t) => t.label === 'Green');
    assert.equal(greenTarget?.lifecycleEvents.length, 10);
    const [blueTarget] = [...done.targets.values()].filter((t) => t.label === 'Blue');
    assert.deepEqual(
      blueTarget?.lifecycleEvents.map((e) => e.lifecycleEventName),
      ['BeforeBlockTraffic', 'BlockTraffic', 'AfterBlockTraffic'],
    );
  });

  test('auto-rollback of a blue/green failure is a quick deployment back to the original fleet', async () => {
    const h = await blueGreenSetup({});
    await h.call('UpdateDeploymentGroup', {
      applicationName: 'app',
      currentDeploymentGroupName: 'bg',
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
    });
    const first = await h.call('CreateDeployment', {
      applicationName: 'app',
      deploymentGroupName: 'bg',
      revision: h.revision,
    });
    assert.equal((await h.finished(first['deploymentId'] as string)).status, 'Succeeded');
    h.agents.failing.add('* ValidateService');
    const second = await h.call('CreateDeployment', {
      applicationName: 'app',
      deploymentGroupName: 'bg',
      revision: { revisionType: 'S3', s3Location: { bucket: 'b', key: 'v2.zip', bundleType: 'zip' } },
    });
    const failed = await h.finished(second['deploymentId'] as string);
    assert.equal(failed.status, 'Failed');
    const rollbackId = failed.rollbackInfo?.rollbackDeploymentId as string;
    const rollback = await h.finished(rollbackId);
    assert.equal(rollback.status, 'Succeeded', JSON.stringify(rollback.errorInformation));
    assert.equal(rollback.creator, 'codeDeployRollback');
    assert.equal(rollback.rollbackInfo?.rollbackTriggeringDeploymentId, second['deploymentId']);
    assert.equal(rollback.revision.s3Location.key, 'k.zip');
  });
});
