import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { Clock } from '../src/clock';
import type { LoadBalancing, TargetGroup } from '../src/elb/types';
import { createFleet } from '../src/fleet/fleet';
import { startSandbox } from '../src/index';
import { blogConfig, completedText, ROOT_KEYS, waitFor, withTempDir } from './support';

/**
 * The fleet's process and load-balancer lifecycle, in-process: nothing an instance starts outlives it or the
 * sandbox, and Auto Scaling registers instances once running and deregisters them before they stop.
 */

/** Whether the process still runs. A killed orphan stays a zombie until PID 1 reaps it; it no longer runs. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return !existsSync('/proc/self/stat');
  }
}

const base64 = (text: string): string => Buffer.from(text).toString('base64');

/** Records calls, and checks each deregistered instance is still running when it leaves (drain before stop). */
function recordingLoadBalancing(instanceState: (id: string) => string | undefined): {
  elb: LoadBalancing;
  events: string[];
} {
  const events: string[] = [];
  const group: TargetGroup = {
    arn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef',
    name: 'web',
    port: 80,
    protocol: 'HTTP',
    healthCheck: {
      path: '/',
      intervalSeconds: 30,
      timeoutSeconds: 5,
      healthyThresholdCount: 5,
      unhealthyThresholdCount: 2,
      matcher: '200',
    },
    deregistrationDelaySeconds: 300,
  };
  const elb: LoadBalancing = {
    targetGroup: (arnOrName) => (arnOrName === group.arn || arnOrName === group.name ? group : undefined),
    async registerTargets(arn, ids) {
      for (const id of ids) events.push(`register ${id} (${instanceState(id)})`);
      assert.equal(arn, group.arn);
    },
    async deregisterTargets(arn, ids) {
      for (const id of ids) events.push(`deregister ${id} (${instanceState(id)})`);
      assert.equal(arn, group.arn);
    },
    targetHealth: () => [],
    waitUntilHealthy: async () => undefined,
    stop: async () => undefined,
  };
  return { elb, events };
}

test('an Auto Scaling group registers instances once running, deregisters them before they stop; a copy from its launch template works', async () => {
  await withTempDir(async (dataDir) => {
    const states: { of?: (id: string) => string | undefined } = {};
    const { elb, events } = recordingLoadBalancing((id) => states.of?.(id));
    const fleet = await createFleet({
      accountId: '123456789012',
      region: 'us-east-1',
      clock: new Clock(20),
      log: () => undefined,
      dataDir,
      elb: () => elb,
    });
    states.of = (id) => fleet.instance(id)?.state;
    try {
      const template = fleet.createLaunchTemplate('blue-lt', {
        imageId: 'ami-1',
        instanceType: 't3.micro',
        userData: base64(
          'echo "$KEYLESS_INSTANCE_ID:$KEYLESS_INSTANCE_PORT" > "$KEYLESS_INSTANCE_ROOT/tmp/whoami"',
        ),
      });
      assert.deepEqual(fleet.launchTemplate('blue-lt')?.launchTemplateId, template.launchTemplateId);
      const blue = await fleet.createAutoScalingGroup({
        name: 'blue',
        launchTemplate: template,
        minSize: 1,
        maxSize: 4,
        desiredCapacity: 2,
        targetGroupArns: [elb.targetGroup('web')?.arn ?? ''],
        vpcZoneIdentifier: [],
        tags: { App: 'web' },
      });
      assert.equal(blue.instanceIds.length, 2);
      for (const id of blue.instanceIds) {
        const instance = fleet.instance(id);
        assert.equal(instance?.state, 'running');
        assert.equal(instance?.autoScalingGroupName, 'blue');
        assert.equal(instance?.tags['aws:autoscaling:groupName'], 'blue');
        assert.ok(events.includes(`register ${id} (running)`));
        const whoami = await waitFor(
          'user data',
          () => completedText(join(instance?.rootDir ?? '', 'tmp/whoami')),
          15_000,
        );
        assert.equal(whoami.trim(), `${id}:${instance?.port}`);
      }
      assert.equal(fleet.instances({ tags: { 'aws:autoscaling:groupName': 'blue' } }).length, 2);

      // CodeDeploy's COPY_AUTO_SCALING_GROUP: a new group from the original's launch template and capacity.
      const original = fleet.autoScalingGroup('blue');
      assert.ok(original);
      const green = await fleet.createAutoScalingGroup({
        name: 'CodeDeploy_web_d-ABCDEFGHI',
        launchTemplate: original.launchTemplate,
        minSize: original.minSize,
        maxSize: original.maxSize,
        desiredCapacity: original.desiredCapacity,
        targetGroupArns: [],
        vpcZoneIdentifier: original.vpcZoneIdentifier,
        tags: original.tags,
      });
      assert.equal(green.instanceIds.length, 2);
      assert.ok(green.instanceIds.every((id) => !blue.instanceIds.includes(id)));
      const ports = new Set(
        [...blue.instanceIds, ...green.instanceIds].map((id) => fleet.instance(id)?.port),
      );
      assert.equal(ports.size, 4, 'every instance has a port of its own');

      const scaledIn = blue.instanceIds[0] ?? '';
      await fleet.updateAutoScalingGroup('blue', { desiredCapacity: 1 });
      assert.equal(blue.instanceIds.length, 1);
      assert.ok(events.includes(`deregister ${scaledIn} (shutting-down)`), events.join('\n'));
      assert.equal(fleet.instance(scaledIn)?.state, 'terminated');

      const remaining = blue.instanceIds[0] ?? '';
      await fleet.deleteAutoScalingGroup('blue');
      assert.equal(fleet.autoScalingGroup('blue'), undefined);
      assert.ok(events.includes(`deregister ${remaining} (shutting-down)`));
      assert.equal(fleet.instance(remaining)?.state, 'terminated');
      assert.ok(
        events.indexOf(`deregister ${remaining} (shutting-down)`) >
          events.indexOf(`register ${remaining} (running)`),
      );
    } finally {
      await fleet.stop();
    }
  });
});

test('terminate kills tracked process groups, including daemons registered by others', async () => {
  await withTempDir(async (dataDir) => {
    const fleet = await createFleet({
      accountId: '123456789012',
      region: 'us-east-1',
      clock: new Clock(20),
      log: () => undefined,
      dataDir,
      elb: () => {
        throw new Error('no load balancers in this test');
      },
    });
    try {
      const [instance] = await fleet.runInstances({
        imageId: 'ami-1',
        count: 1,
        userData: base64('sleep 1000 &\necho $! > "$KEYLESS_INSTANCE_ROOT/tmp/sleep.pid"\n'),
      });
      assert.ok(instance);
      const pidText = await waitFor(
        'user data pid',
        () => completedText(join(instance.rootDir, 'tmp/sleep.pid')),
        15_000,
      );
      const userDataPid = Number(pidText.trim());
      // A daemon a hook would start: its own process group, registered with the fleet.
      const daemon = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
      daemon.unref();
      assert.ok(daemon.pid);
      fleet.trackProcessGroup(instance.instanceId, daemon.pid);
      assert.ok(alive(userDataPid) && alive(daemon.pid));

      await fleet.terminateInstances([instance.instanceId]);
      assert.equal(fleet.instance(instance.instanceId)?.state, 'terminated');
      assert.equal(alive(userDataPid), false, 'the user data background job survived terminate');
      assert.equal(alive(daemon.pid), false, 'the tracked daemon survived terminate');
      assert.deepEqual(fleet.instances(), []);
      await fleet.terminateInstances([instance.instanceId]);
    } finally {
      await fleet.stop();
    }
  });
});

test('no instance process survives sandbox close', async () => {
  await withTempDir(async (dataDir) => {
    const sandbox = await startSandbox({ port: 0, timeScale: 20, dataDir, config: blogConfig() });
    let pids: number[];
    try {
      const ec2 = new EC2Client({ endpoint: sandbox.url, region: 'us-east-1', credentials: ROOT_KEYS });
      await ec2.send(
        new RunInstancesCommand({
          ImageId: 'ami-1',
          MinCount: 2,
          MaxCount: 2,
          UserData: base64('sleep 1000 &\necho $! > "$KEYLESS_INSTANCE_ROOT/tmp/sleep.pid"\nwait\n'),
        }),
      );
      pids = await waitFor('both user-data jobs', async () => {
        const ids = await readdir(join(dataDir, 'instances'));
        const texts = await Promise.all(
          ids.map((id) =>
            readFile(join(dataDir, 'instances', id, 'root/tmp/sleep.pid'), 'utf8').catch(() => ''),
          ),
        );
        const found = texts.filter((t) => t.trim() !== '').map(Number);
        return found.length === 2 ? found : undefined;
      });
      assert.ok(pids.every(alive));
    } finally {
      await sandbox.close();
    }
    for (const pid of pids) assert.equal(alive(pid), false, `process ${pid} survived sandbox close`);
  });
});
