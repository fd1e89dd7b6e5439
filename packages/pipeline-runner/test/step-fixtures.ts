/**
 * Test scaffolding for running single steps: a temp agent layout, a JobRuntime over it, and fixture task
 * folders (task.json + index.js) that speak plain `##vso` or the real task-lib.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Masker } from '../src/logging/masker';
import { VariableStore } from '../src/variables';
import type { VariableValue } from '../src/variables';
import { TaskCatalog } from '../src/tasks/catalog';
import type { AgentSettings } from '../src/agent-settings';
import type { JobRuntime } from '../src/run/job-runtime';
import type { TaskStep } from '../src/model';

export interface FixtureTask {
  name: string;
  id: string;
  version?: [number, number, number];
  inputs?: Array<Record<string, unknown>>;
  outputVariables?: string[];
  /** task.json `execution`; default `{ Node20_1: { target: 'index.js' } }`. */
  execution?: Record<string, { target: string; workingDirectory?: string }>;
  instanceNameFormat?: string;
  /** index.js source. */
  source?: string;
  /** Subfolder name under the tasks dir; default the task name. */
  folder?: string;
}

export async function writeTask(tasksDir: string, task: FixtureTask): Promise<string> {
  const dir = join(tasksDir, task.folder ?? task.name);
  await mkdir(dir, { recursive: true });
  const [Major, Minor, Patch] = task.version ?? [1, 0, 0];
  const json: Record<string, unknown> = {
    id: task.id,
    name: task.name,
    friendlyName: task.name,
    version: { Major, Minor, Patch },
    instanceNameFormat: task.instanceNameFormat ?? task.name,
    inputs: task.inputs ?? [],
    execution: task.execution ?? { Node20_1: { target: 'index.js' } },
  };
  if (task.outputVariables) json.outputVariables = task.outputVariables.map((name) => ({ name }));
  await writeFile(join(dir, 'task.json'), JSON.stringify(json, null, 2));
  if (task.source !== undefined) await writeFile(join(dir, 'index.js'), task.source);
  return dir;
}

export interface TestJob {
  job: JobRuntime;
  /** Every line written to the job log (already masked by the job writer). */
  lines: string[];
  /** Values passed to setBuildNumber. */
  buildNumbers: string[];
  root: string;
  tasksDir: string;
  sources: string;
  cancel: AbortController;
  /** Reloads the catalog after writing fixture tasks. */
  reloadCatalog(): Promise<void>;
  cleanup(): Promise<void>;
}

export const accessToken = 'system-access-token-value-42';

export async function createTestJob(
  options: { variables?: VariableValue[]; agent?: Partial<AgentSettings>; agentEnv?: NodeJS.ProcessEnv } = {},
): Promise<TestJob> {
  const root = await mkdtemp(join(tmpdir(), 'keyless-step-'));
  const dirs = {
    work: join(root, 'work'),
    build: join(root, 'work', '1'),
    sources: join(root, 'work', '1', 's'),
    temp: join(root, 'work', '_temp'),
    staging: join(root, 'work', '1', 'a'),
    binaries: join(root, 'work', '1', 'b'),
    files: join(root, 'work', '1', 'files'),
  };
  for (const dir of Object.values(dirs)) await mkdir(dir, { recursive: true });
  const tasksDir = join(root, 'tasks');
  await mkdir(tasksDir);

  const variables = new VariableStore([
    { name: 'Build.SourcesDirectory', value: dirs.sources, secret: false, readonly: true },
    { name: 'System.DefaultWorkingDirectory', value: dirs.sources, secret: false, readonly: true },
    { name: 'Agent.TempDirectory', value: dirs.temp, secret: false, readonly: true },
    { name: 'Build.BuildNumber', value: '20260115.1', secret: false, readonly: true },
    { name: 'System.AccessToken', value: accessToken, secret: true, readonly: true },
    ...(options.variables ?? []),
  ]);
  const masker = new Masker();
  const lines: string[] = [];
  const cancel = new AbortController();
  const buildNumbers: string[] = [];
  const agent: AgentSettings = {
    collectionUri: 'http://127.0.0.1:4566/contoso/',
    teamProject: 'demo',
    teamProjectId: '11111111-2222-3333-4444-555555555555',
    accessToken,
    serviceConnections: [],
    variableGroups: {},
    environment: {},
    ...options.agent,
  };
  const job: JobRuntime = {
    stageName: '__default',
    jobName: 'Job',
    variables,
    outputs: new Map(),
    masker,
    pathPrepends: [],
    directories: dirs,
    agent,
    agentEnv: options.agentEnv ?? { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: root },
    catalog: await TaskCatalog.load([tasksDir]),
    write: (line) => lines.push(masker.mask(line)),
    signal: cancel.signal,
    buildTags: [],
    setBuildNumber: (value) => buildNumbers.push(value),
  };
  return {
    job,
    lines,
    buildNumbers,
    root,
    tasksDir,
    sources: dirs.sources,
    cancel,
    async reloadCatalog() {
      job.catalog = await TaskCatalog.load([tasksDir]);
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

export function taskStep(
  task: string,
  inputs: Record<string, string> = {},
  extra: Partial<TaskStep> = {},
): TaskStep {
  return {
    kind: 'task',
    name: 'step1',
    named: true,
    continueOnError: false,
    enabled: true,
    env: {},
    path: 'steps[0]',
    task,
    inputs,
    ...extra,
  };
}
