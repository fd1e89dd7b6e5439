/**
 * `runPipeline`: one local run of an azure-pipelines.yml, playing both the Azure DevOps server (build id
 * and number, stage/job scheduling, conditions, output plumbing) and the agent (folders, variables, steps),
 * and leaving a masked log (`run.log`) and run record (`run.json`) in `<work>/<build id>/`.
 */
import { randomUUID } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import type { AgentSettings } from '../agent-settings';
import { Masker } from '../logging/masker';
import type { StageOutcome } from '../model';
import { loadPipelineFile } from '../pipeline/load';
import { TaskCatalog } from '../tasks/catalog';
import { registerStepSecrets } from '../tasks/environment';
import { allocateBuild, checkBuildNumber, defaultBuildNumberFormat } from './build-number';
import type { RunContext } from './context';
import { createRunDirectories } from './directories';
import { readSourceInfo } from './git';
import { RunLog } from './log';
import { localUser, qualifiedBranch, sourceBranchName } from './predefined-variables';
import { countSteps, maskedRecord, writeRunRecord, type RunRecord } from './record';
import { mergeResult, rollUp } from './results';
import { SlotPool, runGraph } from './schedule';
import { checkTaskReferences } from './task-check';
import { runStage, type StageRun } from './stage';
import { plural, renderSummary } from './summary';
import { ciTriggerVerdict } from './trigger';

export interface RunPipelineOptions {
  /** Absolute path of the pipeline YAML. */
  pipelineFile: string;
  agent: AgentSettings;
  /** Folders holding built task folders (each with a task.json). */
  taskDirectories: string[];
  /** The "checked out" repository, used in place; default: the pipeline file's folder. */
  sourcesDirectory?: string;
  /** The agent work folder; each run gets `<work>/<build id>/`. */
  workDirectory: string;
  /** Queue-time variables; they win over YAML. */
  variables?: Record<string, string>;
  /** Build.SourceBranch; default refs/heads/<checked-out branch, else main>. */
  branch?: string;
  /** Build.Reason; default Manual. */
  reason?: string;
  /** System.Debug. */
  debug?: boolean;
  /** Receives every log line, masked (default: stdout). */
  write?: (line: string) => void;
  /** Cancels the run: running steps are interrupted, later ones run only if their condition allows. */
  signal?: AbortSignal;
  /** The runner's own environment (default process.env); AgentSettings.environment goes on top. */
  env?: NodeJS.ProcessEnv;
  /** Timeouts (`timeoutInMinutes`) last 1/N as long, to rehearse them quickly (default 1). */
  timeScale?: number;
}

/** Jobs that may run at the same time (the local "agent pool"). */
export const jobConcurrency = 2;

export async function runPipeline(options: RunPipelineOptions): Promise<RunRecord> {
  const startedAt = new Date();
  const pipelineFile = resolve(options.pipelineFile);
  const overrides = options.variables ?? {};
  const agent = options.agent;
  const workDirectory = resolve(options.workDirectory);
  const sources = resolve(options.sourcesDirectory ?? dirname(pipelineFile));
  const source = await readSourceInfo(sources);
  const sourceBranch = qualifiedBranch(options.branch ?? source.branch ?? 'main');
  const definitionName = basename(dirname(pipelineFile));
  const env = options.env ?? process.env;
  const reason = options.reason ?? 'Manual';
  // What the server knows when it compiles the YAML; Agent.* and folders come later, on the agent.
  const compileTime: Record<string, string> = {
    'Build.DefinitionName': definitionName,
    'Build.Reason': reason,
    'Build.SourceBranch': sourceBranch,
    'Build.SourceBranchName': sourceBranchName(sourceBranch),
    'Build.SourceVersion': source.commit,
    'Build.Repository.Name': source.repositoryName,
    'Build.RequestedFor': localUser(env),
    'System.TeamProject': agent.teamProject,
    'System.TeamProjectId': agent.teamProjectId,
  };
  const pipeline = await loadPipelineFile(pipelineFile, {
    variableGroups: agent.variableGroups,
    overrides,
    predefined: compileTime,
  });
  const catalog = await TaskCatalog.load(options.taskDirectories);
  checkTaskReferences(pipeline, catalog, pipelineFile);

  const format = pipeline.name?.trim() || defaultBuildNumberFormat;
  const { buildId, buildNumber } = await allocateBuild(
    workDirectory,
    pipelineFile,
    format,
    startedAt,
    (id) => {
      const values = new Map<string, string>();
      for (const declaration of pipeline.variables)
        values.set(declaration.name.toLowerCase(), declaration.value);
      for (const [name, value] of Object.entries(overrides)) values.set(name.toLowerCase(), value);
      for (const [name, value] of Object.entries({ ...compileTime, 'Build.BuildId': String(id) }))
        values.set(name.toLowerCase(), value);
      return (name) => values.get(name.toLowerCase());
    },
  );

  const directories = await createRunDirectories(workDirectory, String(buildId), sources);
  const masker = new Masker();
  // Before the first line is written: the token and every secret endpoint parameter (as the agent does).
  registerStepSecrets(masker, [], agent.serviceConnections, agent.accessToken);
  const sink = options.write ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const log = new RunLog(join(directories.build, 'run.log'), sink, masker);
  const signal = options.signal ?? new AbortController().signal;
  const trigger = ciTriggerVerdict(pipeline.trigger, sourceBranch);
  const context: RunContext = {
    pipeline,
    facts: {
      buildId,
      buildNumber,
      definitionName,
      reason,
      sourceBranch,
      sourceVersion: source.commit,
      repositoryName: source.repositoryName,
      requestedFor: localUser(env),
      planId: randomUUID(),
      debug: options.debug ?? false,
      agent,
      directories,
    },
    directories,
    agent,
    agentEnv: { ...env, ...agent.environment },
    catalog,
    masker,
    log,
    signal,
    buildTags: [],
    overrides,
    slots: new SlotPool(jobConcurrency),
    minuteMs: 60_000 / (options.timeScale && options.timeScale > 0 ? options.timeScale : 1),
    setBuildNumber: (value) => {
      const number = value.trim();
      checkBuildNumber(number, 'build.updatebuildnumber');
      context.facts.buildNumber = number;
      log.write(`Build number changed to ${number}.`);
    },
  };

  try {
    log.write(`##[section]Pipeline ${pipelineFile}`);
    log.write(
      `Build ${buildNumber} (id ${buildId}) · ${sourceBranch} @ ${source.commit.slice(0, 12)} · reason ${context.facts.reason}`,
    );
    log.write(`CI trigger: ${trigger.wouldRun ? 'would run' : 'would not run'} (${trigger.reason}).`);
    log.write(
      `Agent ${agent.agentName ?? 'keyless-local'} · work folder ${workDirectory} · sources ${sources} · ` +
        `${plural(catalog.list().length, 'task')} installed · up to ${jobConcurrency} jobs at once`,
    );

    const finished = await runGraph<StageRun>(pipeline.stages, async (node, done) => {
      const stage = pipeline.stages.find((candidate) => candidate.name === node.name)!;
      const outcomes = new Map<string, StageOutcome>(
        [...done].map(([name, stageRun]) => [name, stageRun.outcome]),
      );
      return runStage(context, stage, outcomes);
    });
    const stages: StageRun[] = pipeline.stages.map((stage) => finished.get(stage.name)!);
    let result = rollUp(stages.map((stage) => stage.outcome.result));
    if (signal.aborted) result = mergeResult(result, 'Canceled');

    const finishedAt = new Date();
    const stageRecords = stages.map((stage) => stage.record);
    // Masked as a whole with every secret the run ended up knowing: display names, inputs and messages
    // may hold a value that only became secret later in the run.
    const record: RunRecord = maskedRecord(masker, {
      runId: String(buildId),
      buildNumber: context.facts.buildNumber,
      pipeline: pipelineFile,
      result,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - startedAt.getTime(),
      source: {
        branch: sourceBranch,
        version: source.commit,
        reason: context.facts.reason,
        ciTrigger: trigger,
      },
      stages: stageRecords,
      buildTags: [...context.buildTags],
      counts: countSteps(stageRecords),
      recordFile: join(directories.build, 'run.json'),
      logFile: log.file,
    });
    log.write('');
    for (const line of renderSummary(record)) log.write(line);
    await writeRunRecord(record);
    return record;
  } finally {
    log.close();
  }
}
