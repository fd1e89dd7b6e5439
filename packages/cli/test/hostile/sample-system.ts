// The hostile suite's copy of the blog's system: the sample's sandbox.yml (plus root keys, so the tests can
// inspect AWS themselves), a git repository holding a copy of examples/sample-app, agent settings pointing at
// the sandbox, and the local runner with the built tasks — as packages/cli/src/demo/blog-demo.ts sets it up,
// but with the knobs the hostile tests turn (faults, time scale, session caps, slow hooks, pipeline variants).
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CloudFormationClient, ListStacksCommand, type StackSummary } from '@aws-sdk/client-cloudformation';
import {
  BatchGetDeploymentsCommand,
  CodeDeployClient,
  GetDeploymentCommand,
  ListDeploymentsCommand,
  type DeploymentInfo,
} from '@aws-sdk/client-codedeploy';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import {
  parseAgentSettings,
  runPipeline,
  type AgentSettings,
  type RunRecord,
} from '@keyless/pipeline-runner';
import { loadSandboxConfig, startSandbox, type FaultRule, type RunningSandbox } from '@keyless/sandbox';
import { builtExtensionTasks } from '../../src/extension-tasks';
import { commit, fetchVersion, runnerEnvironment } from '../../src/demo/blog-demo';

export { runnerEnvironment };

// The demo's own helpers: a hostile run commits and checks the site exactly as `npm start` does.
export { commit, fetchVersion };
import type { HostileCollector } from './collector';

export const sampleDirectory = fileURLToPath(new URL('../../../../examples/sample-app/', import.meta.url));
export const cliBundle = fileURLToPath(new URL('../../dist/keyless.mjs', import.meta.url));

export const stackName = 'aws-sample-app';
export const applicationName = 'aws-toolkit-for-azure-devops';
export const deploymentGroupName = 'my-sample-bg-deployment-group';

/** A positive integer from the environment, else the fallback. */
export function envInteger(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

export interface SampleSystemOptions {
  /** Temp folder prefix, and the label of what is collected. */
  label: string;
  collector: HostileCollector;
  /** Sandbox speed-up (default 60, as `npm start`). */
  timeScale?: number;
  maxSessionSeconds?: number;
  faults?: FaultRule[];
  faultSeed?: number;
  /** Edits to the repository copy before its first commit (slow hooks, pipeline variants). */
  prepare?: (repo: string) => Promise<void>;
}

export interface SampleRunOptions {
  /** A pipeline file in the repository (default azure-pipelines.yml). */
  pipeline?: string;
  variables?: Record<string, string>;
  signal?: AbortSignal;
  write?: (line: string) => void;
}

export interface SampleSystem {
  sandbox: RunningSandbox;
  work: string;
  repo: string;
  agent: AgentSettings;
  /** The agent settings as a file, for `keyless pipeline run --agent`. */
  agentFile: string;
  /** The agent work folder every run of this system uses. */
  agentWork: string;
  tasksDirectory: string;
  sandboxLog: string[];
  cloudformation: CloudFormationClient;
  codedeploy: CodeDeployClient;
  run(options?: SampleRunOptions): Promise<RunRecord>;
  /** Writes site/app/VERSION and commits: a push to main. */
  pushVersion(version: string): Promise<void>;
  /** Every deployment of the sample's group, oldest first (root keys; the sandbox's faults should be off). */
  deployments(): Promise<DeploymentInfo[]>;
  /** Stacks named aws-sample-app that are not deleted. */
  liveStacks(): Promise<StackSummary[]>;
  waitForDeployment(deploymentId: string, timeoutMs: number): Promise<DeploymentInfo>;
  /** Hands every output to the collector, stops the sandbox (and its instances) and removes the temp folder. */
  close(): Promise<void>;
}

export async function startSampleSystem(options: SampleSystemOptions): Promise<SampleSystem> {
  const { collector } = options;
  const tasksDirectory = await builtExtensionTasks();
  if (!tasksDirectory) throw new Error('The extension is not built: run `npm run build` first.');
  const work = await mkdtemp(join(tmpdir(), `keyless-hostile-${options.label}-`));
  const repo = join(work, 'repo');
  const agentWork = join(work, 'agent');
  await mkdir(agentWork, { recursive: true });

  const config = await loadSandboxConfig(join(sampleDirectory, 'sandbox.yml'));
  const root = {
    accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64url'),
  };
  config.rootCredentials = [root];
  collector.addSecret(root.secretAccessKey);
  collector.addSecret(config.azureDevOps?.accessToken);
  collector.addSecret(config.github?.requestToken);

  const sandboxLog: string[] = [];
  const sandbox = await startSandbox({
    port: 0,
    config,
    timeScale: options.timeScale ?? 60,
    ...(options.maxSessionSeconds !== undefined ? { maxSessionSeconds: options.maxSessionSeconds } : {}),
    ...(options.faults ? { faults: options.faults } : {}),
    ...(options.faultSeed !== undefined ? { faultSeed: options.faultSeed } : {}),
    dataDir: join(work, 'sandbox'),
    onSecret: (value) => collector.addSecret(value),
    log: (line) => sandboxLog.push(line),
  });

  const clientConfig = {
    region: sandbox.region,
    endpoint: sandbox.url,
    credentials: root,
    maxAttempts: 8,
  };
  const cloudformation = new CloudFormationClient(clientConfig);
  const codedeploy = new CodeDeployClient(clientConfig);

  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    cloudformation.destroy();
    codedeploy.destroy();
    await sandbox.close();
    collector.addText(`${options.label}: sandbox log`, sandboxLog.join('\n'));
    await collector.addRunnerOutputs(agentWork);
    await rm(work, { recursive: true, force: true });
  };

  try {
    await cp(sampleDirectory, repo, {
      recursive: true,
      filter: (source) => !/[/\\](\.keyless|node_modules)([/\\]|$)/.test(source),
    });
    const agentText = (await readFile(join(repo, 'agent.yml'), 'utf8')).replaceAll(
      'http://127.0.0.1:4566',
      sandbox.url,
    );
    const agentFile = join(work, 'agent.yml');
    await writeFile(agentFile, agentText);
    const agent = parseAgentSettings(agentText, agentFile);
    collector.addSecret(agent.accessToken);
    await options.prepare?.(repo);
    await commit(repo, 'v1: the sample application', true);

    const system: SampleSystem = {
      sandbox,
      work,
      repo,
      agent,
      agentFile,
      agentWork,
      tasksDirectory,
      sandboxLog,
      cloudformation,
      codedeploy,
      async run(runOptions = {}) {
        const record = await runPipeline({
          pipelineFile: join(repo, runOptions.pipeline ?? 'azure-pipelines.yml'),
          agent,
          taskDirectories: [tasksDirectory],
          workDirectory: agentWork,
          branch: 'refs/heads/main',
          reason: 'IndividualCI',
          variables: runOptions.variables ?? {},
          write: runOptions.write ?? (() => undefined),
          ...(runOptions.signal ? { signal: runOptions.signal } : {}),
          env: runnerEnvironment(),
        });
        return record;
      },
      async pushVersion(version) {
        await writeFile(join(repo, 'site', 'app', 'VERSION'), `${version}\n`);
        await commit(repo, `${version}: a new version of the site`);
      },
      async deployments() {
        const ids: string[] = [];
        let nextToken: string | undefined;
        do {
          const page = await codedeploy.send(
            new ListDeploymentsCommand({ applicationName, deploymentGroupName, nextToken }),
          );
          ids.push(...(page.deployments ?? []));
          nextToken = page.nextToken;
        } while (nextToken);
        const infos: DeploymentInfo[] = [];
        for (let i = 0; i < ids.length; i += 25) {
          const batch = await codedeploy.send(
            new BatchGetDeploymentsCommand({ deploymentIds: ids.slice(i, i + 25) }),
          );
          infos.push(...(batch.deploymentsInfo ?? []));
        }
        return infos.sort((a, b) => (a.createTime?.getTime() ?? 0) - (b.createTime?.getTime() ?? 0));
      },
      async liveStacks() {
        const stacks: StackSummary[] = [];
        let nextToken: string | undefined;
        do {
          const page = await cloudformation.send(new ListStacksCommand({ NextToken: nextToken }));
          stacks.push(...(page.StackSummaries ?? []));
          nextToken = page.NextToken;
        } while (nextToken);
        return stacks.filter(
          (stack) => stack.StackName === stackName && stack.StackStatus !== 'DELETE_COMPLETE',
        );
      },
      async waitForDeployment(deploymentId, timeoutMs) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const info =
            (await codedeploy.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo ?? {};
          if (['Succeeded', 'Failed', 'Stopped'].includes(info.status ?? '')) return info;
          if (Date.now() > deadline)
            throw new Error(`${deploymentId} is still ${info.status} after ${timeoutMs} ms`);
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      },
      close,
    };
    return system;
  } catch (error) {
    await close();
    throw error;
  }
}

export async function installSlowHook(repo: string, delayFile: string, timeoutSeconds = 3600): Promise<void> {
  const hook = join(repo, 'site', 'scripts', 'before_install.sh');
  const script = await readFile(hook, 'utf8');
  const quoted = `'${delayFile.replaceAll("'", "'\\''")}'`;
  await writeFile(
    hook,
    script.replace(
      'set -euo pipefail\n',
      `set -euo pipefail\n# Hostile test: a slow release, to have time to interrupt or outlast things.\nsleep "$(cat ${quoted} 2>/dev/null || echo 0)"\n`,
    ),
  );
  const appspecFile = join(repo, 'site', 'appspec.yml');
  const appspec = await readFile(appspecFile, 'utf8');
  const slowed = appspec.replace(
    /(BeforeInstall:\n\s+- location: scripts\/before_install\.sh\n\s+timeout: )\d+/,
    `$1${timeoutSeconds}`,
  );
  if (slowed === appspec) throw new Error('appspec.yml no longer has the BeforeInstall hook this test slows');
  await writeFile(appspecFile, slowed);
}

/**
 * Writes a copy of the sample pipeline with some steps' inputs changed (by step name), e.g.
 * `{ deploy: { stopOnCancel: true } }`; `null` removes an input. `dropSteps` removes steps by name.
 */
export async function writePipelineVariant(
  repo: string,
  file: string,
  inputs: Record<string, Record<string, string | boolean | null>>,
  dropSteps: string[] = [],
): Promise<void> {
  const pipeline = parseYaml(await readFile(join(repo, 'azure-pipelines.yml'), 'utf8')) as {
    jobs: Array<{ steps: Array<{ name?: string; inputs?: Record<string, unknown> }> }>;
  };
  const seen = new Set<string>();
  for (const job of pipeline.jobs) {
    job.steps = job.steps.filter((step) => !dropSteps.includes(step.name ?? ''));
    for (const step of job.steps) {
      const changes = step.name === undefined ? undefined : inputs[step.name];
      if (!changes || !step.inputs) continue;
      seen.add(step.name!);
      for (const [key, value] of Object.entries(changes)) {
        if (value === null) delete step.inputs[key];
        else step.inputs[key] = value;
      }
    }
  }
  const missing = Object.keys(inputs).filter((name) => !seen.has(name));
  if (missing.length > 0) throw new Error(`The sample pipeline has no step named ${missing.join(', ')}`);
  await writeFile(join(repo, file), stringifyYaml(pipeline));
}

/** Deployments that overlapped in time: each must be created no earlier than the previous one completed. */
export function overlaps(deployments: DeploymentInfo[]): string[] {
  const problems: string[] = [];
  for (let i = 1; i < deployments.length; i++) {
    const previous = deployments[i - 1]!;
    const current = deployments[i]!;
    const ended = previous.completeTime?.getTime();
    const started = current.createTime?.getTime();
    if (ended === undefined || started === undefined || started < ended) {
      problems.push(
        `${current.deploymentId} (created ${current.createTime?.toISOString()}) overlaps ${previous.deploymentId} (completed ${previous.completeTime?.toISOString() ?? 'never'})`,
      );
    }
  }
  return problems;
}

/** The log's tail, for assertion messages. */
export async function logTail(record: RunRecord, lines = 60): Promise<string> {
  const text = await readFile(record.logFile, 'utf8').catch(() => '(no log)');
  return text.split('\n').slice(-lines).join('\n');
}

/** This machine's addresses other than loopback (and link-local IPv6, which needs a scope to connect). */
export function outsideAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((address) => address !== undefined && !address.internal && !address.address.startsWith('fe80:'))
    .map((address) => address!.address);
}

/** 'connected', 'timeout' or the connection error's code (ECONNREFUSED for a port nobody listens on there). */
export function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 3000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}
