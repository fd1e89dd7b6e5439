import { AwsError } from './errors';
import { newRoleId } from './ids';
import { compileTrustPolicy, PolicySyntaxError, type CompiledTrustPolicy } from './trust-policy';

/** The sandbox account's IAM objects that STS consults: OIDC providers and roles. */

export interface OidcProvider {
  arn: string;
  /** Issuer URL including `https://`, exactly as registered (STS compares `iss` with it case-sensitively). */
  url: string;
  clientIds: string[];
  thumbprints: string[];
  createDate: Date;
}

export interface Role {
  name: string;
  path: string;
  arn: string;
  roleId: string;
  description?: string;
  createDate: Date;
  maxSessionDuration: number;
  /** The document as given (IAM returns it URL-encoded). */
  assumeRolePolicyDocument: string;
  trustPolicy: CompiledTrustPolicy;
  /** Inline permission policies by name (documents as given). Recorded, not enforced. */
  inlinePolicies: Map<string, string>;
}

const ROLE_NAME = /^[\w+=,.@-]+$/;
const PATH = /^\/([\x21-\x7E]*\/)?$/;

export function validationError(
  field: string,
  value: string | number | undefined,
  constraint: string,
): AwsError {
  const shown = value === undefined ? 'null' : `'${value}'`;
  return new AwsError(
    'ValidationError',
    `1 validation error detected: Value ${shown} at '${field}' failed to satisfy constraint: ${constraint}`,
  );
}

export function compilePolicyOrThrow(document: string): CompiledTrustPolicy {
  try {
    return compileTrustPolicy(document);
  } catch (error) {
    if (error instanceof PolicySyntaxError) throw new AwsError('MalformedPolicyDocument', error.message);
    throw error;
  }
}

export function checkMaxSessionDuration(value: number): void {
  if (value < 3600)
    throw validationError(
      'maxSessionDuration',
      value,
      'Member must have value greater than or equal to 3600',
    );
  if (value > 43200)
    throw validationError('maxSessionDuration', value, 'Member must have value less than or equal to 43200');
}

export class IamState {
  private readonly providers = new Map<string, OidcProvider>();
  /** Keyed by lower-cased name: IAM role names are unique regardless of case. */
  private readonly roles = new Map<string, Role>();

  constructor(
    readonly accountId: string,
    private readonly now: () => Date,
  ) {}

  providerArnFor(url: string): string {
    return `arn:aws:iam::${this.accountId}:oidc-provider/${url.replace(/^https:\/\//, '')}`;
  }

  createProvider(input: { url: string; clientIds: string[]; thumbprints: string[] }): OidcProvider {
    const { url } = input;
    if (url.length < 1 || url.length > 255)
      throw validationError('url', url, 'Member must have length less than or equal to 255');
    if (!url.startsWith('https://') || url.length === 'https://'.length || /[?#]/.test(url)) {
      throw new AwsError(
        'InvalidInput',
        `Invalid URL: ${url}. The URL must begin with https:// and must not contain a query or fragment.`,
      );
    }
    for (const id of input.clientIds) {
      if (id.length < 1 || id.length > 255)
        throw validationError('clientIDList.member', id, 'Member must have length less than or equal to 255');
    }
    if (input.clientIds.length > 100)
      throw new AwsError('LimitExceeded', 'Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100');
    for (const thumbprint of input.thumbprints) {
      if (!/^[0-9a-fA-F]{40}$/.test(thumbprint)) {
        throw validationError(
          'thumbprintList.member',
          thumbprint,
          'Member must have length greater than or equal to 40',
        );
      }
    }
    if (input.thumbprints.length > 5)
      throw new AwsError('InvalidInput', 'Thumbprint list must contain fewer than 5 entries.');
    const arn = this.providerArnFor(url);
    if (this.providers.has(arn))
      throw new AwsError('EntityAlreadyExists', `Provider with url ${url} already exists.`, 409);
    const provider: OidcProvider = {
      arn,
      url,
      clientIds: [...new Set(input.clientIds)],
      thumbprints: input.thumbprints,
      createDate: this.now(),
    };
    this.providers.set(arn, provider);
    return provider;
  }

  provider(arn: string): OidcProvider {
    const provider = this.providers.get(arn);
    if (!provider) throw new AwsError('NoSuchEntity', `OpenIDConnect Provider not found for arn ${arn}`, 404);
    return provider;
  }

  /** The provider whose URL equals `iss` exactly (STS's lookup); undefined when none. */
  providerForIssuer(iss: string): OidcProvider | undefined {
    if (!iss.startsWith('https://')) return undefined;
    const provider = this.providers.get(this.providerArnFor(iss));
    return provider && provider.url === iss ? provider : undefined;
  }

  listProviders(): OidcProvider[] {
    return [...this.providers.values()];
  }

  deleteProvider(arn: string): void {
    this.provider(arn);
    this.providers.delete(arn);
  }

  createRole(input: {
    name: string;
    path?: string;
    description?: string;
    assumeRolePolicyDocument: string;
    maxSessionDuration?: number;
  }): Role {
    const { name } = input;
    if (name.length < 1 || name.length > 64)
      throw validationError('roleName', name, 'Member must have length less than or equal to 64');
    if (!ROLE_NAME.test(name))
      throw validationError('roleName', name, 'Member must satisfy regular expression pattern: [\\w+=,.@-]+');
    const path = input.path ?? '/';
    if (path.length > 512 || !PATH.test(path)) {
      throw validationError(
        'path',
        path,
        'Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)',
      );
    }
    if (input.description !== undefined && input.description.length > 1000) {
      throw validationError(
        'description',
        input.description,
        'Member must have length less than or equal to 1000',
      );
    }
    const maxSessionDuration = input.maxSessionDuration ?? 3600;
    checkMaxSessionDuration(maxSessionDuration);
    const trustPolicy = compilePolicyOrThrow(input.assumeRolePolicyDocument);
    if (this.roles.has(name.toLowerCase()))
      throw new AwsError('EntityAlreadyExists', `Role with name ${name} already exists.`, 409);
    const role: Role = {
      name,
      path,
      arn: `arn:aws:iam::${this.accountId}:role${path}${name}`,
      roleId: newRoleId(),
      description: input.description,
      createDate: this.now(),
      maxSessionDuration,
      assumeRolePolicyDocument: input.assumeRolePolicyDocument,
      trustPolicy,
      inlinePolicies: new Map(),
    };
    this.roles.set(name.toLowerCase(), role);
    return role;
  }

  /** PutRolePolicy: the document must be a JSON policy with a Statement (IAM's MalformedPolicyDocument otherwise). */
  putRolePolicy(roleName: string, policyName: string, document: string): void {
    const role = this.role(roleName);
    let parsed: unknown;
    try {
      parsed = JSON.parse(document);
    } catch {
      throw new AwsError('MalformedPolicyDocument', 'Syntax errors in policy.', 400);
    }
    if (typeof parsed !== 'object' || parsed === null || !('Statement' in parsed))
      throw new AwsError('MalformedPolicyDocument', 'Policy document must contain a Statement.', 400);
    role.inlinePolicies.set(policyName, document);
  }

  role(name: string): Role {
    const role = this.roles.get(name.toLowerCase());
    if (!role) throw new AwsError('NoSuchEntity', `The role with name ${name} cannot be found.`, 404);
    return role;
  }

  /** The role an ARN names in this account, or undefined (STS then answers AccessDenied, never NoSuchEntity). */
  roleByArn(arn: string): Role | undefined {
    const m = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(arn);
    if (!m || m[1] !== this.accountId) return undefined;
    const role = this.roles.get((m[2] as string).toLowerCase());
    return role && role.arn === arn ? role : undefined;
  }

  listRoles(pathPrefix = '/'): Role[] {
    return [...this.roles.values()].filter((r) => r.path.startsWith(pathPrefix));
  }

  deleteRole(name: string): void {
    this.role(name);
    this.roles.delete(name.toLowerCase());
  }
}
