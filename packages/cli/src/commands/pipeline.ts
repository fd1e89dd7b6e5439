import { copyFile, mkdir, stat } from 'node:fs/promises';
import { delimiter, dirname, join, resolve } from 'node:path';
import {
  AgentSettingsError,
  BuildNumberError,
  defaultAgentSettings,
  exitCodeFor,
  loadAgentSettings,
  PipelineFileError,
  PipelineSyntaxError,
  MissingTaskError,
  RunnerStateError,
  runPipeline,
  TaskDefinitionError,
  type AgentSettings,
} from '@keyless/pipeline-runner';
import { isKeylessError } from '@keyless/core';
import { parseCommandLine, UsageError } from '../usage';
import type { CommandContext } from '../command';
import { builtExtensionTasks } from '../extension-tasks';

export const pipelineHelp = `keyless pipeline — run an azure-pipelines.yml on this machine the way Azure Pipelines does.

Usage: keyless pipeline run [PIPELINE.yml] [options]      (default ./azure-pipelines.yml)

Stages, jobs and steps run with Azure's scheduling, condition and result rules (dependsOn, succeeded(),
always(), continueOnError, timeouts, output variables across jobs and stages), and every task step runs the
real built task (node <task>/index.js) with the agent's inputs, environment, logging commands and secret
masking. bash: and script: steps run with the local bash. Sources are used in place, not cloned.
The masked log goes to stdout and <work>/<build id>/run.log; the run record (per step: task and version,
inputs, redacted environment, commands, variables, outputs, issues, result) to <work>/<build id>/run.json.
Ctrl-C cancels the run like the Cancel button: running steps get SIGINT and later steps run only if their
condition allows it (always()); a second Ctrl-C stops at once.

Options:
  --agent FILE         agent settings (YAML/JSON): collectionUri, teamProject, teamProjectId, accessToken,
                       serviceConnections, variableGroups, environment, agentName
                       (default ./.keyless/agent.yml if it exists, else a private local organisation)
  --tasks DIR          a folder of built task folders, each with a task.json (repeatable; default: the built
                       extension, packages/azure-pipelines/dist/tasks, plus the folders in KEYLESS_TASKS_DIR)
  --var NAME=VALUE     a queue-time variable (repeatable); wins over the YAML's variables
  --sources DIR        the repository the steps work in (default: the pipeline file's folder)
  --work-dir DIR       the agent work folder (default ./.keyless/pipeline)
  --branch BRANCH      Build.SourceBranch, e.g. main or refs/heads/release/1 (default: the checked-out branch)
  --reason REASON      Build.Reason (default Manual)
  --debug              System.Debug=true: tasks' debug output is shown
  --time-scale N       timeoutInMinutes last 1/N as long, to rehearse timeouts (default 1)
  --record FILE        also copy the run record (run.json) to FILE

Exit codes: 0 the run succeeded (or partially succeeded), 1 it failed or was canceled,
2 usage error, invalid pipeline or invalid agent settings.

Examples:
  keyless pipeline run
  keyless pipeline run ci/azure-pipelines.yml --agent .keyless/agent.yml --var environment=staging
  keyless pipeline run --branch release/1.2 --debug --record out/run.json
  keyless pipeline run deploy.yml --tasks ../my-extension/dist/tasks --work-dir /tmp/agent`;

const runFlags = {
  agent: { type: 'string' },
  tasks: { type: 'string', multiple: true },
  var: { type: 'string', multiple: true },
  sources: { type: 'string' },
  'work-dir': { type: 'string' },
  branch: { type: 'string' },
  reason: { type: 'string' },
  debug: { type: 'boolean' },
  'time-scale': { type: 'string' },
  record: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Problems with what the user gave us (pipeline, settings, tasks): usage-class failures, exit code 2. */
const inputErrors = [
  PipelineSyntaxError,
  PipelineFileError,
  AgentSettingsError,
  BuildNumberError,
  RunnerStateError,
  TaskDefinitionError,
  MissingTaskError,
] as const;

export async function runPipelineCommand(argv: string[], context: CommandContext): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    context.stdout(`${pipelineHelp}\n`);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'run') throw new UsageError(`Unknown subcommand "${sub}"; use run.`, 'pipeline');

  const { values, positionals } = parseCommandLine('pipeline run', rest, runFlags, true);
  if (values.help) {
    context.stdout(`${pipelineHelp}\n`);
    return 0;
  }
  if (positionals.length > 1) {
    throw new UsageError(
      `Give one pipeline file, got ${positionals.length}: ${positionals.join(' ')}.`,
      'pipeline',
    );
  }
  const pipelineFile = resolve(context.cwd, positionals[0] ?? 'azure-pipelines.yml');
  const variables = queueTimeVariables(values.var ?? []);
  const timeScale = values['time-scale'] === undefined ? undefined : Number(values['time-scale']);
  if (timeScale !== undefined && !(timeScale > 0)) {
    throw new UsageError(
      `--time-scale must be a positive number, got "${values['time-scale']}".`,
      'pipeline',
    );
  }
  const reporter = context.reporter();

  const controller = new AbortController();
  // Taking over Ctrl-C: the first one cancels gracefully. processContext listens only once, so a second
  // Ctrl-C meets Node's default handler and ends the process at once.
  void context.interrupted().then((signal) => {
    reporter.warn(`keyless pipeline: ${signal} received, canceling the run (Ctrl-C again stops at once).`);
    controller.abort();
  });

  try {
    const agent = await agentSettings(values.agent, context);
    const taskDirectories = await taskFolders(values.tasks, context);
    const record = await runPipeline({
      pipelineFile,
      agent,
      taskDirectories,
      sourcesDirectory: values.sources === undefined ? undefined : resolve(context.cwd, values.sources),
      workDirectory: resolve(context.cwd, values['work-dir'] ?? join('.keyless', 'pipeline')),
      variables,
      branch: values.branch,
      reason: values.reason,
      debug: values.debug ?? false,
      write: (line) => context.stdout(`${line}\n`),
      signal: controller.signal,
      env: context.env,
      timeScale,
    });
    if (values.record !== undefined) {
      const target = resolve(context.cwd, values.record);
      await mkdir(dirname(target), { recursive: true });
      await copyFile(record.recordFile, target);
    }
    return exitCodeFor(record.result);
  } catch (error) {
    if (isKeylessError(error) && inputErrors.some((type) => error instanceof type)) {
      reporter.error(error.toUserText());
      return 2;
    }
    throw error;
  }
}

function queueTimeVariables(pairs: string[]): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    const name = equals < 0 ? '' : pair.slice(0, equals).trim();
    if (!name) throw new UsageError(`--var needs NAME=VALUE, got "${pair}".`, 'pipeline');
    variables[name] = pair.slice(equals + 1);
  }
  return variables;
}

async function agentSettings(file: string | undefined, context: CommandContext): Promise<AgentSettings> {
  if (file !== undefined) return loadAgentSettings(resolve(context.cwd, file));
  const conventional = resolve(context.cwd, '.keyless', 'agent.yml');
  return (await exists(conventional)) ? loadAgentSettings(conventional) : defaultAgentSettings();
}

async function taskFolders(given: string[] | undefined, context: CommandContext): Promise<string[]> {
  if (given && given.length > 0) {
    const folders = given.map((folder) => resolve(context.cwd, folder));
    for (const folder of folders) {
      if (!(await isDirectory(folder))) {
        throw new UsageError(`--tasks ${folder} is not a folder.`, 'pipeline');
      }
    }
    return folders;
  }
  const folders: string[] = [];
  const builtIn = await builtExtensionTasks();
  if (builtIn) folders.push(builtIn);
  for (const folder of (context.env['KEYLESS_TASKS_DIR'] ?? '').split(delimiter).filter(Boolean)) {
    const path = resolve(context.cwd, folder);
    if (await isDirectory(path)) folders.push(path);
  }
  if (folders.length === 0) {
    context
      .reporter()
      .warn(
        'keyless pipeline: no built tasks found (run `npm run build`, or pass --tasks); only bash/script steps can run.',
      );
  }
  return folders;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isDirectory(),
    () => false,
  );
}
