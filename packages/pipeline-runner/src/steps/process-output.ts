/**
 * What the agent does with a task process's output: split stdout and stderr into lines, act on `##vso`
 * logging commands (§3), and log everything else masked. Command effects land on the job (variables,
 * outputs, PATH prepends, tags, build number, masker) and in the step record.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { checkCommand, parseLine } from '../logging/command';
import type { LoggingCommand } from '../logging/command';
import { mergeResult } from '../run/results';
import type { TaskResult } from '../model';
import type { JobRuntime, StepIssue, StepRecord } from '../run/job-runtime';

/** The parts of the step record that output processing fills in. */
export type StepOutputRecord = Pick<StepRecord, 'commands' | 'variables' | 'outputs' | 'issues' | 'files'> & {
  progress?: StepRecord['progress'];
};

export interface StepOutputOptions {
  job: JobRuntime;
  /** The step's `name` (output variables become `<name>.<var>`). */
  stepName: string;
  /** task.json `outputVariables`: setting one of these makes an output even without `isoutput`. */
  outputVariables: string[];
  /** The process's working directory, for relative file paths in upload commands. */
  cwd: string;
  /** Called once when `task.complete done=true` arrives: the agent stops waiting for the process. */
  onDone?: () => void;
}

const commandDocs = 'http://go.microsoft.com/fwlink/?LinkId=817296';

export class StepOutput {
  readonly record: StepOutputRecord = { commands: [], variables: [], outputs: {}, issues: [], files: [] };
  /** Merged `task.complete` results and command failures; undefined while nothing was reported. */
  commandResult: TaskResult | undefined;
  /** The last non-empty `task.complete` message. */
  completeMessage: string | undefined;
  done = false;
  private readonly streams = new Map<string, { decoder: StringDecoder; pending: string }>();
  private readonly debug: boolean;
  private readonly outputNames: Set<string>;

  constructor(private readonly options: StepOutputOptions) {
    this.debug = /^true$/i.test(options.job.variables.get('System.Debug')?.value?.trim() ?? '');
    this.outputNames = new Set(options.outputVariables.map((name) => name.toLowerCase()));
  }

  /** Feeds a chunk of one stream; complete lines are processed at once, a partial line waits for the rest. */
  write(stream: 'stdout' | 'stderr', chunk: Buffer | string): void {
    const state = this.stream(stream);
    const text = state.pending + (typeof chunk === 'string' ? chunk : state.decoder.write(chunk));
    const lines = text.split('\n');
    state.pending = lines.pop() ?? '';
    for (const line of lines) this.line(line.endsWith('\r') ? line.slice(0, -1) : line);
  }

  /** Flushes a stream's unterminated last line. */
  end(stream: 'stdout' | 'stderr'): void {
    const state = this.stream(stream);
    const rest = state.pending + state.decoder.end();
    state.pending = '';
    if (rest !== '') this.line(rest.endsWith('\r') ? rest.slice(0, -1) : rest);
  }

  /** One output line, as the agent's output handler sees it. */
  line(line: string): void {
    // Once the task said it is done the agent no longer listens to it.
    if (this.done) return;
    const parsed = parseLine(line);
    if (parsed.kind === 'text' || parsed.kind === 'format') {
      this.print(line);
      return;
    }
    if (parsed.kind === 'malformed') {
      this.issue({
        type: 'warning',
        message: `'${line}' contains logging command keyword '##vso', but it's not a legal command (${parsed.reason}). Please see the list of accepted commands: ${commandDocs}`,
      });
      this.print(line);
      return;
    }
    this.command(parsed.command, line);
  }

  /** An issue raised by the runner or a command: logged as `##[error]`/`##[warning]` and recorded, masked. */
  issue(issue: StepIssue): void {
    const masked: StepIssue = { ...issue, message: this.mask(issue.message) };
    if (issue.sourcePath !== undefined) masked.sourcePath = this.mask(issue.sourcePath);
    this.record.issues.push(masked);
    this.print(`##[${issue.type}]${masked.message}`);
  }

  /** Merges a result as `task.complete` would (also used by native scripts and the runner itself). */
  complete(result: TaskResult, message?: string): void {
    this.commandResult = mergeResult(this.commandResult, result);
    if (message) this.completeMessage = this.mask(message);
  }

  print(line: string): void {
    this.options.job.write(this.mask(line));
  }

  private mask(text: string): string {
    return this.options.job.masker.mask(text);
  }

  private stream(name: string): { decoder: StringDecoder; pending: string } {
    let state = this.streams.get(name);
    if (!state) {
      state = { decoder: new StringDecoder('utf8'), pending: '' };
      this.streams.set(name, state);
    }
    return state;
  }

  private command(command: LoggingCommand, line: string): void {
    const { job } = this.options;
    const check = checkCommand(command, { allowMultilineSecret: this.allowMultilineSecret() });
    // Register secrets before anything about this line is recorded or printed.
    if (check.ok && command.area === 'task' && command.data) {
      if (command.event === 'setsecret') job.masker.add(command.data);
      if (command.event === 'setvariable' && this.becomesSecret(command)) job.masker.add(command.data);
    }
    this.record.commands.push({
      area: command.area,
      event: command.event,
      properties: Object.fromEntries(Object.entries(command.properties).map(([k, v]) => [k, this.mask(v)])),
      data: this.mask(command.data),
    });
    if (!check.ok) {
      if (check.severity === 'warning') {
        this.issue({ type: 'warning', message: check.message });
      } else {
        this.fail(line, check.message);
      }
      return;
    }
    try {
      this.apply(command);
    } catch (error) {
      this.fail(line, error instanceof Error ? error.message : String(error));
      return;
    }
    if (this.debug) this.print(`##[debug]Processed: ${line}`);
  }

  /** A command the agent throws on: two errors (which command, why), and the step fails. */
  private fail(line: string, reason: string): void {
    this.issue({
      type: 'error',
      message: `Unable to process command '${line}' successfully. Please reference documentation (${commandDocs})`,
    });
    this.issue({ type: 'error', message: reason });
    this.commandResult = mergeResult(this.commandResult, 'Failed');
  }

  private allowMultilineSecret(): boolean {
    const { job } = this.options;
    const value =
      job.variables.get('SYSTEM_UNSAFEALLOWMULTILINESECRET')?.value ??
      job.variables.get('System.UnsafeAllowMultilineSecret')?.value ??
      job.agentEnv['SYSTEM_UNSAFEALLOWMULTILINESECRET'];
    return parseBoolean(value);
  }

  private apply(command: LoggingCommand): void {
    const { job } = this.options;
    const { properties, data } = command;
    switch (`${command.area}.${command.event}`) {
      case 'task.setvariable':
        return this.setVariable(command);
      case 'task.setsecret':
        return; // registered above
      case 'task.logissue':
      case 'task.issue':
        return this.logIssue(command);
      case 'task.complete': {
        this.complete(properties['result'] as TaskResult, data);
        this.record.progress = { value: 100, operation: this.mask(data) };
        if (parseAgentBoolean(properties['done']) && !this.done) {
          this.done = true;
          this.options.onDone?.();
        }
        return;
      }
      case 'task.setprogress': {
        const value = Number.parseInt(properties['value'] ?? '', 10);
        const clamped = Number.isNaN(value) ? 0 : Math.min(100, Math.max(0, value));
        this.record.progress = { value: clamped, operation: this.mask(data) };
        return;
      }
      case 'task.prependpath': {
        const existing = job.pathPrepends.indexOf(data);
        if (existing >= 0) job.pathPrepends.splice(existing, 1);
        job.pathPrepends.unshift(data);
        return;
      }
      case 'task.debug':
        if (this.debug) this.print(`##[debug]${data}`);
        return;
      case 'task.uploadsummary':
      case 'build.uploadsummary':
        return this.copyFile('summary', basename(data), data);
      case 'task.uploadfile':
        return this.copyFile('file', basename(data), data);
      case 'task.addattachment':
        return this.copyFile('attachment', properties['name'] ?? basename(data), data, properties['type']);
      case 'build.uploadlog':
        return this.copyFile('log', basename(data), data);
      case 'build.updatebuildnumber':
        job.setBuildNumber(data);
        return;
      case 'build.addbuildtag': {
        const tag = data.trim();
        if (tag === '') {
          this.issue({ type: 'warning', message: 'A build tag cannot be empty; nothing was added.' });
        } else if (!job.buildTags.includes(tag)) {
          job.buildTags.push(tag);
        }
        return;
      }
      case 'artifact.upload':
        return this.uploadArtifact(command);
      default:
        // logdetail (timeline records), settaskvariable, setendpoint and artifact.associate only matter to
        // the server; they are accepted and have no local effect.
        if (this.debug) this.print(`##[debug]${command.area}.${command.event} has no effect in a local run.`);
    }
  }

  /** `issecret=true`, or a variable that is already secret (once secret, always secret). */
  private becomesSecret(command: LoggingCommand): boolean {
    if (parseBoolean(command.properties['issecret'])) return true;
    const name = command.properties['variable'] ?? '';
    const target = this.isOutput(command) ? `${this.options.stepName}.${name}` : name;
    return this.options.job.variables.get(target)?.secret ?? false;
  }

  private isOutput(command: LoggingCommand): boolean {
    const name = command.properties['variable'] ?? '';
    return parseBoolean(command.properties['isoutput']) || this.outputNames.has(name.toLowerCase());
  }

  private setVariable(command: LoggingCommand): void {
    const { job, stepName } = this.options;
    const name = command.properties['variable'] ?? '';
    const secret = this.becomesSecret(command);
    const output = this.isOutput(command);
    const readonly = parseBoolean(command.properties['isreadonly']);
    const value = command.data;

    if (job.variables.get(name)?.readonly) {
      const message = `Variable '${name}' is read-only and can't be changed.`;
      // The agent's enforcement switch turns the warning into a failing command.
      if (parseBoolean(job.variables.get('agent.readOnlyVariables')?.value)) throw new Error(message);
      this.issue({ type: 'warning', message });
      if (!output) return;
    }
    if (output) {
      const key = `${stepName}.${name}`;
      const stored = job.variables.set(key, value, { secret, readonly: true });
      if (!stored.ok) this.issue({ type: 'warning', message: `Output variable '${key}': ${stored.reason}.` });
      job.outputs.set(key, value);
      this.record.outputs[name] = this.mask(value);
    } else {
      const stored = job.variables.set(name, value, { secret, readonly });
      if (!stored.ok) {
        this.issue({ type: 'warning', message: `Variable '${name}': ${stored.reason}.` });
        return;
      }
    }
    this.record.variables.push({
      name,
      value: secret ? '***' : this.mask(value),
      secret,
      output,
      readonly: output || readonly,
    });
  }

  private logIssue(command: LoggingCommand): void {
    const { properties, data } = command;
    const issue: StepIssue = {
      type: properties['type']?.trim().toLowerCase() === 'error' ? 'error' : 'warning',
      message: data,
    };
    if (properties['code']) issue.code = properties['code'];
    if (properties['sourcepath']) issue.sourcePath = properties['sourcepath'];
    const line = Number.parseInt(properties['linenumber'] ?? '', 10);
    const column = Number.parseInt(properties['columnnumber'] ?? '', 10);
    if (!Number.isNaN(line)) issue.lineNumber = line;
    if (!Number.isNaN(column)) issue.columnNumber = column;
    this.issue(issue);
  }

  private resolvePath(path: string): string {
    return resolve(this.options.cwd, path);
  }

  /** Upload commands: the file is copied into the run's files folder so it outlives the job's temp folder. */
  private copyFile(
    kind: StepRecord['files'][number]['kind'],
    name: string,
    path: string,
    type?: string,
  ): void {
    const source = this.resolvePath(path);
    if (!isFile(source)) {
      this.issue({ type: 'warning', message: `Cannot upload ${kind} '${path}': the file does not exist.` });
      return;
    }
    const target = this.targetPath(kind, type ? `${type}.${name}` : name);
    copyFileSync(source, target);
    this.record.files.push({ kind, name: this.mask(name), path: target });
  }

  private uploadArtifact(command: LoggingCommand): void {
    const artifact = command.properties['artifactname'] ?? 'artifact';
    const folder = command.properties['containerfolder'] ?? artifact;
    const source = this.resolvePath(command.data);
    if (!existsSync(source)) {
      this.issue({
        type: 'warning',
        message: `Cannot upload artifact '${artifact}': '${command.data}' does not exist.`,
      });
      return;
    }
    const target = join(this.options.job.directories.files, 'artifacts', safe(folder), basename(source));
    mkdirSync(join(target, '..'), { recursive: true });
    cpSync(source, target, { recursive: true });
    this.record.files.push({ kind: 'file', name: `${artifact}/${basename(source)}`, path: target });
  }

  private targetPath(kind: string, name: string): string {
    const { job, stepName } = this.options;
    const folder = join(job.directories.files, safe(job.stageName), safe(job.jobName), safe(stepName), kind);
    mkdirSync(folder, { recursive: true });
    const file = safe(name) || kind;
    let target = join(folder, file);
    for (let n = 2; existsSync(target); n++) target = join(folder, `${n}-${file}`);
    return target;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function safe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** .NET Boolean.TryParse: `true` in any case with surrounding white space; anything else is false. */
export function parseBoolean(value: string | undefined): boolean {
  return value?.trim().toLowerCase() === 'true';
}

/** The agent's StringUtil.ConvertToBoolean (used for `done`): also accepts `1` and `$true`. */
function parseAgentBoolean(value: string | undefined): boolean {
  const text = value?.trim().toLowerCase();
  return text === 'true' || text === '1' || text === '$true';
}
