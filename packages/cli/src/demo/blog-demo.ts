import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  BatchGetDeploymentTargetsCommand,
  CodeDeployClient,
  ListDeploymentTargetsCommand,
} from '@aws-sdk/client-codedeploy';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  buildClientConfig,
  KeylessError,
  resolveCredentials,
  type Reporter,
  type ResolvedCredentials,
} from '@keyless/core';
import {
  parseAgentSettings,
  runPipeline,
  type AgentSettings,
  type RunRecord,
  type StepRecord,
} from '@keyless/pipeline-runner';
import { loadSandboxConfig, startSandbox, type RunningSandbox } from '@keyless/sandbox';
import { startTraffic, type TrafficReport } from './traffic';

const run = promisify(execFile);

export interface BlogDemoOptions {
  /** examples/sample-app: the pipeline, template, site, sandbox.yml and agent.yml. */
  sampleDirectory: string;
  /** The built extension's task folders. */
  tasksDirectory: string;
  /** Wiped and recreated: the simulated repository, the agent's work folder and the sandbox's data. */
  workDirectory: string;
  reporter: Reporter;
  /** One line of progress or story. */
  say(line: string): void;
  /** Sandbox speed-up: hooks, health checks and the blue fleet's termination wait pass this much faster. */
  timeScale?: number;
  /** Also push a v3 whose ValidateService hook fails, and show that v2 keeps serving. */
  failingV3?: boolean;
  /** Test hook: every secret the sandbox mints. */
  onSecret?: (value: string) => void;
  sandboxLog?: (line: string) => void;
  /** Ctrl-C: the running pipeline is canceled as the agent would (its steps get SIGINT), then all stops. */
  signal?: AbortSignal;
}

export interface InstanceFate {
  instanceId: string;
  label: 'Blue' | 'Green' | string;
  state: string;
}

export interface ReleaseOutcome {
  version: string;
  record: RunRecord;
  deploymentId?: string;
  instances: InstanceFate[];
  /** Requests made to the site while this release ran. */
  traffic: TrafficReport;
}

export interface BlogDemoResult {
  sandbox: RunningSandbox;
  /** The simulated repository (a git work tree when git is installed) and the agent settings the runs used. */
  repository: string;
  agent: AgentSettings;
  websiteUrl: string;
  releases: ReleaseOutcome[];
  identity: { roleArn?: string; accountId?: string; expiration?: string };
  servedVersion: string;
  /** Every log and record the runs wrote (for the story, and for tests to scan). */
  files: string[];
}

export class DemoFailedError extends KeylessError {
  readonly code = 'DemoFailed';
}

/**
 * The blog's system end to end: the sandbox seeded with the blog's prerequisites, the sample repository on
 * `main`, and the pipeline run by the local runner with the built tasks — once for v1 (creates the stack,
 * first blue/green deployment), once after a push of v2 (blue/green to v2 while visitors keep being served),
 * and optionally once for a broken v3 that must leave v2 serving.
 */
export async function runBlogDemo(options: BlogDemoOptions): Promise<BlogDemoResult> {
  const { say } = options;
  const work = options.workDirectory;
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });

  const config = await loadSandboxConfig(join(options.sampleDirectory, 'sandbox.yml'));
  const sandbox = await startSandbox({
    port: 0,
    config,
    timeScale: options.timeScale ?? 60,
    dataDir: join(work, 'sandbox'),
    onSecret: (value) => {
      options.reporter.registerSecret(value);
      options.onSecret?.(value);
    },
    log: options.sandboxLog,
  });
  try {
    const repo = join(work, 'repo');
    await cp(options.sampleDirectory, repo, {
      recursive: true,
      filter: (source) => !/[/\\](\.keyless|node_modules)([/\\]|$)/.test(source),
    });
    const agentText = (await readFile(join(repo, 'agent.yml'), 'utf8')).replaceAll(
      'http://127.0.0.1:4566',
      sandbox.url,
    );
    const agent = parseAgentSettings(agentText, join(repo, 'agent.yml'));
    options.reporter.registerSecret(agent.accessToken);
    say(
      `Sandbox up at ${sandbox.url} (${options.timeScale ?? 60}x time): Entra tenant ${config.azure?.tenantId}, the agent VM's managed identity, IAM OIDC provider, role ${config.iam?.roles?.[0]?.name}, bucket ${config.s3?.buckets?.[0]?.name}.`,
    );
    say(
      `Time runs ${options.timeScale ?? 60}x faster in the sandbox (hooks, health checks, the blue fleet's termination wait), so a one-hour AWS session lasts a minute here — hence AWSCredentials' warning that it would end before the job's timeout.`,
    );
    await commit(repo, 'v1: the sample application', true);

    const releases: ReleaseOutcome[] = [];
    const files: string[] = [];
    const release = async (version: string, trafficUrl?: string): Promise<ReleaseOutcome> => {
      const traffic = trafficUrl ? startTraffic(trafficUrl) : undefined;
      say(`Push to main (${version}) → pipeline run:`);
      const record = await runPipeline({
        pipelineFile: join(repo, 'azure-pipelines.yml'),
        agent,
        taskDirectories: [options.tasksDirectory],
        workDirectory: join(work, 'agent'),
        branch: 'refs/heads/main',
        reason: 'IndividualCI',
        write: progressPrinter(say),
        ...(options.signal ? { signal: options.signal } : {}),
        env: runnerEnvironment(),
      });
      files.push(record.logFile, record.recordFile);
      const report = traffic
        ? await traffic.stop()
        : { total: 0, failures: 0, versions: new Map(), samples: [] };
      const deploymentId = step(record, 'deploy')?.outputs.deploymentId;
      const outcome: ReleaseOutcome = {
        version,
        record,
        deploymentId,
        instances: [],
        traffic: report,
      };
      releases.push(outcome);
      say(`  → ${record.result} (build ${record.buildNumber}, ${(record.durationMs / 1000).toFixed(1)} s)`);
      return outcome;
    };

    const interrupted = () => {
      if (options.signal?.aborted)
        throw new DemoFailedError(
          'Interrupted: the pipeline run was canceled and everything the demo started is stopped.',
          'Run npm start again to see the whole story.',
        );
    };
    const v1 = await release('v1');
    interrupted();
    if (v1.record.result !== 'Succeeded') {
      throw new DemoFailedError(
        `The first pipeline run ended ${v1.record.result}.`,
        `Read its log: ${v1.record.logFile}`,
      );
    }
    const websiteUrl = step(v1.record, 'stack')?.outputs.WebsiteURL;
    if (!websiteUrl)
      throw new DemoFailedError('The stack published no WebsiteURL output.', `See ${v1.record.logFile}`);

    await writeFile(join(repo, 'site', 'app', 'VERSION'), 'v2\n');
    await commit(repo, 'v2: a new version of the site');
    const v2 = await release('v2', websiteUrl);
    interrupted();
    if (v2.record.result !== 'Succeeded') {
      throw new DemoFailedError(
        `The v2 pipeline run ended ${v2.record.result}.`,
        `Read its log: ${v2.record.logFile}`,
      );
    }

    if (options.failingV3) {
      await pushFailingV3(repo);
      await release('v3', websiteUrl);
      interrupted();
    }

    const credentials = await resolveDemoCredentials(sandbox, config, options.reporter);
    for (const outcome of releases) {
      if (outcome.deploymentId)
        outcome.instances = await instanceFates(sandbox, credentials, outcome.deploymentId);
    }
    const aws = step(v1.record, 'aws')?.outputs ?? {};
    return {
      sandbox,
      repository: repo,
      agent,
      websiteUrl,
      releases,
      identity: { roleArn: aws.roleArn, accountId: aws.accountId, expiration: aws.expiration },
      servedVersion: await fetchVersion(websiteUrl),
      files,
    };
  } catch (error) {
    await sandbox.close();
    throw error;
  }
}

/** What the runner (and the built CLI) get from the machine: nothing that could change what they do. */
export function runnerEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: 'C.UTF-8',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra,
  };
}

/** Commits a v3 that starts but never answers: its ValidateService hook finds nothing on the port and fails. */
export async function pushFailingV3(repo: string): Promise<void> {
  await writeFile(join(repo, 'site', 'app', 'VERSION'), 'v3\n');
  await writeFile(
    join(repo, 'site', 'app', 'server.js'),
    "'use strict';\nconsole.error('v3: configuration missing, exiting');\nprocess.exit(1);\n",
  );
  await commit(repo, 'v3: a release whose service never comes up');
}

export function step(record: RunRecord, name: string): StepRecord | undefined {
  for (const stage of record.stages)
    for (const job of stage.jobs)
      for (const candidate of job.steps) if (candidate.name === name) return candidate;
  return undefined;
}

/** The runner's log is long (every stack event); the demo shows step starts, results and problems. */
function progressPrinter(say: (line: string) => void): (line: string) => void {
  return (line) => {
    const starting = /^##\[section\]Starting: (.*)$/.exec(line);
    if (starting) return say(`   ▸ ${starting[1]}`);
    const result = /^Step result: (\S+) \((.*)\)$/.exec(line);
    if (result) return say(`     ${result[1]} in ${result[2]}`);
    // An issue may span lines (a failed deployment's diagnostics); its first sentence says what happened, and
    // the whole text is in the run's log.
    const problem = /^##\[(error|warning)\]([\s\S]*)$/.exec(line);
    if (problem) {
      say(`     ${problem[1]}: ${firstSentence(problem[2] ?? '')}`);
      for (const detail of failureGist(problem[2] ?? '')) say(`       ${detail}`);
      return;
    }
    if (
      /^Deployment d-\w+: (Ready|Succeeded|Failed|Stopped)|^Stack \S+ (created|updated)|^No changes to deploy/.test(
        line,
      )
    )
      return say(`     ${line}`);
  };
}

/** From a failed deployment's diagnostics: which hook failed, and the first thing its script said on stderr. */
export function failureGist(text: string): string[] {
  const lines = text.split('\n').map((line) => line.trim());
  const first = lines.find((line) => line.startsWith('First failure: '));
  const said = lines.find((line) => line.startsWith('[stderr]'))?.slice('[stderr]'.length);
  return [first, said && `it said: ${said}`].filter((line): line is string => Boolean(line));
}

export function firstSentence(text: string): string {
  const line = text.split('\n')[0] ?? '';
  const end = line.search(/\.(\s|$)/);
  return end > 0 && end < 240 ? line.slice(0, end + 1) : line.slice(0, 240);
}

/** A git history makes Build.SourceVersion real; without git on the machine the demo still runs. */
export async function commit(repo: string, message: string, init = false): Promise<void> {
  const git = (...args: string[]) =>
    run('git', ['-c', 'user.name=Keyless demo', '-c', 'user.email=demo@keyless.invalid', ...args], {
      cwd: repo,
    });
  try {
    if (init) await git('init', '-q', '-b', 'main');
    await git('add', '-A');
    await git('commit', '-q', '-m', message);
  } catch {
    // No git: the runner reports a zero commit id instead.
  }
}

/** The demo inspects AWS as the pipeline's own role, through the same managed-identity flow. */
async function resolveDemoCredentials(
  sandbox: RunningSandbox,
  config: Awaited<ReturnType<typeof loadSandboxConfig>>,
  reporter: Reporter,
): Promise<ResolvedCredentials> {
  const identity = config.azure?.managedIdentities[0];
  return resolveCredentials(
    {
      provider: 'azure-managed-identity',
      audience: config.azure?.resources[0],
      clientId: identity?.clientId,
      roleArn: `arn:aws:iam::${sandbox.accountId}:role/${config.iam?.roles?.[0]?.name}`,
      region: sandbox.region,
      azureImdsEndpoint: sandbox.url,
      endpoints: { default: sandbox.url },
    },
    { env: {}, reporter },
  );
}

async function instanceFates(
  sandbox: RunningSandbox,
  credentials: ResolvedCredentials,
  deploymentId: string,
): Promise<InstanceFate[]> {
  const input = { region: credentials.region, endpoints: { default: sandbox.url }, env: {} };
  const codedeploy = new CodeDeployClient({
    ...buildClientConfig('codedeploy', input),
    credentials: credentials.provider,
  });
  const ec2 = new EC2Client({ ...buildClientConfig('ec2', input), credentials: credentials.provider });
  try {
    const listed = await codedeploy.send(new ListDeploymentTargetsCommand({ deploymentId }));
    const ids = listed.targetIds ?? [];
    if (ids.length === 0) return [];
    const targets = await codedeploy.send(
      new BatchGetDeploymentTargetsCommand({ deploymentId, targetIds: ids }),
    );
    const labels = new Map<string, string>();
    for (const target of targets.deploymentTargets ?? []) {
      const instance = target.instanceTarget;
      if (instance?.targetId) labels.set(instance.targetId, instance.instanceLabel ?? '');
    }
    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [...labels.keys()] }));
    const states = new Map<string, string>();
    for (const reservation of described.Reservations ?? [])
      for (const instance of reservation.Instances ?? [])
        if (instance.InstanceId) states.set(instance.InstanceId, instance.State?.Name ?? 'unknown');
    return [...labels].map(([instanceId, label]) => ({
      instanceId,
      label,
      state: states.get(instanceId) ?? 'terminated',
    }));
  } finally {
    codedeploy.destroy();
    ec2.destroy();
  }
}

export async function fetchVersion(url: string): Promise<string> {
  const response = await fetch(`${url}/version`, { signal: AbortSignal.timeout(5000) });
  return response.ok ? (await response.text()).trim() : `HTTP ${response.status}`;
}
