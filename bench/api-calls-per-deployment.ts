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
import { defaultSchedule } from '../packages/core/src/aws/poll';
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

      // A real blue/green release of the sample on AWS: ~10 minutes from CreateDeployment to Succeeded (green
      // fleet launch and install, reroute, the 5-minute termination wait). Waiting costs, per minute, Keyless's
      // steady poll (core's defaultSchedule: a GetDeployment every 2.5 s, lifecycle events every 3rd check,
      // target ids re-listed every 8th refresh) and the toolkit's 15 s waiter; the rest is measured above.
      const realMinutes = 10;
      const waitOperations = /^codedeploy:(GetDeployment|ListDeploymentTargets|BatchGetDeploymentTargets)$/;
      const fixed = (release: Release) =>
        [...release.counts]
          .filter(([operation]) => !waitOperations.test(operation))
          .reduce((a, [, n]) => a + n, 0);
      const checksPerMinute = 60_000 / defaultSchedule.maxMs;
      const keylessWaitPerMinute = checksPerMinute * (1 + 1 / 3 + 1 / 24);
      const model = {
        deploymentMinutes: realMinutes,
        keylessWaitCallsPerMinute: Math.round(keylessWaitPerMinute * 10) / 10,
        toolkitWaitCallsPerMinute: 4,
        keylessCalls: Math.round(fixed(keyless) + keylessWaitPerMinute * realMinutes),
        toolkitCalls: fixed(toolkit) + 1 + (realMinutes * 60) / 15,
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
          note: `completion noticed after ${keyless.noticedAfterS} s`,
          peerNote: `noticed after ${toolkit.noticedAfterS} s`,
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
