// Test support for the tasks: runs a task entry as the agent would (a node process whose environment carries
// INPUT_*, ENDPOINT_*, SECRET_* and variables), and reads back its logging commands. The full agent behaviour
// (the pipeline runner) is tested in packages/pipeline-runner; this is the per-task harness.
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cleanEnv } from '../../cli/test/support';

export { startTestSandbox, leakedSecrets, cleanEnv, type TestSandbox } from '../../cli/test/support';

const tasksRoot = fileURLToPath(new URL('../tasks/', import.meta.url));
// Resolved here, not by the child: a bare `--import tsx` resolves from the child's cwd (a temp directory).
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface Endpoint {
  id: string;
  scheme: string;
  parameters: Record<string, string>;
  url?: string;
}

export interface TaskRunOptions {
  inputs?: Record<string, string>;
  endpoints?: Endpoint[];
  /** Public pipeline variables (exported as env, as the agent does). */
  variables?: Record<string, string>;
  /** Secret variables (only as SECRET_<NAME>, which task-lib moves into its vault). */
  secrets?: Record<string, string>;
  /** Extra process environment (e.g. AWS_ENDPOINT_URL pointing at the sandbox). */
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
  /** Send this signal once the output contains this text. */
  interruptWhen?: { text: string; signal: NodeJS.Signals };
}

export interface TaskCommand {
  area: string;
  event: string;
  properties: Record<string, string>;
  data: string;
}

export interface TaskRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  commands: TaskCommand[];
  /** The task.complete commands (there must be exactly one). */
  completions: TaskCommand[];
  result: string | undefined;
  /** variable name → {value, secret, output}. */
  variables: Map<string, { value: string; secret: boolean; output: boolean }>;
  issues: Array<{ type: string; message: string }>;
  secretsSet: string[];
  summaries: string[];
}

const envName = (name: string) => name.replace(/[.\s]/g, '_').toUpperCase();

/** Runs `tasks/<name>/index.ts` through tsx (the unbundled build; the bundles are tested by package.test.ts). */
export async function runTaskSource(name: string, options: TaskRunOptions = {}): Promise<TaskRun> {
  return runTaskProcess(
    [process.execPath, '--import', tsxLoader, join(tasksRoot, name, 'index.ts')],
    options,
  );
}

export async function runTaskProcess(argv: string[], options: TaskRunOptions = {}): Promise<TaskRun> {
  const temp = await mkdtemp(join(tmpdir(), 'keyless-task-'));
  const env: NodeJS.ProcessEnv = {
    ...cleanEnv(),
    AGENT_TEMPDIRECTORY: temp,
    SYSTEM_DEFAULTWORKINGDIRECTORY: options.cwd ?? temp,
    BUILD_SOURCESDIRECTORY: options.cwd ?? temp,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    TF_BUILD: 'True',
    ...options.env,
  };
  for (const [key, value] of Object.entries(options.variables ?? {})) env[envName(key)] = value;
  env.VSTS_PUBLIC_VARIABLES = JSON.stringify(Object.keys(options.variables ?? {}));
  env.VSTS_SECRET_VARIABLES = JSON.stringify(Object.keys(options.secrets ?? {}));
  for (const [key, value] of Object.entries(options.secrets ?? {})) env[`SECRET_${envName(key)}`] = value;
  for (const [key, value] of Object.entries(options.inputs ?? {})) env[`INPUT_${envName(key)}`] = value;
  for (const endpoint of options.endpoints ?? []) {
    const id = endpoint.id.toLowerCase();
    env[`ENDPOINT_URL_${id}`] = endpoint.url ?? 'https://aws.amazon.com/';
    env[`ENDPOINT_AUTH_${id}`] = JSON.stringify({ parameters: endpoint.parameters, scheme: endpoint.scheme });
    env[`ENDPOINT_AUTH_SCHEME_${id}`] = endpoint.scheme;
    for (const [key, value] of Object.entries(endpoint.parameters))
      env[`ENDPOINT_AUTH_PARAMETER_${id}_${key.toUpperCase()}`] = value;
  }

  return new Promise((resolve, reject) => {
    const [command, ...args] = argv;
    const child = spawn(command!, args, { env, cwd: options.cwd ?? temp, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    const check = () => {
      const trigger = options.interruptWhen;
      if (trigger && !interrupted && (stdout + stderr).includes(trigger.text)) {
        interrupted = true;
        child.kill(trigger.signal);
      }
    };
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      check();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      check();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      resolve(readRun(exitCode, stdout, stderr));
    });
  });
}

function unescape(value: string): string {
  return value
    .replace(/%3B/gi, ';')
    .replace(/%0D/gi, '\r')
    .replace(/%0A/gi, '\n')
    .replace(/%5D/gi, ']')
    .replace(/%AZP25/gi, '%');
}

/** A minimal ##vso reader for assertions; the agent-faithful parser lives in the pipeline runner. */
function readRun(exitCode: number | null, stdout: string, stderr: string): TaskRun {
  const commands: TaskCommand[] = [];
  for (const line of `${stdout}\n${stderr}`.split(/\r?\n/)) {
    const match = /##vso\[([A-Za-z]+)\.([A-Za-z]+)([^\]]*)\](.*)$/.exec(line);
    if (!match) continue;
    const properties: Record<string, string> = {};
    for (const piece of (match[3] ?? '').trim().split(';')) {
      const at = piece.indexOf('=');
      if (at > 0) properties[piece.slice(0, at).trim().toLowerCase()] = unescape(piece.slice(at + 1));
    }
    commands.push({
      area: match[1]!.toLowerCase(),
      event: match[2]!.toLowerCase(),
      properties,
      data: unescape(match[4] ?? ''),
    });
  }
  const of = (event: string) =>
    commands.filter((command) => command.area === 'task' && command.event === event);
  const completions = of('complete');
  const variables = new Map<string, { value: string; secret: boolean; output: boolean }>();
  for (const command of of('setvariable')) {
    variables.set(command.properties.variable ?? '', {
      value: command.data,
      secret: command.properties.issecret === 'true',
      output: command.properties.isoutput === 'true',
    });
  }
  return {
    exitCode,
    stdout,
    stderr,
    commands,
    completions,
    result: completions.at(-1)?.properties.result,
    variables,
    issues: [...of('logissue'), ...of('issue')].map((command) => ({
      type: command.properties.type ?? '',
      message: command.data,
    })),
    secretsSet: of('setsecret').map((command) => command.data),
    summaries: of('uploadsummary').map((command) => command.data),
  };
}
