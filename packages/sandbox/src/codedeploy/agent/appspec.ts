import { LineCounter, isMap, isScalar, parseDocument } from 'yaml';
import type { Document, Node } from 'yaml';
import type { AgentDeployment, LifecycleEventName } from './types';

/**
 * The appspec.yml rules of the CodeDeploy agent for EC2/on-premises (Linux), as in aws-codedeploy-agent
 * lib/instance_agent/plugins/codedeploy/application_specification/*.rb. Messages are the agent's own text,
 * followed by where in the file the problem is when we can tell.
 */

export type FileExistsBehavior = AgentDeployment['fileExistsBehavior'];

/** Events an appspec may attach scripts to; the others are the agent's or the service's own work. */
export const SCRIPTABLE_EVENTS = [
  'ApplicationStop',
  'BeforeInstall',
  'AfterInstall',
  'ApplicationStart',
  'ValidateService',
  'BeforeBlockTraffic',
  'AfterBlockTraffic',
  'BeforeAllowTraffic',
  'AfterAllowTraffic',
] as const satisfies readonly LifecycleEventName[];

export type ScriptableEventName = (typeof SCRIPTABLE_EVENTS)[number];

/** script_info.rb: the default, and CodeDeploy's cap on one lifecycle event (one hour). */
export const DEFAULT_SCRIPT_TIMEOUT_SECONDS = 3600;
export const MAX_SCRIPT_TIMEOUT_SECONDS = 3600;

export interface AppSpecScript {
  /** Relative to the revision root (a leading "/" still means the revision root, as File.join does). */
  location: string;
  /** Simulated seconds. */
  timeout: number;
  runas?: string;
}

export interface AppSpecFile {
  source: string;
  destination: string;
}

export interface AppSpecPermission {
  object: string;
  /** "**" (everything under object) or a glob matched against names. */
  pattern: string;
  except: string[];
  type: Array<'file' | 'directory'>;
  owner?: string;
  group?: string;
  /** Permission bits, e.g. 0o755. */
  mode?: number;
}

export interface AppSpec {
  version: number;
  os: 'linux';
  files: AppSpecFile[];
  permissions: AppSpecPermission[];
  hooks: Partial<Record<ScriptableEventName, AppSpecScript[]>>;
  /** Overrides the deployment's fileExistsBehavior when present. */
  fileExistsBehavior?: FileExistsBehavior;
}

export class AppSpecError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
    this.name = 'AppSpecError';
  }
}

const FILE_EXISTS_BEHAVIORS: readonly FileExistsBehavior[] = ['DISALLOW', 'OVERWRITE', 'RETAIN'];

type Path = Array<string | number>;

export function parseAppSpec(text: string, sourceName = 'appspec.yml'): AppSpec {
  const lineCounter = new LineCounter();
  // The agent parses with Ruby's Psych, a YAML 1.1 parser: `0644` is octal and `yes` is a boolean there too.
  const doc = parseDocument(text, { version: '1.1', lineCounter, prettyErrors: false, uniqueKeys: false });
  const fail = (message: string, path?: Path): never => {
    const line = path ? lineOf(doc, lineCounter, path) : undefined;
    throw new AppSpecError(line === undefined ? message : `${message} (${sourceName}, line ${line})`, line);
  };

  const syntaxError = doc.errors[0];
  if (syntaxError) {
    const line = syntaxError.linePos?.[0].line;
    throw new AppSpecError(
      `The deployment failed because the application specification file ${sourceName} is not valid YAML: ` +
        `${syntaxError.message.split('\n')[0]}${line === undefined ? '' : ` (line ${line})`}`,
      line,
    );
  }

  const root: unknown = doc.toJS({ maxAliasCount: 100 });
  if (root === null || root === undefined || root === false) {
    // application_specification.rb: `unless yaml_hash`.
    fail(
      "The deployment failed because the application specification file was empty. Make sure your AppSpec file defines at minimum the 'version' and 'os' properties.",
    );
  }
  if (!isRecord(root))
    return fail(`The application specification file ${sourceName} must be a YAML mapping.`);

  // parse_version: compared with the float 0.0, so a quoted "0.0" is a string and fails.
  const version = root['version'];
  if (typeof version !== 'number' || version !== 0) {
    fail(
      `The deployment failed because an invalid version value (${rubyToS(version)}) was entered in the application specification file. Make sure your AppSpec file specifies "0.0" as the version, and then try again.`,
      ['version'],
    );
  }

  const os = root['os'];
  if (os !== 'linux') {
    const message = `The deployment failed because the application specification file specifies an unsupported operating system (${rubyToS(os)}). Specify either "linux" or "windows" in the os section of the AppSpec file, and then try again.`;
    // The Linux agent's supported_oses is ['linux']; say why a valid-looking "windows" is refused here.
    fail(
      os === 'windows'
        ? `${message} This instance runs the Linux agent; Windows instances are not emulated by the sandbox.`
        : message,
      ['os'],
    );
  }

  const spec: AppSpec = {
    version: 0,
    os: 'linux',
    files: parseFiles(root['files'], fail),
    permissions: [],
    hooks: parseHooks(root['hooks'], fail, doc, lineCounter, sourceName),
  };
  spec.permissions = parsePermissions(root['permissions'], fail);

  const fileExistsBehavior = root['file_exists_behavior'];
  if (fileExistsBehavior !== undefined && fileExistsBehavior !== null) {
    if (!FILE_EXISTS_BEHAVIORS.includes(fileExistsBehavior as FileExistsBehavior)) {
      fail(
        `The deployment failed because an invalid option was specified for fileExistsBehavior: ${rubyToS(fileExistsBehavior)}. Valid options include OVERWRITE, RETAIN, and DISALLOW.`,
        ['file_exists_behavior'],
      );
    }
    spec.fileExistsBehavior = fileExistsBehavior as FileExistsBehavior;
  }
  return spec;
}

type Fail = (message: string, path?: Path) => never;

function parseFiles(value: unknown, fail: Fail): AppSpecFile[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return fail('The files section of the AppSpec file must be a list.', ['files']);
  return value.map((mapping: unknown, index) => {
    if (!isRecord(mapping))
      return fail('Each entry of the files section must be a mapping.', ['files', index]);
    const source = mapping['source'];
    const destination = mapping['destination'];
    // file_info.rb
    if (source === undefined || source === null) {
      fail(
        'The deployment failed because the application specification file specifies a destination file, but no source file. Update the files section of the AppSpec file, and then try again.',
        ['files', index],
      );
    }
    if (destination === undefined || destination === null) {
      fail(
        `The deployment failed because the application specification file specifies only a source file (${rubyToS(source)}). Add the name of the destination file to the files section of the AppSpec file, and then try again.`,
        ['files', index],
      );
    }
    return { source: String(source), destination: String(destination) };
  });
}

function parseHooks(
  value: unknown,
  fail: Fail,
  doc: Document,
  lineCounter: LineCounter,
  sourceName: string,
): AppSpec['hooks'] {
  const hooks: AppSpec['hooks'] = {};
  if (value === undefined || value === null) return hooks;
  if (!isRecord(value)) return fail('The hooks section of the AppSpec file must be a mapping.', ['hooks']);
  for (const [event, scripts] of Object.entries(value)) {
    if (!(SCRIPTABLE_EVENTS as readonly string[]).includes(event)) {
      // The Ruby agent keeps unknown keys and never runs them; CodeDeploy's appspec validation (and
      // `aws deploy push`) rejects them, and so do we, so a typo never silently skips a script.
      const line = keyLine(doc, lineCounter, ['hooks'], event);
      throw new AppSpecError(
        `The deployment failed because the application specification file specifies an unknown lifecycle event (${event}) in the hooks section. Valid events are ${SCRIPTABLE_EVENTS.join(', ')}. Update the hooks section of the AppSpec file, and then try again.` +
          (line === undefined ? '' : ` (${sourceName}, line ${line})`),
        line,
      );
    }
    if (!Array.isArray(scripts)) {
      fail(`The hooks section lists ${event} without a list of scripts.`, ['hooks', event]);
    }
    hooks[event as ScriptableEventName] = (scripts as unknown[]).map((script, index) =>
      parseScript(script, fail, ['hooks', event, index]),
    );
  }
  return hooks;
}

function parseScript(script: unknown, fail: Fail, path: Path): AppSpecScript {
  if (!isRecord(script) || script['location'] === undefined || script['location'] === null) {
    return fail(
      'The deployment failed because the application specification file specifies a script with no location value. Specify the location in the hooks section of the AppSpec file, and then try again.',
      path,
    );
  }
  const location = rubyToS(script['location']).trim();
  if (location === '') fail('Scripts need a location value', path);
  // script_info.rb: `(timeout || 3600).to_i`, which must be > 0.
  const rawTimeout = script['timeout'];
  const timeout =
    rawTimeout === undefined || rawTimeout === null ? DEFAULT_SCRIPT_TIMEOUT_SECONDS : rubyToI(rawTimeout);
  if (timeout <= 0) fail('Timeout needs to be an integer greater than 0', [...path, 'timeout']);
  if (timeout > MAX_SCRIPT_TIMEOUT_SECONDS) {
    fail(
      `The deployment failed because the script ${location} has a timeout of ${timeout} seconds; a lifecycle event can last at most ${MAX_SCRIPT_TIMEOUT_SECONDS} seconds. Lower the timeout in the hooks section of the AppSpec file, and then try again.`,
      [...path, 'timeout'],
    );
  }
  const runas = script['runas'];
  return runas === undefined || runas === null
    ? { location, timeout }
    : { location, timeout, runas: rubyToS(runas).trim() };
}

function parsePermissions(value: unknown, fail: Fail): AppSpecPermission[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value))
    return fail('The permissions section of the AppSpec file must be a list.', ['permissions']);
  return value.map((permission: unknown, index) => {
    const path: Path = ['permissions', index];
    if (!isRecord(permission) || permission['object'] === undefined || permission['object'] === null) {
      return fail(
        'The deployment failed because a permission listed in the application specification file has no object value. Update the permissions section of the AppSpec file, and then try again.',
        path,
      );
    }
    const rawPattern = permission['pattern'];
    const parsed: AppSpecPermission = {
      object: rubyToS(permission['object']).trim(),
      pattern: rawPattern === undefined || rawPattern === null ? '**' : rubyToS(rawPattern),
      except: listOfStrings(permission['except']),
      type: parseTypes(permission['type'], fail, [...path, 'type']),
    };
    if (permission['owner'] !== undefined && permission['owner'] !== null)
      parsed.owner = rubyToS(permission['owner']);
    if (permission['group'] !== undefined && permission['group'] !== null)
      parsed.group = rubyToS(permission['group']);
    if (permission['mode'] !== undefined && permission['mode'] !== null)
      parsed.mode = parseMode(permission['mode'], fail, [...path, 'mode']);
    return parsed;
  });
}

function parseTypes(value: unknown, fail: Fail, path: Path): Array<'file' | 'directory'> {
  if (value === undefined || value === null) return ['file', 'directory'];
  const types = Array.isArray(value) ? value : [value];
  return types.map((type: unknown) => {
    if (type !== 'file' && type !== 'directory') {
      return fail(
        `The deployment failed because the application specification filespecifies a permission for an object type not supported for permissions (${rubyToS(type)}). Update the permissions section of the AppSpec file, and then try again.`,
        path,
      );
    }
    return type;
  });
}

/** mode_info.rb: the value's decimal text read as up to four octal digits (so YAML 1.1's 0644 = 420 → "420"). */
function parseMode(value: unknown, fail: Fail, path: Path): number {
  const text = rubyToS(value).padStart(3, '0');
  if (text.length > 4) {
    fail(
      `The deployment failed because the length of a permissions mode (${text}) in the application specification file is invalid. Permissions modes must be between one and four characters long. Update the permissions section of the AppSpec file, and then try again.`,
      path,
    );
  }
  const invalid = [...text].find((c) => c < '0' || c > '7');
  if (invalid !== undefined) {
    fail(
      `The deployment failed because the permissions mode (${text}) in the application specification file contains an invalid character (${invalid}). Update the permissions section of the AppSpec file, and then try again.`,
      path,
    );
  }
  return parseInt(text, 8);
}

function listOfStrings(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map((item: unknown) => rubyToS(item));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** How Ruby interpolates a YAML value into a message (`0.0` stays "0.0", nil is empty). */
function rubyToS(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** Ruby's to_i: leading integer digits of a string, truncation of a float, 0 otherwise. */
function rubyToI(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : 0;
  if (typeof value === 'string') {
    const match = /^\s*([+-]?\d+)/.exec(value);
    return match?.[1] ? parseInt(match[1], 10) : 0;
  }
  return 0;
}

function lineOf(doc: Document, lineCounter: LineCounter, path: Path): number | undefined {
  for (let depth = path.length; depth > 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true) as Node | undefined;
    const offset = node && typeof node === 'object' && 'range' in node ? node.range?.[0] : undefined;
    if (offset !== undefined) return lineCounter.linePos(offset).line;
    if (depth === path.length && depth > 1) {
      const key = path[depth - 1];
      if (typeof key === 'string') {
        const line = keyLine(doc, lineCounter, path.slice(0, depth - 1), key);
        if (line !== undefined) return line;
      }
    }
  }
  return undefined;
}

function keyLine(doc: Document, lineCounter: LineCounter, mapPath: Path, key: string): number | undefined {
  const map = mapPath.length === 0 ? doc.contents : doc.getIn(mapPath, true);
  if (!isMap(map)) return undefined;
  for (const pair of map.items) {
    if (isScalar(pair.key) && String(pair.key.value) === key && pair.key.range) {
      return lineCounter.linePos(pair.key.range[0]).line;
    }
  }
  return undefined;
}
