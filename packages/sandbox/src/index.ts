/**
 * @keyless/sandbox — a local AWS-compatible endpoint plus the identity providers a pipeline talks to, on one
 * loopback port. It shares no code with @keyless/core: it is the other side of the wire.
 */
import type { SandboxConfig } from './config';
import type { FaultResponse, FaultTarget } from './context';
import type { FaultRule, FaultStats } from './aws/fault-rules';

export type { SandboxConfig, IssuerConfig } from './config';
export type { FaultRule, FaultStats } from './aws/fault-rules';
export { parseFaultSpec } from './aws/fault-rules';

export interface SandboxOptions {
  /** Default 4566; 0 picks a free port. Always bound to 127.0.0.1. */
  port?: number;
  /** Seed state, or a path to a YAML/JSON file holding it. */
  config?: SandboxConfig | string;
  /** Simulated durations last `1/timeScale` as long in real time. Default 1. */
  timeScale?: number;
  /** Caps every issued session's real lifetime, in seconds (testing knob). */
  maxSessionSeconds?: number;
  /** Receives one line per request / notable event. */
  log?: (line: string) => void;
  /**
   * Receives every secret the sandbox mints (session keys and tokens, signed JWTs), so tests can prove that
   * none of them reaches any output. In-process only; never exposed over HTTP.
   */
  onSecret?: (value: string) => void;
  /**
   * Where on-disk state (S3 objects, later instance roots) lives. Default: a fresh temp directory that is
   * removed on close(); a directory given here is kept.
   */
  dataDir?: string;
  /**
   * Rate-based faults on the AWS APIs (throttling, 5xx, connection resets, slow and lost answers), per service
   * and operation; replaces the config file's `faults`. See docs/sandbox.md, "Rehearsing failures".
   */
  faults?: FaultRule[];
  /** Seeds the faults' PRNG so a failing run can be replayed (default: random, logged at start). */
  faultSeed?: number;
}

export interface RunningSandbox {
  /** e.g. http://127.0.0.1:4566 */
  readonly url: string;
  readonly port: number;
  readonly accountId: string;
  readonly region: string;
  /** In-process access to the same operations as the HTTP control API (`/_sandbox/…`). */
  readonly control: SandboxControl;
  close(): Promise<void>;
}

export interface SandboxControl {
  /** Sign a token with a hosted issuer (by issuer id), e.g. for GitLab or token-file flows in tests. */
  mintToken(
    issuerId: string,
    claims: Record<string, unknown>,
    options?: { lifetimeSeconds?: number },
  ): Promise<string>;
  rotateIssuerKey(issuerId: string): Promise<string>;
  queueFaults(target: FaultTarget, responses: FaultResponse[]): void;
  /** Replaces the rate-based fault rules (an empty list turns them off) and resets their counters. */
  setFaultRules(rules: FaultRule[]): void;
  /** Requests seen and faults injected since the rules were last set. */
  faultStats(): FaultStats;
}

export { startSandbox } from './server';
export { Clock } from './clock';
// The instance agent also runs outside the sandbox: `keyless codedeploy local` rehearses hooks with it.
export { InstanceAgent, parseAppSpec, AppSpecError } from './codedeploy/agent';
export type {
  AgentDeployment,
  LifecycleEventName,
  LifecycleEventResult,
  RevisionLocation,
} from './codedeploy/agent';
export { loadSandboxConfig } from './config-loader';
