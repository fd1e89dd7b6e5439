/**
 * A step's final inputs, built the way the agent's TaskRunner does: declared defaults, step inputs on top
 * (aliases mapped to names), trimmed, one `$(var)` pass against job variables, one against the agent's own
 * environment, then `filePath` inputs rooted against the sources directory. Service connections named in
 * `connectedService:*` inputs are mapped to their GUIDs, as the server does when it queues the run.
 */
import { isAbsolute, resolve } from 'node:path';
import { KeylessError } from '@keyless/core';
import { expandMacros } from '../variables';
import type { ServiceConnection } from '../agent-settings';
import type { TaskDefinition } from './catalog';

export class ServiceConnectionNotFoundError extends KeylessError {
  readonly code = 'ServiceConnectionNotFound';
}

export interface InputContext {
  /** Job variable lookup (case-insensitive, secrets included: `$(secret)` expands into an input). */
  variable(name: string): string | undefined;
  /** The agent's own process environment, for the second macro pass. */
  agentEnv: NodeJS.ProcessEnv;
  /** Build.SourcesDirectory. */
  sourcesDirectory: string;
  serviceConnections: ServiceConnection[];
  /** Where the service connections came from, for error messages. */
  settingsSource?: string;
}

export interface BuiltInputs {
  /** Keyed by the declared input name (or as written, for inputs the task does not declare). */
  inputs: Record<string, string>;
  /** The connections named by `connectedService:*` inputs, in input order, each once. */
  endpoints: ServiceConnection[];
  warnings: string[];
}

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function buildInputs(
  task: TaskDefinition,
  stepInputs: Record<string, string>,
  context: InputContext,
): BuiltInputs {
  const warnings: string[] = [];
  // Input names are case-insensitive in the agent; the declared spelling is the one that is kept.
  const canonical = new Map<string, string>();
  for (const input of task.inputs) canonical.set(input.name.toLowerCase(), input.name);
  for (const input of task.inputs) {
    for (const alias of input.aliases ?? []) {
      if (!canonical.has(alias.toLowerCase())) canonical.set(alias.toLowerCase(), input.name);
    }
  }

  const values = new Map<string, { name: string; value: string }>();
  for (const input of task.inputs) {
    values.set(input.name.toLowerCase(), { name: input.name, value: (input.defaultValue ?? '').trim() });
  }
  for (const [written, value] of Object.entries(stepInputs)) {
    const key = written.trim();
    if (key === '') continue;
    const name = canonical.get(key.toLowerCase());
    if (name === undefined) {
      warnings.push(
        `Input '${key}' is not declared by task ${task.name}@${task.version.Major}; it is passed anyway.`,
      );
    }
    const finalName = name ?? key;
    values.set(finalName.toLowerCase(), { name: finalName, value: (value ?? '').trim() });
  }

  const inputs: Record<string, string> = {};
  for (const { name, value } of values.values()) {
    const fromVariables = expandMacros(value, (macro) => context.variable(macro));
    inputs[name] = expandMacros(fromVariables, (macro) => context.agentEnv[macro]);
  }

  for (const input of task.inputs) {
    if (input.type.toLowerCase() !== 'filepath') continue;
    inputs[input.name] = rootPath(inputs[input.name] ?? '', context.sourcesDirectory);
  }

  const endpoints: ServiceConnection[] = [];
  for (const input of task.inputs) {
    if (!input.type.toLowerCase().startsWith('connectedservice:')) continue;
    const value = inputs[input.name] ?? '';
    if (value === '') continue;
    const expectedType = input.type.slice('connectedService:'.length);
    const ids: string[] = [];
    for (const part of value.split(',').map((p) => p.trim())) {
      if (part === '') continue;
      const connection = findConnection(part, context.serviceConnections);
      if (!connection) {
        const known = context.serviceConnections.map((c) => c.name);
        throw new ServiceConnectionNotFoundError(
          `Input '${input.name}' of task ${task.name}@${task.version.Major} references the service connection '${part}', which is not defined in ${context.settingsSource ?? 'the agent settings'}.`,
          known.length > 0
            ? `use one of: ${known.join(', ')}, or add '${part}' under serviceConnections.`
            : `add a connection named '${part}' under serviceConnections in the agent settings file.`,
        );
      }
      if (expectedType && !typeMatches(expectedType, connection.type)) {
        warnings.push(
          `Input '${input.name}' expects a connection of type ${expectedType}, but '${connection.name}' is of type ${connection.type}.`,
        );
      }
      ids.push(connection.id.toLowerCase());
      if (!endpoints.some((e) => e.id.toLowerCase() === connection.id.toLowerCase()))
        endpoints.push(connection);
    }
    inputs[input.name] = ids.join(',');
  }
  return { inputs, endpoints, warnings };
}

/** Absolute paths are normalised; relative and empty ones are joined to the sources directory. */
export function rootPath(value: string, sourcesDirectory: string): string {
  if (isAbsolute(value)) return resolve(value);
  if (!sourcesDirectory) return value;
  return resolve(sourcesDirectory, value);
}

function findConnection(reference: string, connections: ServiceConnection[]): ServiceConnection | undefined {
  const wanted = reference.toLowerCase();
  if (guidPattern.test(reference)) return connections.find((c) => c.id.toLowerCase() === wanted);
  return connections.find((c) => c.name.toLowerCase() === wanted);
}

function typeMatches(expected: string, actual: string): boolean {
  // A declared type may carry a scheme filter after a colon (connectedService:AzureRM:ServicePrincipal).
  return expected.split(':')[0]!.toLowerCase() === actual.toLowerCase();
}
