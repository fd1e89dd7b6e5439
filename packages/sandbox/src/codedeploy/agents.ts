import type { AwsEnvironment } from '../aws/service';
import type { AgentDeployment, LifecycleEventName, LifecycleEventResult } from './agent/types';
import { InstanceAgent } from './agent/instance-agent';

/** What the service needs from the agent on an instance (the real InstanceAgent, or a fake in unit tests). */
export interface LifecycleAgent {
  runEvent(deployment: AgentDeployment, event: LifecycleEventName): Promise<LifecycleEventResult>;
  markSucceeded(deployment: AgentDeployment): Promise<void> | void;
}

export type AgentFactory = (instanceId: string) => LifecycleAgent;

/**
 * One agent per instance, kept across deployments: like the real agent it remembers the last successful install
 * per deployment group (on disk, under the instance's root), which ApplicationStop and the Block hooks use.
 */
export class AgentPool {
  private readonly agents = new Map<string, LifecycleAgent>();

  constructor(private readonly create: AgentFactory) {}

  agentFor(instanceId: string): LifecycleAgent {
    let agent = this.agents.get(instanceId);
    if (!agent) {
      agent = this.create(instanceId);
      this.agents.set(instanceId, agent);
    }
    return agent;
  }
}

/** Agents for the sandbox's simulated EC2 instances. */
export function instanceAgentFactory(env: AwsEnvironment): AgentFactory {
  return (instanceId) => {
    const instance = env.fleet.instance(instanceId);
    if (!instance) throw new Error(`Instance ${instanceId} does not exist`);
    return new InstanceAgent({
      instanceId,
      rootDir: instance.rootDir,
      port: instance.port,
      // The stored ETag too: a multipart upload's ("md5-of-md5s-N") is no MD5 of the bytes the agent can recompute.
      fetchObject: async (bucket: string, key: string) => {
        const path = await env.s3.objectPath(bucket, key);
        if (path === undefined) return undefined;
        const info = await env.s3.headObject(bucket, key);
        return info ? { path, eTag: info.etag } : path;
      },
      clock: env.clock,
      log: env.log,
      trackProcessGroup: (pid: number) => env.fleet.trackProcessGroup(instanceId, pid),
    });
  };
}
