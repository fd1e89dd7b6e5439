/**
 * Role trust-policy evaluation for sts:AssumeRole*: Effect, Principal/NotPrincipal, Action/NotAction and the
 * Condition operators trust policies use. Policies are compiled once (patterns to RegExps, value sets) and cached
 * by their text, because every AssumeRoleWithWebIdentity evaluates one.
 */

/** Thrown for documents IAM refuses; the message is IAM's MalformedPolicyDocument text. */
export class PolicySyntaxError extends Error {}

export type TrustPrincipal =
  | { type: 'Federated'; provider: string }
  /** `arns`: every ARN the caller can be named by (assumed-role session ARN and its role ARN, or the root ARN). */
  | { type: 'AWS'; accountId: string; arns: string[] };

export interface TrustRequest {
  action: string;
  principal: TrustPrincipal;
  /** Condition context; keys lower-cased (condition keys are case-insensitive), values as issued. */
  context: ReadonlyMap<string, readonly string[]>;
}

export interface TrustDecision {
  allowed: boolean;
  /** The statement that decided: the matching Deny, or the first matching Allow. */
  decidingStatement?: { index: number; sid?: string; effect: 'Allow' | 'Deny' };
  /** Why each statement did not apply — for the sandbox log, never for the wire (AWS only says AccessDenied). */
  reasons: string[];
}

type SetQualifier = 'ForAnyValue' | 'ForAllValues' | undefined;
type BaseOperator =
  'StringEquals' | 'StringEqualsIgnoreCase' | 'StringLike' | 'Bool' | 'Null' | 'Unsupported';

interface CompiledCondition {
  operator: string;
  key: string;
  set: SetQualifier;
  base: BaseOperator;
  negated: boolean;
  ifExists: boolean;
  values: string[];
  matches: (value: string) => boolean;
}

interface CompiledStatement {
  index: number;
  sid?: string;
  effect: 'Allow' | 'Deny';
  principal: PrincipalMatcher;
  principalNegated: boolean;
  actions: RegExp[];
  actionNegated: boolean;
  conditions: CompiledCondition[];
}

export interface CompiledTrustPolicy {
  statements: CompiledStatement[];
}

interface PrincipalMatcher {
  any: boolean;
  federated: Set<string>;
  awsAccounts: Set<string>;
  awsArns: Set<string>;
  awsAny: boolean;
  describe: string;
}

const POLICY_CACHE_LIMIT = 1000;
const policyCache = new Map<string, CompiledTrustPolicy>();

/** Compiles (or returns the cached compilation of) a trust-policy JSON text. */
export function compileTrustPolicy(text: string): CompiledTrustPolicy {
  const cached = policyCache.get(text);
  if (cached) return cached;
  const compiled = compile(text);
  if (policyCache.size >= POLICY_CACHE_LIMIT) policyCache.delete(policyCache.keys().next().value as string);
  policyCache.set(text, compiled);
  return compiled;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringList(value: unknown, field: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (
    list.length === 0 ||
    list.some((v) => typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
  ) {
    throw new PolicySyntaxError(`Syntax errors in policy. Invalid value for ${field}.`);
  }
  return list.map(String);
}

function compile(text: string): CompiledTrustPolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new PolicySyntaxError('This policy contains invalid Json');
  }
  if (!isObject(doc)) throw new PolicySyntaxError('This policy contains invalid Json');
  for (const key of Object.keys(doc)) {
    if (!['Version', 'Id', 'Statement'].includes(key))
      throw new PolicySyntaxError('Syntax errors in policy.');
  }
  if (doc['Version'] !== undefined && doc['Version'] !== '2012-10-17' && doc['Version'] !== '2008-10-17') {
    throw new PolicySyntaxError('The policy failed legacy parsing');
  }
  const rawStatements = doc['Statement'];
  if (rawStatements === undefined) throw new PolicySyntaxError('Syntax errors in policy.');
  const list = Array.isArray(rawStatements) ? rawStatements : [rawStatements];
  if (list.length === 0) throw new PolicySyntaxError('Syntax errors in policy.');
  return { statements: list.map((s, index) => compileStatement(s, index)) };
}

const STATEMENT_FIELDS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Condition',
  'Resource',
  'NotResource',
]);

function compileStatement(raw: unknown, index: number): CompiledStatement {
  if (!isObject(raw)) throw new PolicySyntaxError('Syntax errors in policy.');
  for (const key of Object.keys(raw))
    if (!STATEMENT_FIELDS.has(key)) throw new PolicySyntaxError('Syntax errors in policy.');
  if ('Resource' in raw) throw new PolicySyntaxError('Has prohibited field Resource');
  if ('NotResource' in raw) throw new PolicySyntaxError('Has prohibited field NotResource');
  const effect = raw['Effect'];
  if (effect !== 'Allow' && effect !== 'Deny') throw new PolicySyntaxError('Syntax errors in policy.');
  const hasPrincipal = 'Principal' in raw;
  if (hasPrincipal === 'NotPrincipal' in raw) throw new PolicySyntaxError('Missing required field Principal');
  const hasAction = 'Action' in raw;
  if (hasAction === 'NotAction' in raw) throw new PolicySyntaxError('Missing required field Action');
  const sid = raw['Sid'];
  return {
    index,
    sid: typeof sid === 'string' ? sid : undefined,
    effect,
    principal: compilePrincipal(hasPrincipal ? raw['Principal'] : raw['NotPrincipal']),
    principalNegated: !hasPrincipal,
    actions: stringList(hasAction ? raw['Action'] : raw['NotAction'], 'Action').map((a) =>
      wildcardRegExp(a, true),
    ),
    actionNegated: !hasAction,
    conditions: compileConditions(raw['Condition']),
  };
}

function compilePrincipal(raw: unknown): PrincipalMatcher {
  const matcher: PrincipalMatcher = {
    any: false,
    federated: new Set(),
    awsAccounts: new Set(),
    awsArns: new Set(),
    awsAny: false,
    describe: JSON.stringify(raw),
  };
  if (raw === '*') {
    matcher.any = true;
    return matcher;
  }
  if (!isObject(raw)) throw new PolicySyntaxError('Invalid principal in policy');
  for (const [type, value] of Object.entries(raw)) {
    const entries = stringList(value, 'Principal');
    if (type === 'Federated') entries.forEach((e) => matcher.federated.add(e));
    else if (type === 'AWS') {
      for (const entry of entries) {
        const root = /^arn:aws:iam::(\d{12}):root$/.exec(entry)?.[1];
        if (entry === '*') matcher.awsAny = true;
        else if (/^\d{12}$/.test(entry)) matcher.awsAccounts.add(entry);
        else if (root) matcher.awsAccounts.add(root);
        else if (entry.startsWith('arn:')) matcher.awsArns.add(entry);
        else throw new PolicySyntaxError(`Invalid principal in policy: "AWS":"${entry}"`);
      }
    } else if (type !== 'Service' && type !== 'CanonicalUser') {
      throw new PolicySyntaxError('Invalid principal in policy');
    }
  }
  return matcher;
}

function principalMatches(matcher: PrincipalMatcher, principal: TrustPrincipal): boolean {
  if (matcher.any) return true;
  if (principal.type === 'Federated') return matcher.federated.has(principal.provider);
  // Trusting an account delegates to that account's own IAM policies, which the sandbox does not evaluate.
  return (
    matcher.awsAny ||
    matcher.awsAccounts.has(principal.accountId) ||
    principal.arns.some((a) => matcher.awsArns.has(a))
  );
}

function wildcardRegExp(pattern: string, ignoreCase: boolean): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\*?]/g, (ch) =>
    ch === '*' ? '.*' : ch === '?' ? '.' : '\\' + ch,
  );
  return new RegExp(`^${body}$`, ignoreCase ? 'is' : 's');
}

const OPERATOR =
  /^(?:(ForAnyValue|ForAllValues):)?(String(?:Not)?Equals(?:IgnoreCase)?|String(?:Not)?Like|Arn(?:Not)?(?:Equals|Like)|Bool|Null|[A-Za-z]+?)(IfExists)?$/;

function compileConditions(raw: unknown): CompiledCondition[] {
  if (raw === undefined) return [];
  if (!isObject(raw)) throw new PolicySyntaxError('Syntax errors in policy.');
  const compiled: CompiledCondition[] = [];
  for (const [operator, block] of Object.entries(raw)) {
    const m = OPERATOR.exec(operator);
    if (!m || !isObject(block)) throw new PolicySyntaxError(`Invalid Condition type : ${operator}.`);
    const [, set, name = '', ifExists] = m;
    const negated = /Not(Equals|Like)/.test(name);
    let base: BaseOperator;
    if (/^String(Not)?Equals$/.test(name) || /^Arn(Not)?Equals$/.test(name)) base = 'StringEquals';
    else if (/^String(Not)?EqualsIgnoreCase$/.test(name)) base = 'StringEqualsIgnoreCase';
    else if (/^(String|Arn)(Not)?Like$/.test(name)) base = 'StringLike';
    else if (name === 'Bool' || name === 'Null') base = name;
    else base = 'Unsupported';
    for (const [key, value] of Object.entries(block)) {
      const values = stringList(value, `Condition ${operator}`);
      compiled.push({
        operator,
        key: key.toLowerCase(),
        set: set as SetQualifier,
        base,
        negated,
        ifExists: ifExists !== undefined,
        values,
        matches: valueMatcher(base, values),
      });
    }
  }
  return compiled;
}

function valueMatcher(base: BaseOperator, values: string[]): (value: string) => boolean {
  switch (base) {
    case 'StringEquals': {
      const set = new Set(values);
      return (v) => set.has(v);
    }
    case 'StringEqualsIgnoreCase':
    case 'Bool': {
      const set = new Set(values.map((v) => v.toLowerCase()));
      return (v) => set.has(v.toLowerCase());
    }
    case 'StringLike': {
      const patterns = values.map((v) => wildcardRegExp(v, false));
      return (v) => patterns.some((p) => p.test(v));
    }
    case 'Null':
    case 'Unsupported':
      return () => false;
  }
}

function conditionHolds(
  condition: CompiledCondition,
  context: ReadonlyMap<string, readonly string[]>,
): boolean {
  const present = context.get(condition.key);
  const absent = present === undefined || present.length === 0;
  if (condition.base === 'Null') return condition.values.some((v) => (v.toLowerCase() === 'true') === absent);
  if (condition.base === 'Unsupported') return false;
  if (absent) {
    if (condition.ifExists) return true;
    // As AWS: ForAllValues is vacuously true on a missing key, ForAnyValue false, negated operators true.
    if (condition.set === 'ForAllValues') return true;
    if (condition.set === 'ForAnyValue') return false;
    return condition.negated;
  }
  const valueOk = (v: string) => (condition.negated ? !condition.matches(v) : condition.matches(v));
  if (condition.set === 'ForAllValues') return present.every(valueOk);
  if (condition.set === 'ForAnyValue') return present.some(valueOk);
  return condition.negated
    ? !present.some((v) => condition.matches(v))
    : present.some((v) => condition.matches(v));
}

function describeStatement(s: CompiledStatement): string {
  return `statement ${s.index}${s.sid ? ` (Sid ${s.sid})` : ''}`;
}

export function evaluateTrustPolicy(policy: CompiledTrustPolicy, request: TrustRequest): TrustDecision {
  const reasons: string[] = [];
  let allow: CompiledStatement | undefined;
  for (const statement of policy.statements) {
    const principalOk =
      principalMatches(statement.principal, request.principal) !== statement.principalNegated;
    if (!principalOk) {
      reasons.push(
        `${describeStatement(statement)}: principal ${statement.principal.describe} does not match ${describePrincipal(request.principal)}`,
      );
      continue;
    }
    const actionOk = statement.actions.some((a) => a.test(request.action)) !== statement.actionNegated;
    if (!actionOk) {
      reasons.push(`${describeStatement(statement)}: action ${request.action} not covered`);
      continue;
    }
    const failed = statement.conditions.find((c) => !conditionHolds(c, request.context));
    if (failed) {
      const actual = request.context.get(failed.key);
      reasons.push(
        `${describeStatement(statement)}: condition ${failed.operator} ${failed.key} failed` +
          (failed.base === 'Unsupported' ? ' (operator not supported by the sandbox)' : '') +
          `: request has ${actual === undefined ? 'no value' : JSON.stringify(actual)}, policy wants ${JSON.stringify(failed.values)}`,
      );
      continue;
    }
    if (statement.effect === 'Deny') {
      return {
        allowed: false,
        decidingStatement: { index: statement.index, sid: statement.sid, effect: 'Deny' },
        reasons: [...reasons, `${describeStatement(statement)}: explicit Deny`],
      };
    }
    allow ??= statement;
  }
  if (allow)
    return {
      allowed: true,
      decidingStatement: { index: allow.index, sid: allow.sid, effect: 'Allow' },
      reasons,
    };
  if (policy.statements.length === 0) reasons.push('no statements');
  return { allowed: false, reasons };
}

function describePrincipal(principal: TrustPrincipal): string {
  return principal.type === 'Federated'
    ? `Federated ${principal.provider}`
    : `AWS ${principal.arns[0] ?? principal.accountId}`;
}
