import { spawn } from 'node:child_process';
import { access, appendFile, chmod, mkdir, stat } from 'node:fs/promises';
import { constants, existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { AgentError } from './agent-error';
import type { Clock } from '../../clock';
import type { AppSpecScript } from './appspec';

/**
 * Runs one lifecycle event's scripts as hook_executor.rb does: by absolute path inside deployment-archive/,
 * stdin closed, in a new process group, output lines appended to logs/scripts.log, a per-script timeout that
 * TERMs the whole group. The agent reads the pipes to their end, so a script whose daemon inherited stdout
 * keeps the event running until the timeout.
 */

/** hook_executor.rb ScriptLog: the diagnostics' log is the newest entries that fit in 2 KB. */
export class ScriptLog {
  private entries: string[] = [];

  append(entry: string): void {
    this.entries.push(entry);
    let index = this.entries.length;
    let remaining = 2048;
    while (index > 0 && remaining - (this.entries[index - 1]?.length ?? 0) > 0) {
      index -= 1;
      remaining -= this.entries[index]?.length ?? 0;
    }
    if (index > 0) this.entries = this.entries.slice(index);
  }

  text(): string {
    return this.entries.join('');
  }
}

export interface HookRunOptions {
  event: string;
  scripts: AppSpecScript[];
  /** Host path of the revision whose scripts run (this deployment's, or the last successful one's). */
  archiveDir: string;
  /** Host path of that deployment's logs/scripts.log. */
  scriptsLogFile: string;
  /** The instance's "/": the hooks' working directory. */
  rootDir: string;
  env: Record<string, string>;
  clock: Clock;
  /** Real milliseconds between TERM and KILL of a timed-out script's process group. */
  killGraceMs: number;
  /** The instance owns the group from here: its termination kills it. Returns how to hand it back. */
  trackProcessGroup: (pid: number) => (() => void) | void;
  note: (level: 'info' | 'warn' | 'debug', message: string) => void;
}

/** Resolves with the log tail on success; rejects with an AgentError carrying it otherwise. */
export async function runHooks(options: HookRunOptions): Promise<string> {
  const scriptLog = new ScriptLog();
  if (options.scripts.length === 0) return '';
  await mkdir(dirname(options.scriptsLogFile), { recursive: true });
  const logLine = async (entry: string): Promise<void> => {
    scriptLog.append(entry);
    await appendFile(options.scriptsLogFile, `${agentTimestamp(options.clock.now())} ${entry}`);
  };
  await logLine(`LifecycleEvent - ${options.event}\n`);
  for (const script of options.scripts) {
    const scriptPath = join(options.archiveDir, script.location);
    if (!existsSync(scriptPath)) {
      throw new AgentError(
        'ScriptMissing',
        `Script does not exist at specified location: ${script.location}`,
        script.location,
        scriptLog.text(),
      );
    }
    if (!(await isExecutable(scriptPath))) {
      options.note(
        'warn',
        `Script at specified location: ${script.location} is not executable.  Trying to make it executable.`,
      );
      try {
        await chmod(scriptPath, (await stat(scriptPath)).mode | 0o111);
      } catch {
        throw new AgentError(
          'ScriptNotExecutable',
          `Unable to set script at specified location: ${script.location} as executable`,
          script.location,
          scriptLog.text(),
        );
      }
    }
    await runScript(options, script, scriptPath, logLine, scriptLog);
  }
  return scriptLog.text();
}

async function runScript(
  options: HookRunOptions,
  script: AppSpecScript,
  scriptPath: string,
  logLine: (entry: string) => Promise<void>,
  scriptLog: ScriptLog,
): Promise<void> {
  await logLine(`Script - ${script.location}\n`);
  const currentUser = currentUserName();
  if (script.runas !== undefined && script.runas !== currentUser) {
    // The sandbox never switches users; the script runs as the agent's user.
    options.note(
      'info',
      `Script ${script.location} asks to run as ${script.runas}; running it as the agent's user`,
    );
  }

  const child = spawn(scriptPath, [], {
    cwd: options.rootDir,
    env: options.env,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin?.end();
  // Owned by the instance while it runs: a deployment stopped mid-hook terminates the instance (green) or
  // stops the sandbox, and neither may leave the hook running.
  const release = child.pid !== undefined ? options.trackProcessGroup(child.pid) : undefined;

  // Lines are written in arrival order; the chain keeps appends to scripts.log from interleaving mid-line.
  let writes = Promise.resolve();
  const forward = (stream: NodeJS.ReadableStream | null, tag: '[stdout]' | '[stderr]'): void => {
    if (!stream) return;
    let pending = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      pending += chunk;
      let newline = pending.indexOf('\n');
      while (newline !== -1) {
        const line = pending.slice(0, newline + 1);
        pending = pending.slice(newline + 1);
        writes = writes.then(() => logLine(tag + line));
        newline = pending.indexOf('\n');
      }
    });
    stream.on('end', () => {
      if (pending !== '') writes = writes.then(() => logLine(tag + pending));
      pending = '';
    });
  };
  forward(child.stdout, '[stdout]');
  forward(child.stderr, '[stderr]');

  const timeoutMs = options.clock.realMs(script.timeout);
  const outcome = await new Promise<
    | { kind: 'closed'; code: number | null; signal: NodeJS.Signals | null }
    | { kind: 'timeout' }
    | { kind: 'error'; error: Error }
  >((resolve) => {
    const timer = setTimeout(() => resolve({ kind: 'timeout' }), timeoutMs);
    // 'close', not 'exit': the agent joins its stdout/stderr reader threads, i.e. waits for every writer to go.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ kind: 'closed', code, signal });
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ kind: 'error', error });
    });
  });

  const pid = child.pid;
  if (outcome.kind === 'timeout') {
    if (pid !== undefined) killGroup(pid, options.killGraceMs);
    child.stdout?.destroy();
    child.stderr?.destroy();
    await writes;
    throw new AgentError(
      'ScriptTimedOut',
      `Script at specified location: ${script.location} failed to complete in ${script.timeout} seconds`,
      script.location,
      scriptLog.text(),
    );
  }
  await writes;
  if (outcome.kind === 'error') {
    throw new AgentError('UnknownError', outcome.error.message, script.location, scriptLog.text());
  }
  // Whatever the script left running in its group (a daemon with redirected output) outlives the hook; the
  // instance owns it from now on and kills it on termination.
  if (pid !== undefined && groupAlive(pid)) {
    options.note('info', `Script ${script.location} left process group ${pid} running`);
  } else {
    release?.();
  }
  if (outcome.code !== 0) {
    const who =
      script.runas === undefined ? script.location : `${script.location} run as user ${script.runas}`;
    // A signal leaves Ruby's exitstatus nil, which the agent prints as an empty exit code.
    const exitCode = outcome.code === null ? '' : String(outcome.code);
    const signal = outcome.signal === null ? '' : ` (terminated by ${outcome.signal})`;
    throw new AgentError(
      'ScriptFailed',
      `Script at specified location: ${who} failed with exit code ${exitCode}${signal}`,
      script.location,
      scriptLog.text(),
    );
  }
}

/** TERM the group now, KILL whatever ignored it after the grace period. */
function killGroup(pid: number, graceMs: number): void {
  signalGroup(pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (groupAlive(pid)) signalGroup(pid, 'SIGKILL');
  }, graceMs);
  timer.unref();
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Ruby's `Time.now.to_s[0..-7]`: local "YYYY-MM-DD HH:MM:SS". */
export function agentTimestamp(epochMs: number): string {
  const date = new Date(epochMs);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

function currentUserName(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return process.env['USER'];
  }
}
