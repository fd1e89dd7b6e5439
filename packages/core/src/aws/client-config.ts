import type { AwsCredentialIdentityProvider, Logger } from '@smithy/types';
import type { Agent as HttpsAgent } from 'node:https';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { resolveEndpoint, type EndpointOverrides } from './endpoints';
import { proxyAgentFor } from './proxy';

export interface ClientConfigInput {
  region: string;
  credentials?: AwsCredentialIdentityProvider;
  endpoints?: EndpointOverrides;
  env: NodeJS.ProcessEnv;
  /** SDK attempts per call (default 8: enough to ride out throttling during long deploys). */
  maxAttempts?: number;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

/** The subset of SDK v3 client configuration every client (STS, S3, CloudFormation, CodeDeploy) accepts. */
export interface AwsClientConfig {
  region: string;
  endpoint?: string;
  credentials?: AwsCredentialIdentityProvider;
  requestHandler: NodeHttpHandler;
  maxAttempts: number;
  logger: Logger;
}

/** The SDK must print nothing itself: its debug output can include request bodies (e.g. WebIdentityToken). */
export const silentLogger: Logger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Builds SDK v3 client config for one service: region, endpoint override, credentials, proxy, retries. */
export function buildClientConfig(serviceId: string, input: ClientConfigInput): AwsClientConfig {
  const endpoint = resolveEndpoint(serviceId, input.endpoints, input.env);
  // Without an override the SDK targets the regional AWS endpoint; NO_PROXY is matched against that host.
  const target = endpoint ?? `https://${serviceId.toLowerCase()}.${input.region}.amazonaws.com`;
  const agent = proxyAgentFor(target, input.env);
  const isHttps = new URL(target).protocol === 'https:';
  const requestHandler = new NodeHttpHandler({
    connectionTimeout: input.connectionTimeoutMs ?? 10_000,
    requestTimeout: input.requestTimeoutMs ?? 60_000,
    // The proxy agent tunnels with CONNECT and then speaks TLS itself, so it stands in for an https.Agent.
    ...(agent ? (isHttps ? { httpsAgent: agent as HttpsAgent } : { httpAgent: agent }) : {}),
  });
  const config: AwsClientConfig = {
    region: input.region,
    requestHandler,
    maxAttempts: input.maxAttempts ?? 8,
    logger: silentLogger,
  };
  if (endpoint) config.endpoint = endpoint;
  if (input.credentials) config.credentials = input.credentials;
  return config;
}
