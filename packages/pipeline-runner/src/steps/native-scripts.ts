/**
 * Microsoft's Bash@3 and CmdLine@2 (what `bash:` and `script:` steps become), implemented natively with the
 * behaviour of their Linux code paths: the script is written to `$(Agent.TempDirectory)/<uuid>.sh` and run
 * with `bash --noprofile --norc` (no `-e`: the last command's exit code decides), stderr goes to the log,
 * a non-zero exit or (with failOnStderr) any stderr output fails the step.
 */
import { randomUUID } from 'node:crypto';
import { accessSync, constants, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { parseTaskReference } from '../tasks/catalog';
import type { TaskDefinition } from '../tasks/catalog';
import { runProcess } from './process';
import type { ProcessOutcome } from './process';
import type { StepOutput } from './process-output';
import { parseBoolean } from './process-output';

const nativeDirectory = '<native>';

export const bashTask: TaskDefinition = {
  id: '6c731c3c-3c68-459a-a5c9-bde6e6595b5b',
  name: 'Bash',
  friendlyName: 'Bash',
  version: { Major: 3, Minor: 278, Patch: 0 },
  directory: nativeDirectory,
  instanceNameFormat: 'Bash Script',
  inputs: [
    { name: 'targetType', type: 'radio', defaultValue: 'filePath' },
    { name: 'filePath', type: 'filePath', defaultValue: '', required: true },
    { name: 'arguments', type: 'string', defaultValue: '' },
    { name: 'script', type: 'multiLine', defaultValue: "# Write your commands here\n\necho 'Hello world'\n" },
    { name: 'workingDirectory', type: 'filePath', defaultValue: '', aliases: ['cwd'] },
    { name: 'failOnStderr', type: 'boolean', defaultValue: 'false' },
    { name: 'bashEnvValue', type: 'string', defaultValue: '' },
    { name: 'noProfile', type: 'boolean', defaultValue: 'true' },
    { name: 'noRc', type: 'boolean', defaultValue: 'true' },
  ],
  execution: {},
  outputVariables: [],
};

export const cmdLineTask: TaskDefinition = {
  id: 'd9bafed4-0b18-4f58-968d-86655b4d2ce9',
  name: 'CmdLine',
  friendlyName: 'Command line',
  version: { Major: 2, Minor: 278, Patch: 0 },
  directory: nativeDirectory,
  instanceNameFormat: 'Command Line Script',
  inputs: [
    {
      name: 'script',
      type: 'multiLine',
      defaultValue: 'echo Write your commands here\n\necho Hello world\n',
      required: true,
    },
    { name: 'workingDirectory', type: 'filePath', defaultValue: '', aliases: ['cwd'] },
    { name: 'failOnStderr', type: 'boolean', defaultValue: 'false' },
  ],
  execution: {},
  outputVariables: [],
};

/** Bash@3 and CmdLine@2 (by name or GUID), or undefined for every other reference. */
export function nativeTaskFor(reference: string): TaskDefinition | undefined {
  const { identifier, major } = parseTaskReference(reference);
  const wanted = identifier.toLowerCase();
  return [bashTask, cmdLineTask].find(
    (task) => task.version.Major === major && (task.name.toLowerCase() === wanted || task.id === wanted),
  );
}

export interface NativeScriptOptions {
  inputs: Record<string, string>;
  env: Record<string, string>;
  output: StepOutput;
  tempDirectory: string;
  /** Build.SourcesDirectory: an empty filePath input arrives as this (task-lib's filePathSupplied). */
  sourcesDirectory: string;
  timeoutMs: number;
  signal: AbortSignal;
  /**
   * Aborted when the script's output says `task.complete done=true`: on the agent Bash@3's output passes
   * through its Node task, so the step ends there without waiting for bash to exit.
   */
  done?: AbortSignal;
  timeoutGraceMs?: number;
  cancelGraceMs?: number;
}

export interface NativeScriptOutcome {
  process?: ProcessOutcome;
  /** Why the script failed, as the task reports it. */
  message?: string;
}

export async function runNativeScript(
  task: TaskDefinition,
  options: NativeScriptOptions,
): Promise<NativeScriptOutcome> {
  const { inputs, output } = options;
  const isBash = task.id === bashTask.id;
  const fail = (message: string): NativeScriptOutcome => {
    output.issue({ type: 'error', message });
    output.complete('Failed');
    return { message };
  };

  const cwd = inputs['workingDirectory'] ?? options.sourcesDirectory;
  if (!isDirectory(cwd)) return fail(`Not found workingDirectory: ${cwd}`);

  let contents: string;
  if (isBash && (inputs['targetType'] ?? '').toLowerCase() !== 'inline') {
    const file = inputs['filePath'] ?? '';
    if (file === options.sourcesDirectory || !isFile(file)) return fail(`Invalid file path '${file}'.`);
    contents = `exec bash '${file.replace(/'/g, "'\\''")}' ${inputs['arguments'] ?? ''}`.trim();
  } else {
    contents = inputs['script'] ?? '';
  }

  output.print('Generating script.');
  mkdirSync(options.tempDirectory, { recursive: true });
  const scriptPath = join(options.tempDirectory, `${randomUUID()}.sh`);
  // Macros are expanded, secrets included: only the job's user may read it.
  writeFileSync(scriptPath, contents, { encoding: 'utf8', mode: 0o600 });
  // Like the real tasks, only a one-line script is echoed, and never one holding a logging command (it would run).
  if (!contents.includes('\n') && !contents.toUpperCase().includes('##VSO[')) {
    output.print('Script contents:');
    output.print(contents);
  }
  output.print('========================== Starting Command Output ===========================');

  const bash = which('bash', options.env['PATH'] ?? '') ?? 'bash';
  const args: string[] = [];
  if (!isBash || parseBoolean(inputs['noProfile'] ?? 'true')) args.push('--noprofile');
  if (!isBash || parseBoolean(inputs['noRc'] ?? 'true')) args.push('--norc');
  args.push(scriptPath);
  output.print(`[command]${bash} ${args.join(' ')}`);

  const env = { ...options.env };
  if (isBash && inputs['bashEnvValue']) env['BASH_ENV'] = inputs['bashEnvValue'];

  const outcome = await runProcess(bash, args, {
    cwd,
    env,
    output,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    ...(options.done ? { done: options.done } : {}),
    ...(options.timeoutGraceMs !== undefined ? { timeoutGraceMs: options.timeoutGraceMs } : {}),
    ...(options.cancelGraceMs !== undefined ? { cancelGraceMs: options.cancelGraceMs } : {}),
  });
  if (outcome.startError)
    return { process: outcome, ...fail(`Bash could not be started: ${outcome.startError}`) };
  if (outcome.timedOut || outcome.canceled || outcome.forcedDone) return { process: outcome };

  let message: string | undefined;
  if (outcome.exitCode !== 0) {
    message = `Bash exited with code '${outcome.exitCode ?? outcome.exitSignal}'.`;
    output.issue({ type: 'error', message });
  }
  if (parseBoolean(inputs['failOnStderr']) && outcome.stderrBytes > 0) {
    const stderr = 'Bash wrote one or more lines to the standard error stream.';
    output.issue({ type: 'error', message: stderr });
    message ??= stderr;
  }
  output.complete(message ? 'Failed' : 'Succeeded');
  return message ? { process: outcome, message } : { process: outcome };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function which(command: string, pathValue: string): string | undefined {
  for (const dir of pathValue.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
