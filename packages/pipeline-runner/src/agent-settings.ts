/**
 * What the Azure DevOps organisation and the agent machine would provide to a run: the collection URL,
 * project, access token, service connections, variable groups and extra agent environment. Loaded from a
 * local YAML/JSON file, or built in-process (tests, `npm start`).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { KeylessError } from '@keyless/core';

export interface ServiceConnection {
  name: string;
  id: string /* GUID */;
  type: string /* e.g. KeylessAWS or AWS */;
  url?: string;
  scheme: string /* e.g. None, UsernamePassword */;
  parameters: Record<string, string>;
  data?: Record<string, string>;
}

export interface AgentSettings {
  /** System.CollectionUri, with trailing slash, e.g. http://127.0.0.1:4566/contoso/ — the sandbox serves the oidctoken route under it. */
  collectionUri: string;
  teamProject: string;
  teamProjectId: string;
  /** System.AccessToken (secret). */
  accessToken: string;
  serviceConnections: ServiceConnection[];
  variableGroups: Record<string, Record<string, string>>;
  /** Added to the agent process environment (e.g. AWS_ENDPOINT_URL, AZURE_POD_IDENTITY_AUTHORITY_HOST pointing at the sandbox). */
  environment: Record<string, string>;
  agentName?: string;
}

export class AgentSettingsError extends KeylessError {
  readonly code = 'AgentSettings';
}

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isGuid(value: string): boolean {
  return guidPattern.test(value);
}

/** Settings for a run without a file: a private collection that no task can mistake for a real one. */
export function defaultAgentSettings(): AgentSettings {
  return {
    collectionUri: 'http://127.0.0.1/local/',
    teamProject: 'local',
    teamProjectId: randomUUID(),
    accessToken: randomBytes(24).toString('base64url'),
    serviceConnections: [],
    variableGroups: {},
    environment: {},
  };
}

export async function loadAgentSettings(path: string): Promise<AgentSettings> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new AgentSettingsError(
      `The agent settings file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}).`,
      'pass the path of an existing YAML or JSON settings file.',
    );
  }
  return parseAgentSettings(text, path);
}

const topLevelKeys = [
  'collectionUri',
  'teamProject',
  'teamProjectId',
  'accessToken',
  'serviceConnections',
  'variableGroups',
  'environment',
  'agentName',
];
const connectionKeys = ['name', 'id', 'type', 'url', 'scheme', 'parameters', 'data'];

/** Parses YAML or JSON (JSON is YAML); every problem names the file and the key path. */
export function parseAgentSettings(text: string, file: string): AgentSettings {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new AgentSettingsError(
      `${file} is not valid YAML or JSON: ${(error as Error).message.split('\n')[0]?.replace(/:\s*$/, '.')}`,
      'fix the syntax of the agent settings file.',
    );
  }
  const reader = new Reader(file);
  const root = reader.object(raw ?? {}, '', topLevelKeys);
  const defaults = defaultAgentSettings();

  const collectionUri = reader.requiredString(root, 'collectionUri', '');
  let url: URL;
  try {
    url = new URL(collectionUri);
  } catch {
    throw reader.error(
      'collectionUri',
      `is not a URL: '${collectionUri}'`,
      'use e.g. http://127.0.0.1:4566/contoso/.',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw reader.error(
      'collectionUri',
      `must be an http(s) URL, got '${collectionUri}'`,
      'use an http(s) URL.',
    );
  }

  const teamProjectId = reader.requiredString(root, 'teamProjectId', '');
  if (!isGuid(teamProjectId)) {
    throw reader.error(
      'teamProjectId',
      `is not a GUID: '${teamProjectId}'`,
      'use a GUID such as 1b2c3d4e-….',
    );
  }

  const settings: AgentSettings = {
    collectionUri: collectionUri.endsWith('/') ? collectionUri : `${collectionUri}/`,
    teamProject: reader.requiredString(root, 'teamProject', ''),
    teamProjectId,
    accessToken: reader.optionalString(root, 'accessToken', '') ?? defaults.accessToken,
    serviceConnections: [],
    variableGroups: {},
    environment: reader.stringMap(root['environment'] ?? {}, 'environment'),
  };
  const agentName = reader.optionalString(root, 'agentName', '');
  if (agentName !== undefined) settings.agentName = agentName;

  const groups = reader.object(root['variableGroups'] ?? {}, 'variableGroups');
  for (const [name, value] of Object.entries(groups)) {
    settings.variableGroups[name] = reader.stringMap(value, `variableGroups.${name}`);
  }

  const connections = root['serviceConnections'] ?? [];
  if (!Array.isArray(connections)) {
    throw reader.error('serviceConnections', 'must be a list', 'write one `- name: …` entry per connection.');
  }
  const names = new Map<string, string>();
  const ids = new Map<string, string>();
  connections.forEach((item: unknown, index) => {
    const path = `serviceConnections[${index}]`;
    const entry = reader.object(item, path, connectionKeys);
    const connection: ServiceConnection = {
      name: reader.requiredString(entry, 'name', path),
      id: reader.requiredString(entry, 'id', path),
      type: reader.requiredString(entry, 'type', path),
      scheme: reader.requiredString(entry, 'scheme', path),
      parameters: reader.stringMap(entry['parameters'] ?? {}, `${path}.parameters`),
    };
    if (!isGuid(connection.id)) {
      throw reader.error(
        `${path}.id`,
        `is not a GUID: '${connection.id}'`,
        'service connection ids are GUIDs.',
      );
    }
    const urlValue = reader.optionalString(entry, 'url', path);
    if (urlValue !== undefined) connection.url = urlValue;
    if (entry['data'] !== undefined) connection.data = reader.stringMap(entry['data'], `${path}.data`);

    const nameKey = connection.name.toLowerCase();
    const idKey = connection.id.toLowerCase();
    if (names.has(nameKey)) {
      throw reader.error(
        `${path}.name`,
        `repeats the connection name '${connection.name}' (also ${names.get(nameKey)})`,
        'give every service connection a unique name.',
      );
    }
    if (ids.has(idKey)) {
      throw reader.error(
        `${path}.id`,
        `repeats the connection id ${connection.id} (also ${ids.get(idKey)})`,
        'give every service connection a unique GUID.',
      );
    }
    names.set(nameKey, path);
    ids.set(idKey, path);
    settings.serviceConnections.push(connection);
  });
  return settings;
}

class Reader {
  constructor(private readonly file: string) {}

  error(path: string, problem: string, fix: string): AgentSettingsError {
    return new AgentSettingsError(`${this.file}: ${path || 'the document'} ${problem}.`, fix);
  }

  object(value: unknown, path: string, allowed?: string[]): Record<string, unknown> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw this.error(path, 'must be a mapping', 'write it as `key: value` pairs.');
    }
    const record = value as Record<string, unknown>;
    if (allowed) {
      for (const key of Object.keys(record)) {
        if (!allowed.includes(key)) {
          throw this.error(join(path, key), 'is not a known setting', `use only: ${allowed.join(', ')}.`);
        }
      }
    }
    return record;
  }

  requiredString(record: Record<string, unknown>, key: string, path: string): string {
    const value = this.optionalString(record, key, path);
    if (value === undefined || value === '') {
      throw this.error(join(path, key), 'is required', `add \`${key}:\` to the settings file.`);
    }
    return value;
  }

  optionalString(record: Record<string, unknown>, key: string, path: string): string | undefined {
    const value = record[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    throw this.error(join(path, key), 'must be a string', 'quote the value.');
  }

  stringMap(value: unknown, path: string): Record<string, string> {
    const record = this.object(value, path);
    const out: Record<string, string> = {};
    for (const key of Object.keys(record)) {
      const text = this.optionalString(record, key, path);
      out[key] = text ?? '';
    }
    return out;
  }
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
