import { randomBytes } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Ec2MetadataConfig } from '../config';
import type { IssuedCredentials, SandboxContext } from '../context';
import { stableHex } from './deterministic';
import { answerWithFault } from './fault-injection';
import { requestUrl, sendText, singleHeader } from './http';

/*
 * EC2 instance metadata service, IMDSv2 only (AWS EC2 user guide, "Use the Instance Metadata Service to access
 * instance metadata" and "Retrieve security credentials from instance metadata"): a PUT for a session token,
 * then GETs carrying it. Every answer is text/plain, JSON documents included; errors are the small XHTML pages
 * the real service sends.
 */

const TOKEN_PATH = '/latest/api/token';
const TOKEN_TTL_HEADER = 'x-aws-ec2-metadata-token-ttl-seconds';
const TOKEN_HEADER = 'x-aws-ec2-metadata-token';
const MAX_TOKEN_TTL_SECONDS = 21600;
/** Instance-profile sessions last 6 h and are refreshed well before expiry (simulated seconds). */
const ROLE_SESSION_SECONDS = 6 * 3600;
const CREDENTIAL_REFRESH_MARGIN_SECONDS = 15 * 60;

export function ec2ErrorPage(status: number): { contentType: string; body: string } {
  const title = `${status} - ${STATUS_CODES[status] ?? 'Error'}`;
  return {
    contentType: 'text/html',
    body: `<?xml version="1.0" encoding="iso-8859-1"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
	"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title>${title}</title>
 </head>
 <body>
  <h1>${title}</h1>
 </body>
</html>
`,
  };
}

/** IMDS timestamps carry no fractional seconds. */
function imdsTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `{\n  "Key" : "value",\n …}` — the real service's own pretty-printing. */
function imdsJson(fields: Record<string, unknown>): string {
  const lines = Object.entries(fields).map(
    ([key, value]) => `  ${JSON.stringify(key)} : ${JSON.stringify(value)}`,
  );
  return `{\n${lines.join(',\n')}\n}`;
}

/** /latest/api/token, /latest/meta-data/…, /latest/dynamic/… (fault target `ec2-imds`); only when `config.ec2` is set. */
export function createEc2ImdsHandler(ctx: SandboxContext) {
  /** Session token → real expiry (ms). */
  const sessionTokens = new Map<string, number>();
  let cachedCredentials: { roleName: string; credentials: IssuedCredentials; issuedAtMs: number } | undefined;
  const launchedAtMs = ctx.clock.now();

  const sendError = (response: ServerResponse, status: number, why: string): true => {
    const page = ec2ErrorPage(status);
    sendText(response, status, page.body, page.contentType);
    ctx.log(`ec2-imds -> ${status} ${why}`);
    return true;
  };

  const issueSessionToken = (request: IncomingMessage, response: ServerResponse): true => {
    const ttlText = singleHeader(request, TOKEN_TTL_HEADER);
    const ttl = ttlText !== undefined && /^\d+$/.test(ttlText.trim()) ? Number(ttlText) : NaN;
    if (!(ttl >= 1 && ttl <= MAX_TOKEN_TTL_SECONDS))
      return sendError(response, 400, `token TTL '${ttlText ?? ''}'`);
    const now = ctx.clock.now();
    for (const [token, expiresAt] of sessionTokens) if (expiresAt <= now) sessionTokens.delete(token);
    const token = randomBytes(42).toString('base64url');
    sessionTokens.set(token, now + ctx.clock.realMs(ttl));
    sendText(response, 200, token, 'text/plain', { 'X-aws-ec2-metadata-token-ttl-seconds': String(ttl) });
    ctx.log(`ec2-imds PUT ${TOKEN_PATH} ttl=${ttl} -> 200`);
    return true;
  };

  const roleCredentials = (ec2: Ec2MetadataConfig): IssuedCredentials => {
    const now = ctx.clock.now();
    const margin = ctx.clock.realMs(CREDENTIAL_REFRESH_MARGIN_SECONDS);
    if (
      cachedCredentials === undefined ||
      cachedCredentials.roleName !== ec2.roleName ||
      cachedCredentials.credentials.expiration.getTime() - now < margin
    ) {
      const credentials = ctx.sessions.issueRoleSession({
        roleArn: `arn:aws:iam::${ctx.accountId}:role/${ec2.roleName}`,
        sessionName: ec2.instanceId,
        durationSeconds: ROLE_SESSION_SECONDS,
      });
      cachedCredentials = { roleName: ec2.roleName, credentials, issuedAtMs: now };
    }
    return cachedCredentials.credentials;
  };

  const metadata = (ec2: Ec2MetadataConfig, path: string): { body: string } | { status: number } => {
    const availabilityZone = ec2.availabilityZone ?? `${ec2.region}a`;
    const leaves: Record<string, () => string> = {
      'meta-data/ami-id': () => `ami-${stableHex(`ami:${ec2.instanceId}`, 17)}`,
      'meta-data/hostname': () => `ip-10-0-0-10.${ec2.region}.compute.internal`,
      'meta-data/instance-id': () => ec2.instanceId,
      'meta-data/instance-type': () => 't3.micro',
      'meta-data/local-ipv4': () => '10.0.0.10',
      'meta-data/placement/availability-zone': () => availabilityZone,
      'meta-data/placement/region': () => ec2.region,
      'meta-data/iam/info': () =>
        imdsJson({
          Code: 'Success',
          LastUpdated: imdsTime(launchedAtMs),
          InstanceProfileArn: `arn:aws:iam::${ctx.accountId}:instance-profile/${ec2.roleName}`,
          InstanceProfileId: `AIPA${stableHex(`profile:${ec2.roleName}`, 17).toUpperCase()}`,
        }),
      'meta-data/iam/security-credentials': () => ec2.roleName,
      'dynamic/instance-identity/document': () =>
        imdsJson({
          accountId: ctx.accountId,
          architecture: 'x86_64',
          availabilityZone,
          billingProducts: null,
          devpayProductCodes: null,
          marketplaceProductCodes: null,
          imageId: `ami-${stableHex(`ami:${ec2.instanceId}`, 17)}`,
          instanceId: ec2.instanceId,
          instanceType: 't3.micro',
          kernelId: null,
          pendingTime: imdsTime(launchedAtMs),
          privateIp: '10.0.0.10',
          ramdiskId: null,
          region: ec2.region,
          version: '2017-09-30',
        }),
    };
    const directories: Record<string, string[]> = {
      'meta-data': ['ami-id', 'hostname', 'iam/', 'instance-id', 'instance-type', 'local-ipv4', 'placement/'],
      'meta-data/iam': ['info', 'security-credentials/'],
      'meta-data/placement': ['availability-zone', 'region'],
      dynamic: ['instance-identity/'],
      'dynamic/instance-identity': ['document'],
    };
    const key = path.replace(/\/+$/, '');
    const leaf = leaves[key];
    if (leaf !== undefined) return { body: leaf() };
    const listing = directories[key];
    if (listing !== undefined) return { body: listing.join('\n') };
    const roleMatch = /^meta-data\/iam\/security-credentials\/([^/]+)$/.exec(key);
    if (roleMatch === null || roleMatch[1] !== ec2.roleName) return { status: 404 };
    try {
      const credentials = roleCredentials(ec2);
      return {
        body: imdsJson({
          Code: 'Success',
          LastUpdated: imdsTime(cachedCredentials?.issuedAtMs ?? ctx.clock.now()),
          Type: 'AWS-HMAC',
          AccessKeyId: credentials.accessKeyId,
          SecretAccessKey: credentials.secretAccessKey,
          Token: credentials.sessionToken,
          Expiration: imdsTime(credentials.expiration.getTime()),
        }),
      };
    } catch (error) {
      // The role behind the instance profile cannot be assumed (e.g. deleted): IMDS reports it in the document.
      ctx.log(`ec2-imds: role session for ${ec2.roleName} failed: ${(error as Error).message}`);
      return {
        body: imdsJson({
          Code: 'AssumeRoleUnauthorizedAccess',
          Message: `EC2 cannot assume the role ${ec2.roleName}.`,
          LastUpdated: imdsTime(ctx.clock.now()),
        }),
      };
    }
  };

  return async (request: IncomingMessage, response: ServerResponse): Promise<boolean> => {
    const url = requestUrl(request);
    const ec2 = ctx.config.ec2;
    // Unconfigured: not ours, so the server's own 404 (or a path-style S3 bucket named "latest") answers.
    if (ec2 === undefined || !url.pathname.startsWith('/latest/')) return false;
    if (await answerWithFault(ctx, 'ec2-imds', request, response, ec2ErrorPage)) return true;

    const method = request.method ?? 'GET';
    if (url.pathname === TOKEN_PATH) {
      return method === 'PUT'
        ? issueSessionToken(request, response)
        : sendError(response, 405, `${method} ${TOKEN_PATH}`);
    }
    if (method !== 'GET' && method !== 'HEAD') return sendError(response, 405, `${method} ${url.pathname}`);
    const token = singleHeader(request, TOKEN_HEADER);
    const expiresAt = token === undefined ? undefined : sessionTokens.get(token);
    if (expiresAt === undefined || expiresAt <= ctx.clock.now()) {
      return sendError(response, 401, `${url.pathname} without a valid IMDSv2 token`);
    }
    const answer = metadata(ec2, url.pathname.slice('/latest/'.length));
    if ('status' in answer) return sendError(response, answer.status, url.pathname);
    sendText(response, 200, answer.body, 'text/plain');
    ctx.log(`ec2-imds GET ${url.pathname} -> 200`);
    return true;
  };
}
