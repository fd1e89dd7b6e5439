import { readdir, readFile, stat } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';
import YAML, { LineCounter, type Node as YamlNode, type Pair, type YAMLMap } from 'yaml';
import { AppSpecInvalidError, type AppSpecProblem } from './errors';

/**
 * The appspec as the EC2/on-premises CodeDeploy agent reads it, checked BEFORE anything is zipped or uploaded:
 * every mistake here would otherwise surface minutes later as a failed lifecycle event on each instance.
 * Written from the agent's documented behaviour; it deliberately shares no code with the sandbox's agent.
 */

/** Hooks a script may be attached to on EC2/on-premises, in lifecycle order. */
export const scriptableEvents = [
  'ApplicationStop',
  'BeforeInstall',
  'AfterInstall',
  'ApplicationStart',
  'ValidateService',
  'BeforeBlockTraffic',
  'AfterBlockTraffic',
  'BeforeAllowTraffic',
  'AfterAllowTraffic',
] as const;

/** Lifecycle events the agent or the service performs itself; a script cannot be attached. */
const reservedEvents = new Set(['Start', 'DownloadBundle', 'Install', 'BlockTraffic', 'AllowTraffic', 'End']);
const maxHookTimeoutSeconds = 3600;
export const appSpecNames = ['appspec.yml', 'appspec.yaml'] as const;

export interface AppSpecHook {
  location: string;
  timeoutSeconds?: number;
  runas?: string;
}

export interface AppSpec {
  os: 'linux' | 'windows';
  files: Array<{ source: string; destination: string }>;
  hooks: Record<string, AppSpecHook[]>;
  fileExistsBehavior?: 'DISALLOW' | 'OVERWRITE' | 'RETAIN';
}

/** What the bundle will contain, as the agent will see it after unpacking (paths '/'-separated, relative). */
export interface BundleFiles {
  kind(path: string): Promise<'file' | 'directory' | undefined>;
  /** Files under a directory, recursively, relative to it. */
  filesUnder(path: string): Promise<string[]>;
}

export interface AppSpecCheck {
  /** e.g. "appspec.yml", relative to the workspace. */
  file: string;
  spec?: AppSpec;
  problems: AppSpecProblem[];
  /** Harmless surprises (a script that is not executable: the agent chmods it). */
  warnings: string[];
}

/**
 * Checks appspec text against the agent's rules and the bundle's contents. Every problem carries the line
 * and column of the offending key or value.
 */
export async function checkAppSpecText(
  text: string,
  file: string,
  bundle: BundleFiles,
): Promise<AppSpecCheck> {
  const lineCounter = new LineCounter();
  const document = YAML.parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: AppSpecProblem[] = [];
  const warnings: string[] = [];
  const at = (node: YamlNode | null | undefined, message: string) => {
    const offset = node?.range?.[0] ?? 0;
    const { line, col } = lineCounter.linePos(offset);
    problems.push({ line, column: col, message });
  };
  for (const error of document.errors) {
    const position = lineCounter.linePos(error.pos[0]);
    problems.push({
      line: position.line,
      column: position.col,
      message: `not valid YAML: ${error.message.split('\n')[0]}`,
    });
  }
  if (problems.length) return { file, problems, warnings };
  const root = document.contents;
  if (!YAML.isMap(root)) {
    at(root, 'the appspec must be a YAML mapping with version, os, files and hooks');
    return { file, problems, warnings };
  }

  const entry = (map: YAMLMap, key: string): Pair<YamlNode, YamlNode | null> | undefined =>
    map.items.find((item) => YAML.isScalar(item.key) && item.key.value === key) as
      Pair<YamlNode, YamlNode | null> | undefined;

  // version: the agent compares it to the float 0.0, so a quoted "0.0" is a string and fails.
  const version = entry(root, 'version');
  if (!version) at(root, 'version is missing; add `version: 0.0`');
  else if (!YAML.isScalar(version.value)) at(version.value ?? version.key, 'version must be 0.0');
  else if (typeof version.value.value === 'string') {
    at(
      version.value,
      `version is quoted (${JSON.stringify(version.value.value)}): the agent compares it as a number, so write \`version: 0.0\` without quotes`,
    );
  } else if (version.value.value !== 0) {
    // As written (YAML reads 1.0 as the number 1).
    const range = version.value.range;
    const written = range ? text.slice(range[0], range[1]).trim() : String(version.value.value);
    at(version.value, `version must be 0.0 (the only appspec version), got ${written}`);
  }

  const osPair = entry(root, 'os');
  let os: AppSpec['os'] = 'linux';
  if (!osPair) at(root, 'os is missing; add `os: linux` (or `os: windows`)');
  else {
    const value = YAML.isScalar(osPair.value) ? osPair.value.value : undefined;
    if (value !== 'linux' && value !== 'windows') {
      at(osPair.value ?? osPair.key, `os must be linux or windows, got ${JSON.stringify(value ?? null)}`);
    } else os = value;
  }

  const files = await checkFiles(entry(root, 'files'), os, bundle, at);
  checkPermissions(entry(root, 'permissions'), os, at);
  const hooks = await checkHooks(entry(root, 'hooks'), bundle, at);

  const behaviourPair = entry(root, 'file_exists_behavior');
  let fileExistsBehavior: AppSpec['fileExistsBehavior'];
  if (behaviourPair) {
    const value = YAML.isScalar(behaviourPair.value) ? behaviourPair.value.value : undefined;
    if (value === 'DISALLOW' || value === 'OVERWRITE' || value === 'RETAIN') fileExistsBehavior = value;
    else {
      at(
        behaviourPair.value ?? behaviourPair.key,
        `file_exists_behavior must be DISALLOW, OVERWRITE or RETAIN, got ${JSON.stringify(value ?? null)}`,
      );
    }
  }

  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  if (problems.length) return { file, problems, warnings };
  return {
    file,
    problems,
    warnings,
    spec: { os, files, hooks, ...(fileExistsBehavior ? { fileExistsBehavior } : {}) },
  };
}

type At = (node: YamlNode | null | undefined, message: string) => void;

/** Paths in the appspec are relative to the bundle root; a leading slash still means the bundle root. */
function bundlePath(location: string): string {
  return posix.normalize(location.replace(/\\/g, '/')).replace(/^\/+/, '').replace(/\/+$/, '');
}

function scalarString(node: YamlNode | null | undefined): string | undefined {
  return YAML.isScalar(node) && typeof node.value === 'string' ? node.value : undefined;
}

async function checkFiles(
  pair: Pair<YamlNode, YamlNode | null> | undefined,
  os: AppSpec['os'],
  bundle: BundleFiles,
  at: At,
): Promise<AppSpec['files']> {
  const files: AppSpec['files'] = [];
  if (!pair || pair.value === null || (YAML.isScalar(pair.value) && pair.value.value === null)) return files;
  if (!YAML.isSeq(pair.value)) {
    at(pair.value, 'files must be a list of `- source: … destination: …` entries');
    return files;
  }
  // Where each mapping installs what: two sources for one destination make the agent refuse the Install.
  const installedBy = new Map<string, string>();
  const sourcesNode = pair.value.items;
  const mappings: Array<{ source: string; destination: string; node: YamlNode }> = [];
  for (const item of sourcesNode) {
    const node = item as YamlNode;
    if (!YAML.isMap(node)) {
      at(node, 'each files entry must be a mapping with source and destination');
      continue;
    }
    const sourceNode = node.get('source', true) as YamlNode | undefined;
    const destinationNode = node.get('destination', true) as YamlNode | undefined;
    const source = scalarString(sourceNode);
    const destination = scalarString(destinationNode);
    if (source === undefined)
      at(sourceNode ?? node, 'files entry needs a source (a path in the bundle, / for all)');
    if (destination === undefined)
      at(destinationNode ?? node, 'files entry needs a destination (an absolute path)');
    if (source === undefined || destination === undefined) continue;
    const absolute = os === 'windows' ? /^[a-zA-Z]:[\\/]/.test(destination) : destination.startsWith('/');
    if (!absolute) {
      at(
        destinationNode,
        `files destination must be an absolute path on the instance, got ${JSON.stringify(destination)}`,
      );
      continue;
    }
    const relativeSource = bundlePath(source);
    const kind =
      relativeSource === '' || relativeSource === '.' ? 'directory' : await bundle.kind(relativeSource);
    if (!kind) {
      at(sourceNode, `files source ${JSON.stringify(source)} is not in the bundle`);
      continue;
    }
    files.push({ source, destination });
    mappings.push({ source: relativeSource, destination, node });
  }
  if (mappings.length < 2) return files;
  for (const mapping of mappings) {
    const base = mapping.destination.replace(/[\\/]+$/, '');
    const whole = mapping.source === '' || mapping.source === '.';
    const kind = whole ? 'directory' : await bundle.kind(mapping.source);
    const targets =
      kind === 'directory'
        ? (await bundle.filesUnder(whole ? '' : mapping.source)).map((file) => `${base}/${file}`)
        : [`${base}/${posix.basename(mapping.source)}`];
    for (const target of targets) {
      const previous = installedBy.get(target);
      if (previous !== undefined && previous !== mapping.source) {
        at(
          mapping.node,
          `files sources ${JSON.stringify(previous || '/')} and ${JSON.stringify(mapping.source || '/')} both install ${target}; the agent refuses two sources for one destination`,
        );
        break;
      }
      installedBy.set(target, mapping.source);
    }
  }
  return files;
}

function checkPermissions(
  pair: Pair<YamlNode, YamlNode | null> | undefined,
  os: AppSpec['os'],
  at: At,
): void {
  if (!pair || pair.value === null) return;
  if (os === 'windows') {
    at(pair.key, 'permissions apply only to os: linux; remove them for windows');
    return;
  }
  if (!YAML.isSeq(pair.value)) {
    at(pair.value, 'permissions must be a list of `- object: …` entries');
    return;
  }
  for (const item of pair.value.items) {
    const node = item as YamlNode;
    if (!YAML.isMap(node)) {
      at(node, 'each permissions entry must be a mapping with at least object');
      continue;
    }
    const objectNode = node.get('object', true) as YamlNode | undefined;
    if (scalarString(objectNode) === undefined)
      at(objectNode ?? node, 'permissions entry needs an object (a path)');
    const modeNode = node.get('mode', true) as YamlNode | undefined;
    if (modeNode && YAML.isScalar(modeNode) && !/^[0-7]{3,4}$/.test(String(modeNode.value))) {
      at(modeNode, `permissions mode must be octal digits like 755, got ${JSON.stringify(modeNode.value)}`);
    }
    // The agent accepts only these two, as one value or a list, and fails the deployment on anything else.
    const typeNode = node.get('type', true) as YamlNode | undefined;
    const types = YAML.isSeq(typeNode) ? (typeNode.items as YamlNode[]) : typeNode ? [typeNode] : [];
    for (const type of types) {
      const value = scalarString(type);
      if (value !== 'file' && value !== 'directory')
        at(
          type,
          `permissions type must be file or directory (or a list of them), got ${JSON.stringify(YAML.isScalar(type) ? type.value : (value ?? null))}`,
        );
    }
  }
}

async function checkHooks(
  pair: Pair<YamlNode, YamlNode | null> | undefined,
  bundle: BundleFiles,
  at: At,
): Promise<AppSpec['hooks']> {
  const hooks: AppSpec['hooks'] = {};
  if (!pair || pair.value === null || (YAML.isScalar(pair.value) && pair.value.value === null)) return hooks;
  if (!YAML.isMap(pair.value)) {
    at(pair.value, 'hooks must be a mapping of lifecycle event names to lists of scripts');
    return hooks;
  }
  const valid = scriptableEvents.join(', ');
  for (const item of pair.value.items) {
    const keyNode = item.key as YamlNode;
    const event = YAML.isScalar(keyNode) ? String(keyNode.value) : '';
    if (reservedEvents.has(event)) {
      at(keyNode, `hook ${event} cannot run scripts (the agent performs it); use one of: ${valid}`);
      continue;
    }
    if (!(scriptableEvents as readonly string[]).includes(event)) {
      at(keyNode, `unknown hook ${JSON.stringify(event)}; EC2/on-premises hooks are: ${valid}`);
      continue;
    }
    const list = item.value as YamlNode | null;
    if (list === null || (YAML.isScalar(list) && list.value === null)) continue;
    if (!YAML.isSeq(list)) {
      at(list, `hook ${event} must be a list of \`- location: script\` entries`);
      continue;
    }
    const scripts: AppSpecHook[] = [];
    for (const scriptItem of list.items) {
      const node = scriptItem as YamlNode;
      if (!YAML.isMap(node)) {
        at(node, `each ${event} entry must be a mapping with a location`);
        continue;
      }
      const locationNode = node.get('location', true) as YamlNode | undefined;
      const location = scalarString(locationNode);
      if (location === undefined) {
        at(locationNode ?? node, `hook ${event}: an entry has no location (the script's path in the bundle)`);
        continue;
      }
      const script: AppSpecHook = { location };
      const kind = await bundle.kind(bundlePath(location));
      if (kind !== 'file') {
        at(
          locationNode,
          kind === 'directory'
            ? `hook ${event}: script ${location} is a directory, not a script`
            : `hook ${event}: script ${location} is not in the bundle (looked for ${bundlePath(location)} under the bundle root)`,
        );
      }
      const timeoutNode = node.get('timeout', true) as YamlNode | undefined;
      if (timeoutNode) {
        const raw = YAML.isScalar(timeoutNode) ? timeoutNode.value : undefined;
        const seconds =
          typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
        if (!Number.isInteger(seconds) || seconds <= 0) {
          at(
            timeoutNode,
            `hook ${event}: timeout must be a whole number of seconds, got ${JSON.stringify(raw ?? null)}`,
          );
        } else if (seconds > maxHookTimeoutSeconds) {
          at(
            timeoutNode,
            `hook ${event}: timeout ${seconds} s is over the ${maxHookTimeoutSeconds} s CodeDeploy allows for a lifecycle event`,
          );
        } else script.timeoutSeconds = seconds;
      }
      const runasNode = node.get('runas', true) as YamlNode | undefined;
      if (runasNode) {
        const runas = scalarString(runasNode);
        if (runas === undefined || runas.trim() === '') {
          at(runasNode, `hook ${event}: runas must be a user name`);
        } else script.runas = runas;
      }
      scripts.push(script);
    }
    hooks[event] = [...(hooks[event] ?? []), ...scripts];
  }
  return hooks;
}

export interface WorkspaceAppSpecOptions {
  /** Paths (relative, '/'-separated) the bundle leaves out; a script excluded is a missing script. */
  isExcluded?: (path: string, isDirectory: boolean) => boolean;
}

/**
 * Finds and checks the appspec of a workspace folder, the way the agent will find it in the unpacked bundle:
 * appspec.yml (or appspec.yaml) at the root, or inside a lone top-level directory (which the agent strips).
 */
export async function checkWorkspaceAppSpec(
  workspace: string,
  options: WorkspaceAppSpecOptions = {},
): Promise<AppSpecCheck> {
  const isExcluded = options.isExcluded ?? (() => false);
  const rootFiles = await readdir(workspace, { withFileTypes: true });
  const included = rootFiles.filter((entry) => !isExcluded(entry.name, entry.isDirectory()));
  let bundleRoot = '';
  let name = appSpecNames.find((candidate) =>
    included.some((entry) => entry.name === candidate && !entry.isDirectory()),
  );
  if (!name && included.length === 1 && included[0]!.isDirectory()) {
    const lone = included[0]!.name;
    const inner = await readdir(join(workspace, lone)).catch(() => [] as string[]);
    name = appSpecNames.find((candidate) => inner.includes(candidate));
    if (name) bundleRoot = lone;
  }
  if (!name) {
    const misplaced = await findMisplacedAppSpec(workspace, isExcluded);
    const where = misplaced ? ` (found ${misplaced}, but the agent only looks at the bundle's root)` : '';
    const problem = { line: 0, column: 0, message: `no appspec.yml at the root of ${workspace}${where}` };
    return { file: '', problems: [problem], warnings: [] };
  }
  const file = bundleRoot ? `${bundleRoot}/${name}` : name;
  const text = await readFile(join(workspace, file), 'utf8');
  const base = join(workspace, bundleRoot);
  const bundle = workspaceBundleFiles(base, bundleRoot, isExcluded);
  const check = await checkAppSpecText(text, file, bundle);
  for (const [event, scripts] of Object.entries(check.spec?.hooks ?? {})) {
    for (const script of scripts) {
      const info = await stat(join(base, bundlePath(script.location))).catch(() => undefined);
      if (info && (info.mode & 0o111) === 0) {
        check.warnings.push(
          `hook ${event}: script ${script.location} is not executable (the agent runs chmod +x; commit it with mode 755 to be safe)`,
        );
      }
    }
  }
  return check;
}

/** Throws AppSpecInvalidError listing every problem with its line, or returns the parsed appspec. */
export function assertValidAppSpec(check: AppSpecCheck): AppSpec {
  if (check.spec && check.problems.length === 0) return check.spec;
  const file = check.file || 'appspec.yml';
  const lines = check.problems.map((problem) =>
    problem.line > 0 ? `${file}:${problem.line}:${problem.column}: ${problem.message}` : problem.message,
  );
  const headline =
    lines.length === 1
      ? `Invalid appspec: ${lines[0]}`
      : `Invalid appspec (${lines.length} problems):\n${lines.map((line) => `  ${line}`).join('\n')}`;
  throw new AppSpecInvalidError(
    check.file,
    check.problems,
    headline,
    check.file
      ? `Fix ${file} as described; nothing was uploaded (keyless codedeploy validate re-checks it).`
      : 'Put appspec.yml at the root of the bundle folder (see https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file.html).',
  );
}

/** The bundle as the filesystem shows it, minus exclusions; symlinks are followed only inside the workspace. */
function workspaceBundleFiles(
  base: string,
  prefix: string,
  isExcluded: (path: string, isDirectory: boolean) => boolean,
): BundleFiles {
  const full = (path: string) => (prefix ? `${prefix}/${path}` : path);
  const excludedOnTheWay = (path: string, isDirectory: boolean) => {
    const parts = full(path).split('/');
    for (let index = 1; index < parts.length; index++) {
      if (isExcluded(parts.slice(0, index).join('/'), true)) return true;
    }
    return isExcluded(full(path), isDirectory);
  };
  return {
    async kind(path) {
      if (path === '' || path === '.') return 'directory';
      if (path.startsWith('..')) return undefined;
      const info = await stat(join(base, path)).catch(() => undefined);
      if (!info) return undefined;
      const isDirectory = info.isDirectory();
      if (excludedOnTheWay(path, isDirectory)) return undefined;
      return isDirectory ? 'directory' : info.isFile() ? 'file' : undefined;
    },
    async filesUnder(path) {
      const out: string[] = [];
      const start = join(base, path);
      const walk = async (dir: string): Promise<void> => {
        for (const entry of await readdir(dir, { withFileTypes: true })) {
          const absolute = join(dir, entry.name);
          const rel = relative(base, absolute).split(sep).join('/');
          if (excludedOnTheWay(rel, entry.isDirectory())) continue;
          if (entry.isDirectory()) await walk(absolute);
          else out.push(relative(start, absolute).split(sep).join('/'));
        }
      };
      await walk(start);
      return out;
    },
  };
}

/** An appspec one or two levels down, to say where the misplaced one is. */
async function findMisplacedAppSpec(
  workspace: string,
  isExcluded: (path: string, isDirectory: boolean) => boolean,
): Promise<string | undefined> {
  const top = await readdir(workspace, { withFileTypes: true });
  for (const entry of top) {
    if (!entry.isDirectory() || isExcluded(entry.name, true)) continue;
    const inner = await readdir(join(workspace, entry.name)).catch(() => [] as string[]);
    const found = appSpecNames.find((name) => inner.includes(name));
    if (found) return `${entry.name}/${found}`;
  }
  return undefined;
}
