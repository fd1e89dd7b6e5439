import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { SandboxConfig } from './config';
import { FAULT_SERVICES, validateFaultRules } from './aws/fault-rules';

/**
 * Loads `keyless sandbox --config` files (YAML or JSON) and checks them against SandboxConfig, naming the file
 * and the offending key path in every error, so a typo fails at start rather than as a puzzling STS refusal.
 */

type Schema =
  | { type: 'string' | 'number' | 'boolean' | 'any' }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'array'; items: Schema }
  | { type: 'object'; fields: Record<string, Schema>; required?: readonly string[] };

const str: Schema = { type: 'string' };
const num: Schema = { type: 'number' };
const strings: Schema = { type: 'array', items: str };
const obj = (fields: Record<string, Schema>, required: readonly string[] = []): Schema => ({
  type: 'object',
  fields,
  required,
});

const SCHEMA: Schema = obj({
  account: obj({ id: str, region: str }),
  rootCredentials: {
    type: 'array',
    items: obj({ accessKeyId: str, secretAccessKey: str }, ['accessKeyId', 'secretAccessKey']),
  },
  issuers: {
    type: 'array',
    items: obj(
      {
        id: str,
        kind: { type: 'enum', values: ['azure-ad', 'azure-devops', 'github', 'gitlab', 'generic'] },
        issuer: str,
        tokenLifetimeSeconds: num,
      },
      ['id', 'issuer'],
    ),
  },
  azure: obj(
    {
      tenantId: str,
      issuer: str,
      resources: strings,
      managedIdentities: {
        type: 'array',
        items: obj({ name: str, clientId: str, objectId: str, resourceId: str }, [
          'name',
          'clientId',
          'objectId',
          'resourceId',
        ]),
      },
    },
    ['tenantId', 'issuer', 'resources', 'managedIdentities'],
  ),
  azureDevOps: obj(
    {
      issuer: str,
      organization: str,
      organizationId: str,
      project: str,
      projectId: str,
      accessToken: str,
      serviceConnections: { type: 'array', items: obj({ id: str, name: str }, ['id', 'name']) },
    },
    ['issuer', 'organization', 'organizationId', 'project', 'projectId', 'accessToken', 'serviceConnections'],
  ),
  github: obj({ issuer: str, requestToken: str, repository: str, ref: str, claims: { type: 'any' } }, [
    'issuer',
    'requestToken',
    'repository',
    'ref',
  ]),
  gitlab: obj(
    { issuer: str, projectPath: str, ref: str, refType: { type: 'enum', values: ['branch', 'tag'] } },
    ['issuer', 'projectPath', 'ref'],
  ),
  ec2: obj({ instanceId: str, region: str, availabilityZone: str, roleName: str }, [
    'instanceId',
    'region',
    'roleName',
  ]),
  iam: obj({
    oidcProviders: {
      type: 'array',
      items: obj({ url: str, clientIds: strings, thumbprints: strings }, ['url', 'clientIds']),
    },
    roles: {
      type: 'array',
      items: obj(
        {
          name: str,
          path: str,
          description: str,
          assumeRolePolicyDocument: { type: 'any' },
          maxSessionDuration: num,
          policies: {
            type: 'array',
            items: obj({ name: str, document: { type: 'any' } }, ['name', 'document']),
          },
        },
        ['name', 'assumeRolePolicyDocument'],
      ),
    },
  }),
  cloudformation: obj({ providerDelaySeconds: num }),
  s3: obj({ buckets: { type: 'array', items: obj({ name: str, region: str }, ['name']) } }),
  faults: {
    type: 'array',
    items: obj(
      {
        service: { type: 'enum', values: FAULT_SERVICES },
        operation: str,
        throttle: num,
        serverError: num,
        reset: num,
        slow: num,
        slowMs: num,
        duplicate: num,
      },
      ['service'],
    ),
  },
  faultSeed: num,
});

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : `${typeof value} ${JSON.stringify(value)}`;
}

function check(value: unknown, schema: Schema, path: string, errors: string[]): void {
  const at = path || '(top level)';
  switch (schema.type) {
    case 'any':
      return;
    case 'string':
    case 'number':
    case 'boolean':
      if (typeof value !== schema.type || (schema.type === 'number' && !Number.isFinite(value))) {
        errors.push(`${at}: expected a ${schema.type}, got ${describe(value)}`);
      }
      return;
    case 'enum':
      if (typeof value !== 'string' || !schema.values.includes(value)) {
        errors.push(`${at}: expected one of ${schema.values.join(', ')}, got ${describe(value)}`);
      }
      return;
    case 'array':
      if (!Array.isArray(value)) errors.push(`${at}: expected a list, got ${describe(value)}`);
      else value.forEach((item, i) => check(item, schema.items, `${path}[${i}]`, errors));
      return;
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        errors.push(`${at}: expected a mapping, got ${describe(value)}`);
        return;
      }
      const record = value as Record<string, unknown>;
      for (const key of schema.required ?? []) {
        if (record[key] === undefined)
          errors.push(`${path ? `${path}.` : ''}${key}: required key is missing`);
      }
      for (const [key, child] of Object.entries(record)) {
        const childPath = path ? `${path}.${key}` : key;
        const childSchema = schema.fields[key];
        if (!childSchema)
          errors.push(`${childPath}: unknown key (expected one of ${Object.keys(schema.fields).join(', ')})`);
        else if (child !== undefined && child !== null) check(child, childSchema, childPath, errors);
      }
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates an already-parsed config object; `source` names where it came from in error messages. */
export function validateSandboxConfig(value: unknown, source: string): SandboxConfig {
  const errors: string[] = [];
  check(value ?? {}, SCHEMA, '', errors);
  if (errors.length === 0 && isRecord(value) && value.faults !== undefined && value.faults !== null) {
    // Rates and their sum are checked beyond the schema's types.
    try {
      validateFaultRules(value.faults, 'faults');
    } catch (error) {
      errors.push((error as Error).message);
    }
  }
  if (errors.length > 0) {
    throw new Error(`Invalid sandbox config ${source}:\n  ${errors.join('\n  ')}`);
  }
  return (value ?? {}) as SandboxConfig;
}

export async function loadSandboxConfig(path: string): Promise<SandboxConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`Cannot read sandbox config ${path}: ${(error as Error).message}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new Error(`Cannot parse sandbox config ${path}: ${(error as Error).message}`, { cause: error });
  }
  return validateSandboxConfig(parsed, path);
}
