import { randomInt } from 'node:crypto';
import { AwsError, type Protocol } from './errors';

/**
 * Rate-based fault injection for the AWS side (`--faults`, `faults:` in the config, `startSandbox({faults})`):
 * each AWS request draws once from a seeded PRNG and may be throttled, failed with a 5xx, cut off before it is
 * processed, processed and then cut off (the answer is lost), or slowed down. The identity endpoints keep their
 * scripted, queued faults (`POST /_sandbox/faults`).
 */
export interface FaultRule {
  /** 'cloudformation' | 'codedeploy' | 's3' | 'sts' | 'iam' | 'ec2' | 'autoscaling' | 'elbv2' | '*' */
  service: string;
  /** e.g. 'CreateDeployment' (S3: 'PutObject', 'UploadPart', …); omitted = every operation of the service. */
  operation?: string;
  /** Rate 0..1: the service's own throttling error (Throttling, ThrottlingException, SlowDown, RequestLimitExceeded). */
  throttle?: number;
  /** Rate: 500 InternalFailure or 503 ServiceUnavailable in the service's protocol. */
  serverError?: number;
  /** Rate: the socket is destroyed without an answer, before the request is processed. */
  reset?: number;
  /** Rate: the answer is delayed by slowMs (default 2000 real ms); combines with the other kinds. */
  slow?: number;
  slowMs?: number;
  /** Rate: the request IS processed, then the socket is destroyed without an answer. */
  duplicate?: number;
}

export type FaultKind = 'throttle' | 'serverError' | 'reset' | 'slow' | 'duplicate';

export interface FaultStats {
  /** AWS requests the rules were applied to (every request to a known AWS service). */
  requests: number;
  injected: Record<FaultKind, number>;
}

/** What happens to one request: at most one of the exclusive kinds, plus an optional delay first. */
export interface FaultDecision {
  kind?: 'throttle' | 'serverError' | 'reset' | 'duplicate';
  delayMs?: number;
  /** For serverError: 500 or 503. */
  status?: number;
}

export const FAULT_SERVICES = [
  'cloudformation',
  'codedeploy',
  's3',
  'sts',
  'iam',
  'ec2',
  'autoscaling',
  'elbv2',
  '*',
] as const;

const RATE_FIELDS = ['throttle', 'serverError', 'reset', 'slow', 'duplicate'] as const;
/** Drawn in this order from one number, so together they never exceed certainty. */
const EXCLUSIVE = ['reset', 'throttle', 'serverError', 'duplicate'] as const;
const RULE_FIELDS = new Set<string>(['service', 'operation', 'slowMs', ...RATE_FIELDS]);
const DEFAULT_SLOW_MS = 2000;

/** Checks rules from any source (options, config file, control API); `where` prefixes every message. */
export function validateFaultRules(value: unknown, where: string): FaultRule[] {
  if (!Array.isArray(value)) throw new Error(`${where} must be a list of fault rules`);
  return value.map((raw, index) => {
    const at = `${where}[${index}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw new Error(`${at} must be an object like {"service": "*", "throttle": 0.2}`);
    const rule = raw as Record<string, unknown>;
    const unknown = Object.keys(rule).filter((key) => !RULE_FIELDS.has(key));
    if (unknown.length > 0)
      throw new Error(
        `${at} has unknown field(s) ${unknown.join(', ')}; allowed: ${[...RULE_FIELDS].join(', ')}`,
      );
    const service = rule.service;
    if (typeof service !== 'string' || !(FAULT_SERVICES as readonly string[]).includes(service))
      throw new Error(
        `${at}.service must be one of ${FAULT_SERVICES.join(', ')}; got ${JSON.stringify(service)}`,
      );
    if (rule.operation !== undefined && (typeof rule.operation !== 'string' || !/^\w+$/.test(rule.operation)))
      throw new Error(`${at}.operation must be an operation name like CreateDeployment`);
    if (rule.operation !== undefined && service === '*')
      throw new Error(`${at}.operation needs a service: operation names belong to one service`);
    let exclusive = 0;
    for (const field of RATE_FIELDS) {
      const rate = rule[field];
      if (rate === undefined) continue;
      if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1))
        throw new Error(`${at}.${field} must be a rate between 0 and 1; got ${JSON.stringify(rate)}`);
      if (field !== 'slow') exclusive += rate;
    }
    if (exclusive > 1 + 1e-9)
      throw new Error(
        `${at}: throttle, serverError, reset and duplicate add up to more than 1 (${exclusive})`,
      );
    if (
      rule.slowMs !== undefined &&
      !(typeof rule.slowMs === 'number' && Number.isFinite(rule.slowMs) && rule.slowMs >= 0)
    )
      throw new Error(`${at}.slowMs must be a non-negative number of milliseconds`);
    const clean: FaultRule = { service };
    if (rule.operation !== undefined) clean.operation = rule.operation as string;
    for (const field of RATE_FIELDS) if (rule[field] !== undefined) clean[field] = rule[field] as number;
    if (rule.slowMs !== undefined) clean.slowMs = rule.slowMs as number;
    return clean;
  });
}

const SPEC_KINDS: Record<string, (typeof RATE_FIELDS)[number]> = {
  throttle: 'throttle',
  '5xx': 'serverError',
  reset: 'reset',
  slow: 'slow',
  duplicate: 'duplicate',
};

/**
 * Parses the CLI form: rules separated by `;`, each `service[:Operation]=kind:rate[,kind:rate…]` with kinds
 * throttle, 5xx, reset, slow (`slow:0.1@500` for 500 ms) and duplicate; e.g. `*=throttle:0.2,5xx:0.05`.
 */
export function parseFaultSpec(spec: string): FaultRule[] {
  const rules: Array<Record<string, unknown>> = [];
  for (const part of spec.split(';')) {
    const text = part.trim();
    if (text === '') continue;
    const eq = text.indexOf('=');
    if (eq < 0) throw new Error(`fault rule "${text}" needs "=": service[:Operation]=kind:rate[,kind:rate…]`);
    const [service = '', operation] = text.slice(0, eq).trim().split(':');
    const rule: Record<string, unknown> = { service: service.trim() };
    if (operation !== undefined) rule.operation = operation.trim();
    for (const item of text.slice(eq + 1).split(',')) {
      const match = /^\s*([\w]+)\s*:\s*([0-9.]+)\s*(?:@\s*([0-9.]+)\s*)?$/.exec(item);
      const field = match ? SPEC_KINDS[match[1] ?? ''] : undefined;
      if (!match || !field)
        throw new Error(
          `fault "${item.trim()}" in "${text}" must be kind:rate with kind throttle, 5xx, reset, slow or duplicate (e.g. throttle:0.2, slow:0.1@500)`,
        );
      if (match[3] !== undefined && field !== 'slow')
        throw new Error(`fault "${item.trim()}": only slow takes @milliseconds`);
      rule[field] = Number(match[2]);
      if (match[3] !== undefined) rule.slowMs = Number(match[3]);
    }
    rules.push(rule);
  }
  return validateFaultRules(rules, `--faults "${spec}"`);
}

/** mulberry32: small, fast and good enough to spread faults evenly; the same seed replays the same draws. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function emptyStats(): FaultStats {
  return { requests: 0, injected: { throttle: 0, serverError: 0, reset: 0, slow: 0, duplicate: 0 } };
}

/**
 * The rules in force and the dice. Per kind, the most specific matching rule wins (service:operation over
 * service over `*`; among equals, the later one), so `*=throttle:0.2;codedeploy:CreateDeployment=duplicate:0.5`
 * throttles CreateDeployment at 0.2 and loses its answer at 0.5.
 */
export class FaultInjector {
  private rules: FaultRule[] = [];
  private stats = emptyStats();
  private random: () => number;
  readonly seed: number;

  constructor(rules: FaultRule[] = [], seed?: number) {
    this.seed = seed ?? randomInt(0, 2 ** 31);
    this.random = prng(this.seed);
    this.setRules(rules);
  }

  /** Replaces the rules (validated) and resets the counters; the PRNG continues its sequence. */
  setRules(rules: FaultRule[]): void {
    this.rules = validateFaultRules(rules, 'fault rules');
    this.stats = emptyStats();
  }

  get active(): boolean {
    return this.rules.length > 0;
  }

  faultStats(): FaultStats {
    return { requests: this.stats.requests, injected: { ...this.stats.injected } };
  }

  /** The merged rates for one operation (exposed for tests). */
  ratesFor(service: string, operation: string): Omit<FaultRule, 'service' | 'operation'> {
    const specificity = (rule: FaultRule) =>
      rule.operation !== undefined ? 2 : rule.service === '*' ? 0 : 1;
    const matching = this.rules
      .filter(
        (rule) =>
          (rule.service === '*' || rule.service === service) &&
          (rule.operation === undefined || rule.operation === operation),
      )
      .map((rule, order) => ({ rule, order }))
      .sort((a, b) => specificity(a.rule) - specificity(b.rule) || a.order - b.order);
    const merged: Omit<FaultRule, 'service' | 'operation'> = {};
    for (const { rule } of matching) {
      for (const field of [...RATE_FIELDS, 'slowMs'] as const) {
        if (rule[field] !== undefined) merged[field] = rule[field];
      }
    }
    return merged;
  }

  /** Decides (and counts) what happens to one request. Draws nothing when no rule is set. */
  decide(service: string, operation: string): FaultDecision {
    this.stats.requests++;
    if (!this.active) return {};
    const rates = this.ratesFor(service, operation);
    const decision: FaultDecision = {};
    const slowDraw = this.random();
    if (rates.slow && slowDraw < rates.slow) {
      decision.delayMs = rates.slowMs ?? DEFAULT_SLOW_MS;
      this.stats.injected.slow++;
    }
    let draw = this.random();
    for (const kind of EXCLUSIVE) {
      const rate = rates[kind] ?? 0;
      if (draw < rate) {
        decision.kind = kind;
        this.stats.injected[kind]++;
        if (kind === 'serverError') decision.status = this.random() < 0.5 ? 500 : 503;
        break;
      }
      draw -= rate;
    }
    return decision;
  }
}

/**
 * The error a service really answers when it throttles or fails internally, in its own protocol, so that SDKs
 * and the AWS CLI classify it as they would the real one (throttling codes; 5xx as transient).
 */
export function injectedError(protocol: Protocol, kind: 'throttle' | 'serverError', status = 500): AwsError {
  if (kind === 'throttle') {
    if (protocol.kind === 'rest-xml')
      return new AwsError('SlowDown', 'Please reduce your request rate.', 503, 'Receiver');
    if (protocol.kind === 'ec2')
      return new AwsError('RequestLimitExceeded', 'Request limit exceeded.', 503, 'Receiver');
    if (protocol.kind === 'json') return new AwsError('ThrottlingException', 'Rate exceeded', 400);
    return new AwsError('Throttling', 'Rate exceeded', 400);
  }
  if (protocol.kind === 'rest-xml') {
    return status === 503
      ? new AwsError('ServiceUnavailable', 'Service is unable to handle request.', 503, 'Receiver')
      : new AwsError('InternalError', 'We encountered an internal error. Please try again.', 500, 'Receiver');
  }
  if (protocol.kind === 'ec2') {
    return status === 503
      ? new AwsError(
          'Unavailable',
          'The server is overloaded and cannot handle the request.',
          503,
          'Receiver',
        )
      : new AwsError('InternalError', 'An internal error has occurred.', 500, 'Receiver');
  }
  return status === 503
    ? new AwsError('ServiceUnavailable', 'Service is unavailable', 503, 'Receiver')
    : new AwsError('InternalFailure', 'An internal error occurred.', 500, 'Receiver');
}
