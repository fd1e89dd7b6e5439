export { KeylessError, InvalidInputError, isKeylessError } from './errors';
export type { Reporter, StreamReporterOptions } from './report/reporter';
export { StreamReporter, MemoryReporter } from './report/reporter';
export { SecretRegistry, encodedForms } from './report/secrets';

export { providerNames } from './credentials/types';
export type {
  ProviderName,
  TokenClaims,
  OidcToken,
  TokenSource,
  CredentialOptions,
  CallerIdentity,
  ResolvedCredentials,
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
} from './credentials/types';
export {
  TokenSourceError,
  StsRejectedError,
  StsUnavailableError,
  RegionMissingError,
  InstanceMetadataError,
  AccountNotAllowedError,
} from './credentials/errors';
export type { StsCheck } from './credentials/errors';
export { resolveCredentials, getCallerIdentity } from './credentials/resolve';
export type { ResolveContext, CallerIdentityContext } from './credentials/resolve';
export { TokenFileKeeper } from './credentials/token-file-keeper';
export type { TokenFileKeeperOptions } from './credentials/token-file-keeper';
export { createTokenSource } from './credentials/token-sources';
export type { TokenSourceContext } from './credentials/token-sources';
export { validateCredentialOptions, defaultSessionName } from './credentials/options';
export {
  explainStsError,
  classifyStsError,
  stsErrorCode,
  trustPolicyStatementFor,
} from './credentials/explain';
export type { StsCallContext } from './credentials/explain';
export { describeClaims } from './credentials/jwt';

export { resolveRegion } from './aws/region';
export { resolveEndpoint } from './aws/endpoints';
export { proxyAgentFor, proxyUrlFor } from './aws/proxy';
export { buildClientConfig } from './aws/client-config';
export type { AwsClientConfig, ClientConfigInput } from './aws/client-config';
