/**
 * The environment of a task process, layered exactly as the agent's Handler/NodeHandler does (later layers
 * overwrite earlier ones): agent process env → step `env:` → public variables → secrets (`SECRET_*`) →
 * inputs (`INPUT_*`) → endpoints (`ENDPOINT_*`, incl. SystemVssConnection) → PATH prepends → `TF_BUILD`.
 * Native scripts get what is left after task-lib has loaded that environment into its vault.
 */
import { envName, expandMacros } from '../variables';
import type { VariableValue } from '../variables';
import type { ServiceConnection } from '../agent-settings';
import type { Masker } from '../logging/masker';

export interface EnvironmentContext {
  agentEnv: NodeJS.ProcessEnv;
  /** The step's `env:` as written (trimmed and macro-expanded here). */
  stepEnv: Record<string, string>;
  variables: VariableValue[];
  inputs: Record<string, string>;
  endpoints: ServiceConnection[];
  collectionUri: string;
  accessToken: string;
  /** Newest first. */
  pathPrepends: string[];
}

export interface TaskEnvironment {
  env: Record<string, string>;
  /** The keys the runner set (everything but the inherited agent environment). */
  runnerKeys: Set<string>;
}

const systemVssConnection = 'SYSTEMVSSCONNECTION';

/**
 * Authorization parameters the agent does not mask (MaskingUtil.IsEndpointAuthorizationParametersSecret);
 * every other non-empty parameter is a secret, so an AWS `assumeRoleArn` is masked too.
 */
const nonSecretAuthParameters = new Set(
  [
    'IdToken',
    'Role',
    'Scope',
    'TenantId',
    'issuedAt',
    'expiresAt',
    'Audience',
    'AuthenticationType',
    'authorizationType',
    'AccessTokenType',
    'AccessTokenFetchingMethod',
    'UseWindowsSecurity',
    'Unsecured',
    'oAuthAccessTokenIsSupplied',
    'CompleteCallbackPayload',
    'AcceptUntrustedCertificates',
  ].map((key) => key.toLowerCase()),
);

export function isSecretAuthParameter(key: string): boolean {
  return !nonSecretAuthParameters.has(key.toLowerCase());
}

/** Registers what the agent masks for a step: secret variables, secret endpoint parameters, the access token. */
export function registerStepSecrets(
  masker: Masker,
  variables: VariableValue[],
  endpoints: ServiceConnection[],
  accessToken: string,
): void {
  for (const variable of variables) if (variable.secret && variable.value) masker.add(variable.value);
  for (const endpoint of endpoints) {
    for (const [key, value] of Object.entries(endpoint.parameters)) {
      if (value && isSecretAuthParameter(key)) masker.add(value);
    }
  }
  if (accessToken) masker.add(accessToken);
}

/** The step `env:` block: keys and values trimmed, values expanded against job variables then the agent env. */
export function expandStepEnv(
  stepEnv: Record<string, string>,
  variable: (name: string) => string | undefined,
  agentEnv: NodeJS.ProcessEnv,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [rawKey, rawValue] of Object.entries(stepEnv)) {
    const key = rawKey.trim();
    if (key === '') continue;
    const once = expandMacros((rawValue ?? '').trim(), variable);
    out[key] = expandMacros(once, (name) => agentEnv[name]);
  }
  return out;
}

export function buildTaskEnvironment(context: EnvironmentContext): TaskEnvironment {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(context.agentEnv)) if (value !== undefined) env[key] = value;
  const runnerKeys = new Set<string>();
  const set = (key: string, value: string) => {
    env[key] = value;
    runnerKeys.add(key);
  };
  const lookup = variableLookup(context.variables);

  for (const [key, value] of Object.entries(expandStepEnv(context.stepEnv, lookup, context.agentEnv))) {
    set(key, value);
  }

  const publicNames: string[] = [];
  const secretNames: string[] = [];
  for (const variable of context.variables) {
    if (variable.secret) continue;
    set(envName(variable.name), variable.value);
    // The agent also exports the job status under its raw lower-case name.
    if (variable.name.toLowerCase() === 'agent.jobstatus') set('agent.jobstatus', variable.value);
    publicNames.push(variable.name);
  }
  set('VSTS_PUBLIC_VARIABLES', JSON.stringify(publicNames));
  for (const variable of context.variables) {
    if (!variable.secret) continue;
    set(`SECRET_${envName(variable.name)}`, variable.value);
    secretNames.push(variable.name);
  }
  set('VSTS_SECRET_VARIABLES', JSON.stringify(secretNames));

  for (const [name, value] of Object.entries(context.inputs)) set(`INPUT_${envName(name)}`, value);

  for (const endpoint of context.endpoints) {
    const id = endpoint.id.toLowerCase();
    addEndpoint(set, id, endpoint.url ?? '', endpoint.scheme, endpoint.parameters);
    // Only GUID endpoints carry data (SystemVssConnection has none).
    const data = endpoint.data ?? {};
    set(`ENDPOINT_DATA_${id}`, JSON.stringify(data));
    for (const [key, value] of Object.entries(data)) set(`ENDPOINT_DATA_${id}_${envName(key)}`, value);
  }
  addEndpoint(set, systemVssConnection, context.collectionUri, 'OAuth', { AccessToken: context.accessToken });

  if (context.pathPrepends.length > 0) {
    const original = lookup('PATH') ?? env['PATH'] ?? process.env['PATH'] ?? '';
    const prepend = context.pathPrepends.join(':');
    set('PATH', original ? `${prepend}:${original}` : prepend);
  }
  set('TF_BUILD', 'True');
  return { env, runnerKeys };
}

/**
 * What a native script (Bash@3/CmdLine@2) sees: the environment its task-lib host process would keep after
 * moving inputs, secrets, endpoint authorizations and variable metadata into its vault.
 */
export function buildScriptEnvironment(context: EnvironmentContext): TaskEnvironment {
  const { env, runnerKeys } = buildTaskEnvironment(context);
  for (const key of Object.keys(env)) {
    const vaulted =
      /^(INPUT_|ENDPOINT_AUTH_|SECUREFILE_TICKET_|SECRET_|VSTS_TASKVARIABLE_)/.test(key) && env[key] !== '';
    if (
      vaulted ||
      key === 'VSTS_PUBLIC_VARIABLES' ||
      key === 'VSTS_SECRET_VARIABLES' ||
      key === 'COMMAND_CORRELATION_ID'
    ) {
      delete env[key];
      runnerKeys.delete(key);
    }
  }
  return { env, runnerKeys };
}

/**
 * The environment as recorded: only what the runner set, every value masked, and every value that holds a
 * secret by construction (`SECRET_*`, secret endpoint parameters, inputs carrying a secret) shown as `***`.
 */
export function redactEnvironment(environment: TaskEnvironment, masker: Masker): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of [...environment.runnerKeys].sort()) {
    const value = environment.env[key] ?? '';
    const masked = masker.mask(value);
    if (key.startsWith('SECRET_')) out[key] = '***';
    else if (key.startsWith('ENDPOINT_AUTH_PARAMETER_')) out[key] = masked === value ? value : '***';
    else if (/^ENDPOINT_AUTH_/.test(key) && !key.startsWith('ENDPOINT_AUTH_SCHEME_'))
      out[key] = redactAuthJson(value);
    else if (key.startsWith('INPUT_') && masked !== value) out[key] = '***';
    else out[key] = masked;
  }
  return out;
}

function redactAuthJson(value: string): string {
  try {
    const auth = JSON.parse(value) as { parameters?: Record<string, string>; scheme?: string };
    const parameters: Record<string, string> = {};
    for (const [key, parameter] of Object.entries(auth.parameters ?? {})) {
      parameters[key] = parameter && isSecretAuthParameter(key) ? '***' : parameter;
    }
    return JSON.stringify({ parameters, scheme: auth.scheme });
  } catch {
    return '***';
  }
}

function addEndpoint(
  set: (key: string, value: string) => void,
  id: string,
  url: string,
  scheme: string,
  parameters: Record<string, string>,
): void {
  set(`ENDPOINT_URL_${id}`, url);
  set(`ENDPOINT_AUTH_${id}`, JSON.stringify({ parameters, scheme }));
  set(`ENDPOINT_AUTH_SCHEME_${id}`, scheme);
  for (const [key, value] of Object.entries(parameters)) {
    set(`ENDPOINT_AUTH_PARAMETER_${id}_${envName(key)}`, value);
  }
}

/** Case-insensitive lookup over variable entries (secrets included, as macro expansion sees them). */
export function variableLookup(variables: VariableValue[]): (name: string) => string | undefined {
  const byName = new Map(variables.map((v) => [v.name.toLowerCase(), v.value]));
  return (name) => byName.get(name.toLowerCase());
}
