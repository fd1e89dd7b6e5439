/**
 * The sandbox's Elastic Load Balancing v2 state as other sandbox parts use it in-process. A load balancer is a
 * real HTTP reverse proxy on its own 127.0.0.1 port; its DNSName is `127.0.0.1:<port>`, so a stack's
 * WebsiteURL output really opens the app. Targets are instances' loopback ports; health checks, registration,
 * deregistration and connection draining behave as ELB's do (timings scaled by the sandbox clock).
 */
export type TargetHealthState = 'initial' | 'healthy' | 'unhealthy' | 'unused' | 'draining';

export interface TargetGroup {
  readonly arn: string;
  readonly name: string;
  readonly port: number;
  readonly protocol: 'HTTP';
  healthCheck: {
    path: string;
    intervalSeconds: number;
    timeoutSeconds: number;
    healthyThresholdCount: number;
    unhealthyThresholdCount: number;
    matcher: string;
  };
  /** Seconds a deregistering target keeps serving in-flight requests (ELB default 300; scaled). */
  deregistrationDelaySeconds: number;
}

export interface LoadBalancing {
  targetGroup(arnOrName: string): TargetGroup | undefined;
  /** Registers instance targets (their loopback ports); they receive traffic once healthy. */
  registerTargets(targetGroupArn: string, instanceIds: string[]): Promise<void>;
  /** Stops new traffic at once; resolves when in-flight requests finish or the deregistration delay ends. */
  deregisterTargets(targetGroupArn: string, instanceIds: string[]): Promise<void>;
  targetHealth(
    targetGroupArn: string,
  ): Array<{ instanceId: string; state: TargetHealthState; reason?: string }>;
  /** Resolves when every listed target is healthy; rejects after `timeoutSeconds` (simulated). */
  waitUntilHealthy(targetGroupArn: string, instanceIds: string[], timeoutSeconds: number): Promise<void>;
  /** Sandbox close: stops proxies and health checks. */
  stop(): Promise<void>;
}
