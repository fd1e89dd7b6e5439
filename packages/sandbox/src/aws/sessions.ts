import type { Clock } from '../clock';
import type { IssuedCredentials, SessionIssuer } from '../context';
import type { Role } from './iam-state';
import { newSecretAccessKey, newSessionToken, newTemporaryAccessKeyId } from './ids';
import type { KeyLookup } from './sigv4';

/** A role session the sandbox issued. Secrets live only here, in memory, until shortly after expiry. */
export interface RoleSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiresAtMs: number;
  roleName: string;
  roleArn: string;
  roleId: string;
  sessionName: string;
  assumedRoleArn: string;
  assumedRoleId: string;
}

/** Who signed a request. */
export type Caller =
  { kind: 'root'; accountId: string } | { kind: 'session'; accountId: string; session: RoleSession };

export function callerArn(caller: Caller): string {
  return caller.kind === 'root' ? `arn:aws:iam::${caller.accountId}:root` : caller.session.assumedRoleArn;
}

/** Expired key ids remembered (without their secrets) so late callers get ExpiredToken, not InvalidClientTokenId. */
const TOMBSTONE_LIMIT = 100_000;
const SWEEP_INTERVAL_MS = 1000;

export class SessionStore implements SessionIssuer {
  private readonly active = new Map<string, RoleSession>();
  private readonly expired = new Map<string, number>();
  private readonly rootKeys = new Map<string, string>();
  /** Min-heap of (expiry, key id) so sweeping costs only the sessions that actually expired. */
  private readonly expiryHeap: Array<[number, string]> = [];
  private lastSweepMs = 0;

  constructor(
    private readonly accountId: string,
    private readonly clock: Clock,
    private readonly maxSessionSeconds: number | undefined,
    private readonly resolveRole: (roleArn: string) => Role | undefined,
    /** Told about every minted secret (see SandboxOptions.onSecret). */
    private readonly onSecret: (value: string) => void = () => undefined,
  ) {}

  addRootCredentials(accessKeyId: string, secretAccessKey: string): void {
    this.rootKeys.set(accessKeyId, secretAccessKey);
  }

  /** SessionIssuer for the identity side (EC2 instance profiles): the role must exist. */
  issueRoleSession(request: {
    roleArn: string;
    sessionName: string;
    durationSeconds: number;
  }): IssuedCredentials {
    const role = this.resolveRole(request.roleArn);
    if (!role)
      throw new Error(`Cannot issue a session: no role ${request.roleArn} in account ${this.accountId}`);
    return toIssuedCredentials(this.issue(role, request.sessionName, request.durationSeconds));
  }

  /** Mints a session of `durationSeconds` simulated seconds, scaled by the clock and capped by maxSessionSeconds. */
  issue(role: Role, sessionName: string, durationSeconds: number): RoleSession {
    const now = this.clock.now();
    this.sweep(now);
    let lifetimeMs = this.clock.realMs(durationSeconds);
    if (this.maxSessionSeconds !== undefined)
      lifetimeMs = Math.min(lifetimeMs, this.maxSessionSeconds * 1000);
    const session: RoleSession = {
      accessKeyId: newTemporaryAccessKeyId(),
      secretAccessKey: newSecretAccessKey(),
      sessionToken: newSessionToken(),
      // Whole seconds: Expiration goes on the wire without milliseconds and must not promise more than we keep.
      expiresAtMs: Math.floor((now + lifetimeMs) / 1000) * 1000,
      roleName: role.name,
      roleArn: role.arn,
      roleId: role.roleId,
      sessionName,
      assumedRoleArn: `arn:aws:sts::${this.accountId}:assumed-role/${role.name}/${sessionName}`,
      assumedRoleId: `${role.roleId}:${sessionName}`,
    };
    this.onSecret(session.secretAccessKey);
    this.onSecret(session.sessionToken);
    this.active.set(session.accessKeyId, session);
    heapPush(this.expiryHeap, [session.expiresAtMs, session.accessKeyId]);
    return session;
  }

  /** Resolves a key id for SigV4 verification. */
  lookup(accessKeyId: string): KeyLookup<Caller> {
    const rootSecret = this.rootKeys.get(accessKeyId);
    if (rootSecret !== undefined) {
      return {
        status: 'active',
        secretAccessKey: rootSecret,
        principal: { kind: 'root', accountId: this.accountId },
      };
    }
    const session = this.active.get(accessKeyId);
    if (session) {
      if (this.clock.now() >= session.expiresAtMs) {
        this.retire(session);
        return { status: 'expired' };
      }
      return {
        status: 'active',
        secretAccessKey: session.secretAccessKey,
        sessionToken: session.sessionToken,
        principal: { kind: 'session', accountId: this.accountId, session },
      };
    }
    return this.expired.has(accessKeyId) ? { status: 'expired' } : undefined;
  }

  get activeCount(): number {
    return this.active.size;
  }

  private retire(session: RoleSession): void {
    this.active.delete(session.accessKeyId);
    this.expired.set(session.accessKeyId, session.expiresAtMs);
    if (this.expired.size > TOMBSTONE_LIMIT) this.expired.delete(this.expired.keys().next().value as string);
  }

  /** Drops expired secrets from memory; cheap enough to run at most once a second on the issuing path. */
  private sweep(now: number): void {
    if (now - this.lastSweepMs < SWEEP_INTERVAL_MS) return;
    this.lastSweepMs = now;
    while (this.expiryHeap.length > 0 && (this.expiryHeap[0] as [number, string])[0] <= now) {
      const [, accessKeyId] = heapPop(this.expiryHeap) as [number, string];
      const session = this.active.get(accessKeyId);
      if (session) this.retire(session);
    }
  }
}

export function toIssuedCredentials(session: RoleSession): IssuedCredentials {
  return {
    accessKeyId: session.accessKeyId,
    secretAccessKey: session.secretAccessKey,
    sessionToken: session.sessionToken,
    expiration: new Date(session.expiresAtMs),
    assumedRoleArn: session.assumedRoleArn,
    assumedRoleId: session.assumedRoleId,
  };
}

function heapPush(heap: Array<[number, string]>, item: [number, string]): void {
  heap.push(item);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if ((heap[parent] as [number, string])[0] <= item[0]) break;
    heap[i] = heap[parent] as [number, string];
    i = parent;
  }
  heap[i] = item;
}

function heapPop(heap: Array<[number, string]>): [number, string] | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (top === undefined || last === undefined || heap.length === 0) return top;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= heap.length) break;
    const right = left + 1;
    const child =
      right < heap.length && (heap[right] as [number, string])[0] < (heap[left] as [number, string])[0]
        ? right
        : left;
    if ((heap[child] as [number, string])[0] >= last[0]) break;
    heap[i] = heap[child] as [number, string];
    i = child;
  }
  heap[i] = last;
  return top;
}
