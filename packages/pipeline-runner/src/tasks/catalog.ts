/**
 * The tasks installed on the local "agent": task folders (each with a task.json) found under one or more
 * directories, resolved from a YAML `task:` reference the way the server does it.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { KeylessError } from '@keyless/core';

export interface TaskInputDefinition {
  name: string;
  type: string;
  defaultValue?: string;
  required?: boolean;
  aliases?: string[];
}

export interface TaskDefinition {
  id: string;
  name: string;
  friendlyName?: string;
  version: { Major: number; Minor: number; Patch: number };
  directory: string;
  inputs: TaskInputDefinition[];
  execution: Record<string, { target: string; workingDirectory?: string }>;
  outputVariables: Array<{ name: string }>;
  publisher?: string;
  extensionId?: string;
  contributionId?: string;
  /** The default display name; may hold `$(inputName)` macros. */
  instanceNameFormat?: string;
}

export class TaskNotFoundError extends KeylessError {
  readonly code = 'TaskNotFound';
}
export class AmbiguousTaskError extends KeylessError {
  readonly code = 'AmbiguousTask';
}
export class TaskReferenceError extends KeylessError {
  readonly code = 'TaskReference';
}
export class TaskDefinitionError extends KeylessError {
  readonly code = 'TaskDefinition';
}

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface TaskReference {
  /** The part before `@`: a name, a GUID or `<publisher>.<extension>.<contribution>.<name>`. */
  identifier: string;
  major: number;
}

/** Splits `Name@Major`; YAML requires the major version, so its absence is an error. */
export function parseTaskReference(reference: string): TaskReference {
  const text = reference.trim();
  const at = text.lastIndexOf('@');
  const identifier = at < 0 ? text : text.slice(0, at);
  const major = at < 0 ? '' : text.slice(at + 1);
  if (at < 0 || !/^\d+$/.test(major) || identifier === '') {
    throw new TaskReferenceError(
      `The task reference '${reference}' has no major version: YAML pipelines must write 'Name@Major'.`,
      `write e.g. '${identifier || 'TaskName'}@1'.`,
    );
  }
  return { identifier, major: Number(major) };
}

export class TaskCatalog {
  private constructor(
    private readonly tasks: TaskDefinition[],
    private readonly directories: string[],
  ) {}

  static async load(dirs: string[]): Promise<TaskCatalog> {
    const tasks: TaskDefinition[] = [];
    const directories = dirs.map((dir) => resolve(dir));
    for (const dir of directories) {
      for (const taskDir of await findTaskDirectories(dir)) tasks.push(await readTaskDefinition(taskDir));
    }
    return new TaskCatalog(tasks, directories);
  }

  list(): TaskDefinition[] {
    return [...this.tasks];
  }

  resolve(reference: string): TaskDefinition {
    const { identifier, major } = parseTaskReference(reference);
    const wanted = identifier.toLowerCase();
    const byIdentifier = this.tasks.filter((task) => {
      if (guidPattern.test(identifier)) return task.id.toLowerCase() === wanted;
      if (identifier.includes('.')) return qualifiedName(task)?.toLowerCase() === wanted;
      return task.name.toLowerCase() === wanted;
    });
    const candidates = byIdentifier.filter((task) => task.version.Major === major);
    if (candidates.length === 0) {
      const majors = [...new Set(byIdentifier.map((task) => task.version.Major))].sort((a, b) => a - b);
      if (majors.length > 0) {
        throw new TaskNotFoundError(
          `The task '${reference}' has no major version ${major} installed (installed: ${majors.map((m) => `@${m}`).join(', ')}).`,
          `reference one of the installed majors or add the task folder with major ${major}.`,
        );
      }
      const close = this.closeNames(identifier);
      throw new TaskNotFoundError(
        `The task '${reference}' is not in the task folders (${this.directories.join(', ') || 'none'}).` +
          (close.length > 0 ? ` Close names: ${close.join(', ')}.` : ''),
        'check the task name and major version, or add the folder that holds the task.',
      );
    }
    const ids = [...new Set(candidates.map((task) => task.id.toLowerCase()))];
    if (ids.length > 1) {
      const described = candidates.map((task) => qualifiedName(task) ?? `${task.id} (${task.directory})`);
      throw new AmbiguousTaskError(
        `The task '${reference}' matches ${ids.length} different tasks: ${[...new Set(described)].join(', ')}.`,
        'reference the task by its GUID (e.g. <id>@1) or by its fully-qualified name <publisher>.<extension>.<contribution>.<Name>@1.',
      );
    }
    return candidates.reduce((best, task) => (compareVersions(task, best) > 0 ? task : best));
  }

  private closeNames(identifier: string): string[] {
    const needle = identifier.toLowerCase().split('.').pop() ?? '';
    const names = new Set<string>();
    for (const task of this.tasks) {
      const name = task.name.toLowerCase();
      const close =
        name.includes(needle) ||
        needle.includes(name) ||
        editDistance(name, needle) <= Math.max(2, needle.length / 4);
      if (close) names.add(`${task.name}@${task.version.Major}`);
    }
    return [...names].sort();
  }
}

export function qualifiedName(task: TaskDefinition): string | undefined {
  if (!task.publisher || !task.extensionId || !task.contributionId) return undefined;
  return `${task.publisher}.${task.extensionId}.${task.contributionId}.${task.name}`;
}

function compareVersions(a: TaskDefinition, b: TaskDefinition): number {
  return a.version.Minor - b.version.Minor || a.version.Patch - b.version.Patch;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** A task folder holds task.json itself or, for multi-major tasks, in its direct subfolders (as tfx does). */
async function findTaskDirectories(dir: string): Promise<string[]> {
  if (await isFile(join(dir, 'task.json'))) return [dir];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new TaskDefinitionError(
      `The task folder ${dir} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}).`,
      'pass a directory that holds task folders (each with a task.json).',
    );
  }
  const found: string[] = [];
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const taskDir = join(dir, entry.name);
    if (await isFile(join(taskDir, 'task.json'))) {
      found.push(taskDir);
      continue;
    }
    const children = await readdir(taskDir, { withFileTypes: true }).catch(() => []);
    for (const child of children.filter((e) => e.isDirectory())) {
      if (await isFile(join(taskDir, child.name, 'task.json'))) found.push(join(taskDir, child.name));
    }
  }
  return found;
}

async function readJson(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  try {
    // task.json files written on Windows often carry a BOM.
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new TaskDefinitionError(
      `${file} is not valid JSON: ${(error as Error).message}`,
      'fix the task.json syntax or rebuild the task.',
    );
  }
}

function versionPart(value: unknown): number | undefined {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof number === 'number' && Number.isInteger(number) && number >= 0 ? number : undefined;
}

async function readTaskDefinition(directory: string): Promise<TaskDefinition> {
  const file = join(directory, 'task.json');
  const json = (await readJson(file)) as Record<string, unknown>;
  const bad = (what: string) =>
    new TaskDefinitionError(
      `${file}: ${what}.`,
      'fix the task.json (see tasks.schema.json) or rebuild the task.',
    );
  if (typeof json !== 'object' || json === null) throw bad('is not a JSON object');
  const { id, name } = json;
  if (typeof id !== 'string' || !guidPattern.test(id)) throw bad('`id` must be a GUID');
  if (typeof name !== 'string' || !/^[A-Za-z0-9-]+$/.test(name))
    throw bad('`name` must match ^[A-Za-z0-9-]+$');
  const version = (json.version ?? {}) as Record<string, unknown>;
  const [major, minor, patch] = [
    versionPart(version.Major),
    versionPart(version.Minor),
    versionPart(version.Patch),
  ];
  if (major === undefined || minor === undefined || patch === undefined) {
    throw bad('`version` must be {Major, Minor, Patch} with whole numbers');
  }
  const inputs = Array.isArray(json.inputs) ? (json.inputs as Array<Record<string, unknown>>) : [];
  const execution = (json.execution ?? {}) as Record<
    string,
    { target?: unknown; workingDirectory?: unknown }
  >;
  const definition: TaskDefinition = {
    id,
    name,
    version: { Major: major, Minor: minor, Patch: patch },
    directory,
    inputs: inputs.map((input, index) => {
      if (typeof input.name !== 'string' || input.name === '') throw bad(`inputs[${index}] has no name`);
      const out: TaskInputDefinition = {
        name: input.name,
        type: typeof input.type === 'string' ? input.type : 'string',
      };
      if (input.defaultValue !== undefined && input.defaultValue !== null)
        out.defaultValue = String(input.defaultValue);
      if (input.required !== undefined) out.required = input.required === true || input.required === 'true';
      if (Array.isArray(input.aliases)) out.aliases = input.aliases.map(String);
      return out;
    }),
    execution: Object.fromEntries(
      Object.entries(execution)
        .filter(([, handler]) => handler && typeof handler.target === 'string')
        .map(([key, handler]) => {
          const value: { target: string; workingDirectory?: string } = { target: String(handler.target) };
          if (typeof handler.workingDirectory === 'string') value.workingDirectory = handler.workingDirectory;
          return [key, value];
        }),
    ),
    outputVariables: Array.isArray(json.outputVariables)
      ? (json.outputVariables as Array<{ name?: unknown }>)
          .filter((v) => typeof v.name === 'string')
          .map((v) => ({ name: String(v.name) }))
      : [],
  };
  if (typeof json.friendlyName === 'string') definition.friendlyName = json.friendlyName;
  if (typeof json.instanceNameFormat === 'string') definition.instanceNameFormat = json.instanceNameFormat;
  Object.assign(definition, await findExtension(directory));
  return definition;
}

/**
 * The fully-qualified name needs the publisher and extension id of the vss-extension.json that ships the
 * task, and the id of the contribution whose `properties.name` is the task folder (or its multi-major parent).
 */
async function findExtension(
  taskDir: string,
): Promise<Pick<TaskDefinition, 'publisher' | 'extensionId' | 'contributionId'>> {
  let dir = dirname(taskDir);
  for (let level = 0; level < 4; level++) {
    const manifestFile = join(dir, 'vss-extension.json');
    if (await isFile(manifestFile)) {
      const manifest = (await readJson(manifestFile)) as {
        publisher?: unknown;
        id?: unknown;
        contributions?: Array<{ id?: unknown; type?: unknown; properties?: { name?: unknown } }>;
      };
      const folders = [resolve(taskDir), resolve(dirname(taskDir))];
      const contribution = (manifest.contributions ?? []).find(
        (c) =>
          c.type === 'ms.vss-distributed-task.task' &&
          typeof c.properties?.name === 'string' &&
          folders.includes(resolve(dir, c.properties.name)),
      );
      const found: Pick<TaskDefinition, 'publisher' | 'extensionId' | 'contributionId'> = {};
      if (typeof manifest.publisher === 'string') found.publisher = manifest.publisher;
      if (typeof manifest.id === 'string') found.extensionId = manifest.id;
      if (contribution && typeof contribution.id === 'string') found.contributionId = contribution.id;
      return found;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return {};
}
