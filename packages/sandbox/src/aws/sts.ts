import { AwsError } from './errors';
import type { Role } from './iam-state';
import { renderQueryResult } from './query';
import type { AwsCall, AwsEnvironment, AwsReply, AwsService } from './service';
import { callerArn, type Caller, type RoleSession } from './sessions';
import { evaluateTrustPolicy, type TrustDecision, type TrustRequest } from './trust-policy';
import { ParameterValidation } from './validation';
import { validateWebIdentityToken, webIdentityContext } from './web-identity';
import type { XmlValue } from './xml';

export const STS_VERSION = '2011-06-15';
export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';

const SESSION_NAME = /^[\w+=,.@-]*$/;
// The documented pattern of RoleArn/Policy text members (printable Unicode plus TAB/LF/CR).
const TEXT =
  // eslint-disable-next-line no-control-regex -- TAB, LF and CR are part of AWS's documented pattern
  /^[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\uD800-\uDBFF\uDC00-\uDFFF]+$/u;
const TEXT_PATTERN =
  '[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u0085\\u00A0-\\uD7FF\\uE000-\\uFFFD\\u10000-\\u10FFFF]+';
const ROLE_ARN = /^arn:aws[\w-]*:iam::\d{12}:role\/(?:[\x21-\x7E]*\/)?[\w+=,.@-]{1,64}$/;
/** Role chaining caps the session at one hour whatever the role allows (IAM user guide). */
const CHAINED_MAX_SECONDS = 3600;

interface SessionRequest {
  roleArn: string;
  sessionName: string;
  durationSeconds: number;
  policyPackedSize: number;
}

function accessDeniedWebIdentity(): AwsError {
  return new AwsError('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity', 403);
}

/** Parameter checks shared by AssumeRole and AssumeRoleWithWebIdentity, in AWS's constraint wording. */
function readSessionRequest(call: AwsCall, extra: (v: ParameterValidation) => void): SessionRequest {
  const params = call.params!;
  const roleArn = params.string('RoleArn');
  const sessionName = params.string('RoleSessionName');
  const duration = params.integer('DurationSeconds');
  const policy = params.string('Policy');
  const v = new ParameterValidation();
  v.string('roleArn', roleArn, { min: 20, max: 2048, pattern: TEXT, patternText: TEXT_PATTERN });
  v.string('roleSessionName', sessionName, {
    min: 2,
    max: 64,
    pattern: SESSION_NAME,
    patternText: '[\\w+=,.@-]*',
  });
  extra(v);
  v.integer('durationSeconds', duration, 900, 43200);
  v.string('policy', policy, {
    min: 1,
    max: 2048,
    pattern: TEXT,
    patternText: TEXT_PATTERN,
    required: false,
  });
  v.throwIfFailed();
  if (!ROLE_ARN.test(roleArn as string)) throw new AwsError('ValidationError', 'Request ARN is invalid');
  let policyPackedSize = 0;
  if (policy !== undefined) {
    try {
      policyPackedSize = Math.ceil((JSON.stringify(JSON.parse(policy)).length * 100) / 2048);
    } catch {
      throw new AwsError('MalformedPolicyDocument', 'The policy is not in the valid JSON format.');
    }
  }
  return {
    roleArn: roleArn as string,
    sessionName: sessionName as string,
    durationSeconds: duration ?? 3600,
    policyPackedSize,
  };
}

function credentialsXml(session: RoleSession): Record<string, XmlValue> {
  return {
    AccessKeyId: session.accessKeyId,
    SecretAccessKey: session.secretAccessKey,
    SessionToken: session.sessionToken,
    Expiration: new Date(session.expiresAtMs),
  };
}

function noteDecision(call: AwsCall, role: Role, decision: TrustDecision): void {
  if (decision.allowed) return;
  call.note(`trust policy of ${role.arn} refused: ${decision.reasons.join('; ') || 'no statement allows'}`);
}

function xml(operation: string, result: Record<string, XmlValue | undefined>, requestId: string): AwsReply {
  return {
    headers: { 'content-type': 'text/xml' },
    body: renderQueryResult(operation, STS_XMLNS, result, requestId),
  };
}

export function createStsService(env: AwsEnvironment): AwsService {
  function assumeRoleWithWebIdentity(call: AwsCall): AwsReply {
    const token = call.params!.string('WebIdentityToken');
    const request = readSessionRequest(call, (v) =>
      v.string('webIdentityToken', token, { min: 4, max: 20000, sensitive: true }),
    );
    const roleAccount = /^arn:aws[\w-]*:iam::(\d{12}):/.exec(request.roleArn)?.[1];
    const identity = validateWebIdentityToken(token as string, roleAccount, {
      iam: env.iam,
      issuers: env.issuers,
      nowSeconds: env.clock.nowSeconds(),
    });
    call.note(`iss=${identity.issuer} sub=${identity.subject} aud=${identity.audience}`);
    const role = env.iam.roleByArn(request.roleArn);
    if (!role) throw accessDeniedWebIdentity().withDetail(`role ${request.roleArn} does not exist`);
    const decision = evaluateTrustPolicy(role.trustPolicy, {
      action: 'sts:AssumeRoleWithWebIdentity',
      principal: { type: 'Federated', provider: identity.provider.arn },
      context: webIdentityContext(identity, request.sessionName),
    });
    noteDecision(call, role, decision);
    if (!decision.allowed) throw accessDeniedWebIdentity();
    if (request.durationSeconds > role.maxSessionDuration) {
      throw new AwsError(
        'ValidationError',
        'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
      );
    }
    const session = env.sessions.issue(role, request.sessionName, request.durationSeconds);
    return xml(
      'AssumeRoleWithWebIdentity',
      {
        Credentials: credentialsXml(session),
        SubjectFromWebIdentityToken: identity.subject,
        AssumedRoleUser: { AssumedRoleId: session.assumedRoleId, Arn: session.assumedRoleArn },
        PackedPolicySize: request.policyPackedSize,
        Provider: identity.provider.arn,
        Audience: identity.audience,
      },
      call.requestId,
    );
  }

  function assumeRole(call: AwsCall, caller: Caller): AwsReply {
    const externalId = call.params!.string('ExternalId');
    const request = readSessionRequest(call, (v) =>
      v.string('externalId', externalId, {
        min: 2,
        max: 1224,
        pattern: /^[\w+=,.@:/-]*$/,
        patternText: '[\\w+=,.@:\\/-]*',
        required: false,
      }),
    );
    const arn = callerArn(caller);
    const denied = () =>
      new AwsError(
        'AccessDenied',
        `User: ${arn} is not authorized to perform: sts:AssumeRole on resource: ${request.roleArn}`,
        403,
      );
    // AWS refuses role assumption with root credentials outright.
    if (caller.kind === 'root')
      throw new AwsError('AccessDenied', 'Roles may not be assumed by root accounts.', 403);
    const role = env.iam.roleByArn(request.roleArn);
    if (!role) throw denied().withDetail(`role ${request.roleArn} does not exist`);
    const trustRequest: TrustRequest = {
      action: 'sts:AssumeRole',
      principal: {
        type: 'AWS',
        accountId: caller.accountId,
        arns: [caller.session.assumedRoleArn, caller.session.roleArn],
      },
      context: new Map([
        ['sts:rolesessionname', [request.sessionName]],
        ['aws:principalarn', [caller.session.roleArn]],
        ['aws:principalaccount', [caller.accountId]],
        ...(externalId === undefined ? [] : [['sts:externalid', [externalId]] as [string, string[]]]),
      ]),
    };
    const decision = evaluateTrustPolicy(role.trustPolicy, trustRequest);
    noteDecision(call, role, decision);
    if (!decision.allowed) throw denied();
    // The caller is itself a role session, so this is role chaining.
    if (request.durationSeconds > CHAINED_MAX_SECONDS) {
      throw new AwsError(
        'ValidationError',
        'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
      );
    }
    const session = env.sessions.issue(role, request.sessionName, request.durationSeconds);
    return xml(
      'AssumeRole',
      {
        Credentials: credentialsXml(session),
        AssumedRoleUser: { AssumedRoleId: session.assumedRoleId, Arn: session.assumedRoleArn },
        PackedPolicySize: request.policyPackedSize,
      },
      call.requestId,
    );
  }

  function getCallerIdentity(call: AwsCall, caller: Caller): AwsReply {
    return xml(
      'GetCallerIdentity',
      {
        UserId: caller.kind === 'root' ? caller.accountId : caller.session.assumedRoleId,
        Account: caller.accountId,
        Arn: callerArn(caller),
      },
      call.requestId,
    );
  }

  return {
    name: 'sts',
    signingName: 'sts',
    protocol: { kind: 'query', xmlns: STS_XMLNS },
    faultTarget: 'sts',
    anonymousOperations: new Set(['AssumeRoleWithWebIdentity']),
    handle(call) {
      switch (call.operation) {
        case 'AssumeRoleWithWebIdentity':
          return assumeRoleWithWebIdentity(call);
        case 'AssumeRole':
          return assumeRole(call, call.caller!);
        case 'GetCallerIdentity':
          return getCallerIdentity(call, call.caller!);
        default:
          throw new AwsError(
            'InvalidAction',
            `Could not find operation ${call.operation} for version ${STS_VERSION}`,
          );
      }
    },
  };
}
