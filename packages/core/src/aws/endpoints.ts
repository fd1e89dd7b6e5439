import { InvalidInputError } from '../errors';

/** Endpoint overrides by our short service keys, plus `default` for every service. */
export type EndpointOverrides = Partial<Record<string, string | undefined>>;

/** The SDK's service ids, used to form `AWS_ENDPOINT_URL_<SERVICE_ID>` the same way the SDK does. */
const sdkServiceIds: Record<string, string> = {
  sts: 'STS',
  s3: 'S3',
  cloudformation: 'CloudFormation',
  codedeploy: 'CodeDeploy',
  iam: 'IAM',
};

/**
 * The endpoint URL for a service: explicit option, then `AWS_ENDPOINT_URL_<SERVICE>` (upper case, spaces
 * become `_`), then `AWS_ENDPOINT_URL`, else undefined so the SDK picks the regional AWS endpoint.
 */
export function resolveEndpoint(
  serviceId: string,
  overrides: EndpointOverrides | undefined,
  env: NodeJS.ProcessEnv,
): string | undefined {
  const key = serviceId.toLowerCase();
  const envName = `AWS_ENDPOINT_URL_${(sdkServiceIds[key] ?? serviceId).toUpperCase().replace(/ /g, '_')}`;
  const candidates: Array<[string, string | undefined]> = [
    [`the ${key} endpoint option`, overrides?.[key]],
    ['the default endpoint option', overrides?.default],
    [envName, env[envName]],
    ['AWS_ENDPOINT_URL', env.AWS_ENDPOINT_URL],
  ];
  for (const [where, value] of candidates) {
    const endpoint = value?.trim();
    if (!endpoint) continue;
    return validateEndpoint(endpoint, where);
  }
  return undefined;
}

function validateEndpoint(endpoint: string, where: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new InvalidInputError(
      `The endpoint "${endpoint}" from ${where} is not a URL.`,
      'Give a full URL such as https://sts.eu-west-1.amazonaws.com or http://127.0.0.1:4566.',
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidInputError(
      `The endpoint "${endpoint}" from ${where} must use http or https.`,
      'Give a URL starting with https:// (or http:// for a local endpoint).',
    );
  }
  return endpoint.replace(/\/+$/, '');
}
