// AWS API calls for one full release of the sample (examples/sample-app), counted from the sandbox's request log
// (one line per request, `service:Operation`), and how soon each side noticed the deployment's end.
//  - Keyless: `npm start`'s system (runBlogDemo: the sample pipeline through the local runner with the built
//    tasks, sandbox at timeScale 60). v1 creates everything; the release counted is v2's: credentials, a
//    CloudFormation update with no changes, the bundle upload and a blue/green CodeDeploy deployment watched to
//    its end (green instances, reroute, the blue fleet's 5-minute termination wait).
//  - Peer, measured in the same run against the same sandbox: the AWS Toolkit for Azure DevOps' flow for the
//    same release (its CloudFormationCreateOrUpdateStack and CodeDeployDeployApplication tasks as they are
//    documented, after the blog's Bash@3 credential step), driven with the SDK v3 clients:
//    AssumeRoleWithWebIdentity; DescribeStacks, UpdateStack ("No updates are to be performed"), DescribeStacks
//    for the outputs; GetApplication, GetDeploymentGroup, the upload, CreateDeployment, then the
//    deploymentSuccessful waiter at the toolkit's fixed 15 s interval (SDK v2's waiter; SDK v3's with
//    minDelay = maxDelay = 15 s behaves the same).
//  - Also, for a real ~10-minute release: core's watcher on simulated time against a scripted AWS timeline
//    (watchRealRelease), plus the fixed calls measured above, against the toolkit's waiter over the same minutes.
// Target: fewer calls than the peer while noticing completion sooner.
// Run: node --import tsx bench/api-calls-per-deployment.ts   (after `npm run build`: the tasks must be built)
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudFormationClient,
  DescribeStacksCommand,
  UpdateStackCommand,
} from '@aws-sdk/client-cloudformation';
import {
  CodeDeployClient,
  CreateDeploymentCommand,
  GetApplicationCommand,
  GetDeploymentGroupCommand,
  waitUntilDeploymentSuccessful,
} from '@aws-sdk/client-codedeploy';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { bundleWorkspace, MemoryReporter } from '../packages/core/src/index';
import { createCodeDeployEngine } from '../packages/core/src/codedeploy/context';
import { watchDeployment } from '../packages/core/src/codedeploy/watch';
import { FakeClock } from '../packages/core/test/support/fake-clock';
import { runBlogDemo } from '../packages/cli/src/demo/blog-demo';
import { builtExtensionTasks } from '../packages/cli/src/extension-tasks';
import { printResult, repoRoot } from './lib';

const sample = join(repoRoot, 'examples/sample-app');
const region = 'us-east-1';

interface Logged {
  at: number;
  line: string;
}

/** `service:Operation` of a request line (S3's REST requests read `s3:PUT`, `s3:HEAD`…); undefined for others. */
function awsOperation(line: string): string | undefined {
  return /^(?:GET|PUT|POST|HEAD|DELETE) \S+ ([a-z0-9-]+:[A-Za-z0-9-]+)/.exec(line)?.[1];
}

function count(lines: Logged[], from: number, to: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { at, line } of lines) {
    if (at < from || at > to) continue;
    const operation = awsOperation(line);
    if (operation) counts.set(operation, (counts.get(operation) ?? 0) + 1);
  }
  return new Map([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

const sum = (counts: Map<string, number>) => [...counts.values()].reduce((a, b) => a + b, 0);
const seconds = (ms: number) => Math.round(ms / 10) / 100;

/** When the sandbox logged the deployment's end (its own clock is real time; see Clock). */
function completedAt(lines: Logged[], deploymentId: string): number {
  const done = lines.find(({ line }) =>
    new RegExp(`^codedeploy ${deploymentId} (Succeeded|Failed|Stopped)`).test(line),
  );
  if (!done) throw new Error(`the sandbox never logged the end of ${deploymentId}`);
  return done.at;
}

interface Release {
  counts: Map<string, number>;
  calls: number;
  /** Release start to the moment the deploying side knew the deployment had ended. */
  durationS: number;
  /** The deployment's end (sandbox) to the moment the deploying side knew. */
  noticedAfterS: number;
  /** CreateDeployment to the deployment's end, as the sandbox ran it. */
  deploymentS: number;
  /** GetDeployment calls made while waiting. */
  statusChecks: number;
}

/**
 * The AWS Toolkit's flow for the same release (its two tasks' documented calls), after the blog's credential step,
 * as one side's client calls: every call goes to the same sandbox and is counted from its log.
 */
async function toolkitRelease(
  url: string,
  repository: string,
  lines: Logged[],
  settings: { audience: string; clientId: string; roleArn: string; bucket: string },
): Promise<Release> {
  const started = Date.now();
  // The blog's Bash@3 step: curl to the Azure IMDS endpoint, then `aws sts assume-role-with-web-identity`.
  const tokenUrl = new URL('/metadata/identity/oauth2/token', url);
  tokenUrl.search = new URLSearchParams({
    'api-version': '2018-02-01',
    resource: settings.audience,
    client_id: settings.clientId,
  }).toString();
  const token = (
    (await (await fetch(tokenUrl, { headers: { Metadata: 'true' } })).json()) as {
      access_token: string;
    }
  ).access_token;
  const sts = new STSClient({ region, endpoint: url });
  const assumed = await sts.send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: settings.roleArn,
      RoleSessionName: 'AWSAssumeRole',
      WebIdentityToken: token,
    }),
  );
  sts.destroy();
  const credentials = {
    accessKeyId: assumed.Credentials!.AccessKeyId!,
    secretAccessKey: assumed.Credentials!.SecretAccessKey!,
    sessionToken: assumed.Credentials!.SessionToken!,
  };
  const common = { region, endpoint: url, credentials };

  // CloudFormationCreateOrUpdateStack: DescribeStacks, UpdateStack ("No updates" is success), outputs.
  const cfn = new CloudFormationClient(common);
  await cfn.send(new DescribeStacksCommand({ StackName: 'aws-sample-app' }));
  try {
    await cfn.send(
      new UpdateStackCommand({
        StackName: 'aws-sample-app',
        TemplateBody: await readFile(join(repository, 'infrastructure.yml'), 'utf8'),
        Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM'],
      }),
    );
    throw new Error('the toolkit flow expected "No updates are to be performed"');
  } catch (error) {
    if (!/No updates are to be performed/.test((error as Error).message)) throw error;
  }
  await cfn.send(new DescribeStacksCommand({ StackName: 'aws-sample-app' }));
  cfn.destroy();

  // CodeDeployDeployApplication: checks, the workspace zipped and uploaded (one PUT for a small bundle),
  // CreateDeployment, then the deploymentSuccessful waiter every 15 s.
  const codedeploy = new CodeDeployClient(common);
  const applicationName = 'aws-toolkit-for-azure-devops';
  const deploymentGroupName = 'my-sample-bg-deployment-group';
  await codedeploy.send(new GetApplicationCommand({ applicationName }));
  await codedeploy.send(new GetDeploymentGroupCommand({ applicationName, deploymentGroupName }));
  const bundle = await bundleWorkspace(join(repository, 'site'));
  const key = `${applicationName}.v${Date.now()}.zip`;
  const s3 = new S3Client({ ...common, forcePathStyle: true });
  await s3.send(
    new PutObjectCommand({ Bucket: settings.bucket, Key: key, Body: await readFile(bundle.path) }),
  );
  s3.destroy();
  await bundle.cleanup();
  const created = Date.now();
  const { deploymentId } = await codedeploy.send(
    new CreateDeploymentCommand({
      applicationName,
      deploymentGroupName,
      revision: { revisionType: 'S3', s3Location: { bucket: settings.bucket, key, bundleType: 'zip' } },
      fileExistsBehavior: 'OVERWRITE',
    }),
  );
  await waitUntilDeploymentSuccessful(
    { client: codedeploy, minDelay: 15, maxDelay: 15, maxWaitTime: 600 },
    { deploymentId: deploymentId! },
  );
  const noticed = Date.now();
  codedeploy.destroy();
  const counts = count(lines, started, noticed);
  const ended = completedAt(lines, deploymentId!);
  return {
    counts,
    calls: sum(counts),
    durationS: seconds(noticed - started),
    noticedAfterS: seconds(noticed - ended),
    deploymentS: seconds(ended - created),
    statusChecks: counts.get('codedeploy:GetDeployment') ?? 0,
  };
}

/**
 * The sample's blue/green release as it runs on AWS (seconds from CreateDeployment): green launches and installs,
 * traffic moves, the group's 5-minute termination wait, blue terminates, Succeeded.
 */
const realRelease = { greenReadyS: 270, reroutedS: 300, terminationWaitS: 300, totalS: 635 };

/**
 * Core's watcher on simulated time (a fake clock and a scripted CodeDeploy answering from the timeline above):
 * the calls a real release's wait costs, by operation, with the real schedule and rules.
 */
async function watchRealRelease(): Promise<{
  calls: number;
  counts: Record<string, number>;
  noticedAfterS: number;
}> {
  const clock = new FakeClock();
  const start = clock.now();
  const elapsedS = () => (clock.now() - start) / 1000;
  const counts: Record<string, number> = {};
  const overview = () => {
    const t = elapsedS();
    if (t < realRelease.greenReadyS) return { InProgress: 2, Pending: 2 };
    if (t < realRelease.reroutedS) return { Succeeded: 2, InProgress: 2 };
    return { Succeeded: 4 };
  };
  const status = () => (elapsedS() < realRelease.totalS ? 'InProgress' : 'Succeeded');
  const targetIds = () =>
    elapsedS() < 60 ? ['i-blue1', 'i-blue2'] : ['i-blue1', 'i-blue2', 'i-green1', 'i-green2'];
  const client = {
    send: async (command: { constructor: { name: string }; input: { targetIds?: string[] } }) => {
      const name = command.constructor.name.replace(/Command$/, '');
      counts[`codedeploy:${name}`] = (counts[`codedeploy:${name}`] ?? 0) + 1;
      if (name === 'GetDeployment')
        return {
          deploymentInfo: {
            deploymentId: 'd-SIMULATED',
            status: status(),
            deploymentOverview: overview(),
            instanceTerminationWaitTimeStarted: elapsedS() >= realRelease.reroutedS,
          },
        };
      if (name === 'ListDeploymentTargets') return { targetIds: targetIds() };
      if (name === 'BatchGetDeploymentTargets')
        return {
          deploymentTargets: (command.input.targetIds ?? []).map((targetId) => ({
            instanceTarget: { targetId, status: status(), lifecycleEvents: [] },
          })),
        };
      throw new Error(`the simulated release does not expect ${name}`);
    },
  } as unknown as CodeDeployClient;
  const engine = createCodeDeployEngine({
    credentials: { region, provider: async () => ({ accessKeyId: 'AKIASIMULATED', secretAccessKey: 'x' }) },
    env: {},
    reporter: new MemoryReporter(),
    clients: { codedeploy: client },
    clock,
  });
  await watchDeployment(engine, {
    deploymentId: 'd-SIMULATED',
    timeoutMs: 3_600_000,
    terminationWaitMinutes: realRelease.terminationWaitS / 60,
  });
  return {
    calls: Object.values(counts).reduce((a, b) => a + b, 0),
    counts,
    noticedAfterS: Math.round((elapsedS() - realRelease.totalS) * 10) / 10,
  };
}

async function main(): Promise<void> {
  const tasksDirectory = await builtExtensionTasks();
  if (!tasksDirectory) throw new Error('the extension is not built: run `npm run build` first');
  const work = await mkdtemp(join(tmpdir(), 'keyless-bench-calls-'));
  const lines: Logged[] = [];
  const said: Logged[] = [];
  try {
    console.error("npm start's system: v1 (creates everything), then the v2 release that is counted…");
    const demo = await runBlogDemo({
      sampleDirectory: sample,
      tasksDirectory,
      workDirectory: join(work, 'demo'),
      reporter: new MemoryReporter(),
      say: (line) => said.push({ at: Date.now(), line }),
      sandboxLog: (line) => lines.push({ at: Date.now(), line }),
    });
    const { sandbox } = demo;
    try {
      const v2 = demo.releases[1]!;
      if (v2.record.result !== 'Succeeded' || !v2.deploymentId)
        throw new Error('the v2 release did not succeed');
      const v2Started = said.find((s) => s.line.startsWith('Push to main (v2)'))!.at;
      const v2Noticed = said.find(
        (s) => s.at >= v2Started && s.line.includes(`Deployment ${v2.deploymentId}: Succeeded`),
      )?.at;
      if (!v2Noticed) throw new Error(`the runner's log never said ${v2.deploymentId} succeeded`);
      // CreateDeployment's moment: the sandbox logs the request.
      const v2Created = lines.find(
        (l) => l.at >= v2Started && awsOperation(l.line) === 'codedeploy:CreateDeployment',
      )!.at;
      const v2Ended = completedAt(lines, v2.deploymentId);
      // The whole release, to the run's end (its last job, Verify, makes no AWS calls); the demo's own look at
      // the instances comes after that line.
      const v2Finished = said.find((s) => s.at >= v2Noticed && /^\s*→ (Succeeded|Failed)/.test(s.line))!.at;
      const keylessCounts = count(lines, v2Started, v2Finished);
      const keyless: Release = {
        counts: keylessCounts,
        calls: sum(keylessCounts),
        durationS: seconds(v2Noticed - v2Started),
        noticedAfterS: seconds(v2Noticed - v2Ended),
        deploymentS: seconds(v2Ended - v2Created),
        statusChecks: keylessCounts.get('codedeploy:GetDeployment') ?? 0,
      };

      console.error("the AWS Toolkit's flow for the same release (v3), same sandbox…");
      const repository = demo.repository;
      await writeFile(join(repository, 'site', 'app', 'VERSION'), 'v3\n');
      const config = await readFile(join(sample, 'sandbox.yml'), 'utf8');
      const toolkit = await toolkitRelease(sandbox.url, repository, lines, {
        audience: 'api://keyless-sample-app',
        clientId: /clientId: (\S+)/.exec(config)![1]!,
        roleArn: `arn:aws:iam::${sandbox.accountId}:role/keyless-sample-deploy`,
        bucket: `keyless-sample-artifacts-${sandbox.accountId}`,
      });

      // A real blue/green release of the sample on AWS: ~10 minutes from CreateDeployment to Succeeded. The
      // fixed calls are the ones measured above; the waiting is core's real watcher on simulated time against
      // a scripted timeline (realRelease), and the toolkit's 15 s waiter over the same minutes.
      const waitOperations = /^codedeploy:(GetDeployment|ListDeploymentTargets|BatchGetDeploymentTargets)$/;
      const fixed = (release: Release) =>
        [...release.counts]
          .filter(([operation]) => !waitOperations.test(operation))
          .reduce((a, [, n]) => a + n, 0);
      const simulated = await watchRealRelease();
      const model = {
        timeline: realRelease,
        keylessWaitCalls: simulated.calls,
        keylessWaitCounts: simulated.counts,
        keylessNoticedAfterS: simulated.noticedAfterS,
        keylessCalls: fixed(keyless) + simulated.calls,
        // The waiter checks at once, then every 15 s until it sees the end.
        toolkitCalls: fixed(toolkit) + Math.ceil(realRelease.totalS / 15) + 1,
        toolkitNoticedAfterS: Math.ceil(realRelease.totalS / 15) * 15 - realRelease.totalS,
      };
      const met = keyless.calls < toolkit.calls && keyless.noticedAfterS < toolkit.noticedAfterS;
      printResult(
        {
          measure: 'AWS API calls for one release of the sample (no-op stack update, upload, blue/green)',
          keyless: keyless.calls,
          peer: toolkit.calls,
          peerName: 'AWS Toolkit flow, SDK waiters at its 15 s interval, same sandbox',
          unit: 'calls',
          ratio: toolkit.calls / keyless.calls,
          target: 'fewer calls than the peer, completion noticed sooner',
          met,
          note: `completion noticed after ${keyless.noticedAfterS} s; a real 10-min release: ${model.keylessCalls} calls`,
          peerNote: `noticed after ${toolkit.noticedAfterS} s; a real 10-min release: ${model.toolkitCalls} calls`,
        },
        {
          sandboxTimeScale: 60,
          keyless: { ...keyless, counts: Object.fromEntries(keyless.counts) },
          toolkit: { ...toolkit, counts: Object.fromEntries(toolkit.counts) },
          modelledRealRelease: model,
        },
      );
    } finally {
      await sandbox.close();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
