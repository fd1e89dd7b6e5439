import { setMaxListeners } from 'node:events';
import type { Clock } from '../clock';
import { newEc2Id } from './ids';
import { createInstanceRoot, instanceRootDir } from './instance-root';
import type { LoopbackPorts } from './ports';
import type { ProcessGroups } from './process-groups';
import type { Instance, InstanceState } from './types';
import { startUserData } from './user-data';

/** Simulated seconds an instance spends in `pending` (real EC2: tens of seconds) and in `shutting-down`. */
const PENDING_SECONDS = 2;
const SHUTTING_DOWN_SECONDS = 1;

/** EC2's numeric state codes, as DescribeInstances and TerminateInstances print them. */
export const STATE_CODES: Record<InstanceState, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
};

export interface LaunchSpec {
  imageId: string;
  instanceType: string;
  userData?: string;
  count: number;
  tags: Record<string, string>;
  subnetId?: string;
  securityGroupIds: string[];
  iamInstanceProfileArn?: string;
  launchTemplate?: { launchTemplateId: string; version: string };
  autoScalingGroupName?: string;
  availabilityZone: string;
}

/** What EC2 keeps about an instance beyond the shared `Instance` shape. */
export interface InstanceRecord {
  readonly instance: Instance;
  readonly reservationId: string;
  readonly availabilityZone: string;
  readonly amiLaunchIndex: number;
  /** Resolves once the instance is running and its user data has started (or it ended before that). */
  readonly booted: Promise<void>;
  terminated?: Promise<void>;
}

export interface TerminationStart {
  instanceId: string;
  previousState: InstanceState;
  currentState: InstanceState;
}

/**
 * The instances themselves: a root directory, a loopback port and tracked process groups each, moving through
 * pending → running → shutting-down → terminated. Terminated instances stay visible (as on EC2, for about an hour).
 */
export class Instances {
  private readonly records = new Map<string, InstanceRecord>();
  private readonly shutdown = new AbortController();

  constructor(
    private readonly options: {
      dataDir: string;
      clock: Clock;
      log(line: string): void;
      ports: LoopbackPorts;
      processGroups: ProcessGroups;
      /** Runs after an instance enters shutting-down and before its processes are stopped (target deregistration). */
      beforeStop(instance: Instance): Promise<void>;
    },
  ) {
    // Every booting or terminating instance waits on this signal at once; there is no leak to warn about.
    setMaxListeners(0, this.shutdown.signal);
  }

  /** Creates the instances in `pending` and boots them in the background, as RunInstances does. */
  async launch(spec: LaunchSpec): Promise<{ reservationId: string; records: InstanceRecord[] }> {
    const reservationId = newEc2Id('r');
    const records: InstanceRecord[] = [];
    for (let index = 0; index < spec.count; index++) {
      const instanceId = newEc2Id('i');
      const rootDir = instanceRootDir(this.options.dataDir, instanceId);
      await createInstanceRoot(rootDir);
      const instance: Instance = {
        instanceId,
        state: 'pending',
        rootDir,
        port: await this.options.ports.allocate(),
        privateIpAddress: '127.0.0.1',
        imageId: spec.imageId,
        instanceType: spec.instanceType,
        subnetId: spec.subnetId,
        securityGroupIds: [...spec.securityGroupIds],
        tags: { ...spec.tags },
        launchTemplate: spec.launchTemplate,
        iamInstanceProfileArn: spec.iamInstanceProfileArn,
        autoScalingGroupName: spec.autoScalingGroupName,
        launchTime: new Date(this.options.clock.now()),
      };
      const record: InstanceRecord = {
        instance,
        reservationId,
        availabilityZone: spec.availabilityZone,
        amiLaunchIndex: index,
        booted: this.boot(instance, spec.userData),
      };
      this.records.set(instanceId, record);
      records.push(record);
      this.options.log(`ec2 ${instanceId}: launched (port ${instance.port}, root ${rootDir})`);
    }
    return { reservationId, records };
  }

  async waitUntilRunning(instanceIds: string[]): Promise<void> {
    await Promise.all(instanceIds.map((id) => this.records.get(id)?.booted));
  }

  get(instanceId: string): InstanceRecord | undefined {
    return this.records.get(instanceId);
  }

  all(): InstanceRecord[] {
    return [...this.records.values()];
  }

  trackProcessGroup(instanceId: string, pgid: number): () => void {
    const release = this.options.processGroups.track(instanceId, pgid);
    const state = this.records.get(instanceId)?.instance.state;
    // A daemon registered while (or after) its instance shuts down must not survive it.
    if (state === 'shutting-down' || state === 'terminated' || this.shutdown.signal.aborted) {
      void this.options.processGroups.killAll(instanceId);
    }
    return release;
  }

  /**
   * Starts terminating each known instance and reports the state change as TerminateInstances does; `done`
   * resolves when all of them are terminated. Unknown ids are the caller's to reject.
   */
  beginTermination(instanceIds: string[]): { changes: TerminationStart[]; done: Promise<void> } {
    const changes: TerminationStart[] = [];
    const waits: Array<Promise<void>> = [];
    for (const instanceId of instanceIds) {
      const record = this.records.get(instanceId);
      if (!record) continue;
      const previousState = record.instance.state;
      if (!record.terminated) {
        record.instance.state = 'shutting-down';
        record.terminated = this.terminate(record);
      }
      changes.push({ instanceId, previousState, currentState: record.instance.state });
      waits.push(record.terminated);
    }
    return { changes, done: Promise.all(waits).then(() => undefined) };
  }

  /** Sandbox close: every instance's processes are killed at once; nothing waits for simulated time. */
  async stopAll(): Promise<void> {
    this.shutdown.abort(new Error('sandbox stopping'));
    const ids = new Set([...this.records.keys(), ...this.options.processGroups.instanceIds()]);
    await Promise.all([...ids].map((id) => this.options.processGroups.killAll(id)));
    for (const record of this.records.values()) record.instance.state = 'terminated';
  }

  private async boot(instance: Instance, userData: string | undefined): Promise<void> {
    try {
      await this.options.clock.sleep(PENDING_SECONDS, this.shutdown.signal);
    } catch {
      return;
    }
    if (instance.state !== 'pending') return;
    instance.state = 'running';
    this.options.log(`ec2 ${instance.instanceId}: running`);
    if (!userData) return;
    try {
      await startUserData({
        instance,
        userDataBase64: userData,
        log: this.options.log,
        trackProcessGroup: (pid) => this.trackProcessGroup(instance.instanceId, pid),
      });
    } catch (error) {
      // On EC2 a failing user-data script leaves the instance running; only the cloud-init log says why.
      this.options.log(`ec2 ${instance.instanceId}: user data could not start: ${(error as Error).message}`);
    }
  }

  private async terminate(record: InstanceRecord): Promise<void> {
    const { instance } = record;
    await record.booted;
    instance.state = 'shutting-down';
    try {
      await this.options.beforeStop(instance);
    } catch (error) {
      this.options.log(`ec2 ${instance.instanceId}: before-stop step failed: ${(error as Error).message}`);
    }
    await this.options.processGroups.killAll(instance.instanceId);
    try {
      await this.options.clock.sleep(SHUTTING_DOWN_SECONDS, this.shutdown.signal);
    } catch {
      // Sandbox stopping: terminate at once.
    }
    instance.state = 'terminated';
    this.options.log(`ec2 ${instance.instanceId}: terminated`);
  }
}
