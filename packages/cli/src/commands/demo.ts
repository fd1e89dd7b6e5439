import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInputError } from '@keyless/core';
import {
  failureGist,
  firstSentence,
  runBlogDemo,
  step,
  type BlogDemoResult,
  type ReleaseOutcome,
} from '../demo/blog-demo';
import { builtExtensionTasks } from '../extension-tasks';
import { parseCommandLine, UsageError } from '../usage';
import type { CommandContext } from '../command';

export const demoHelp = `keyless demo — the AWS blog's system on this machine (what \`npm start\` runs).

Usage: keyless demo [--keep] [--failing-v3] [--sample DIR] [--work-dir DIR] [--verbose]

Starts the sandbox seeded with the blog's prerequisites (the Entra tenant's issuer, the agent VM's managed
identity, the IAM OIDC provider, the role whose trust policy pins aud and sub, the artifact bucket), then runs
the sample's azure-pipelines.yml with the local pipeline runner and the built Azure DevOps tasks: the managed
identity's token is exchanged for AWS credentials, CloudFormation creates the sample's infrastructure (VPC,
load balancer, Auto Scaling group, CodeDeploy blue/green group) and CodeDeploy deploys v1. It then commits v2
and runs the pipeline again — a blue/green release while the site keeps answering — and tells the story:
identity, stack, deployments, blue and green instances, requests served, and the WebsiteURL serving v2.

Options:
  --keep          keep the sandbox and the site running until Ctrl-C (open the WebsiteURL in a browser)
  --failing-v3    also push a v3 whose ValidateService hook fails, and show v2 keeps serving
  --sample DIR    the sample (default examples/sample-app, found from here or from the CLI's location)
  --work-dir DIR  where the simulated repository, pipeline logs and sandbox data go (default .keyless/demo;
                  wiped at the start of each run, kept afterwards so the logs can be read)
  --verbose       also print every sandbox request (secrets stay masked)

Examples:
  npm start                                   # from the repository root
  npm start -- --keep                         # then open the printed URL; Ctrl-C stops everything
  keyless demo --failing-v3                   # a broken release is stopped before it takes traffic`;

const sampleRelative = join('examples', 'sample-app');
/** What the demo reads from the sample: the pipeline, the sandbox's seed and the agent settings. */
const sampleFiles = ['azure-pipelines.yml', 'sandbox.yml', 'agent.yml'];

export async function runDemo(argv: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandLine('demo', argv, {
    keep: { type: 'boolean' },
    'failing-v3': { type: 'boolean' },
    sample: { type: 'string' },
    'work-dir': { type: 'string' },
    verbose: { type: 'boolean', short: 'v' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    context.stdout(`${demoHelp}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}".`, 'demo');
  const sampleDirectory = values.sample ? resolve(context.cwd, values.sample) : findSample(context.cwd);
  // Checked before anything runs: the demo wipes its work folder first, and a wrong --sample must not cost it.
  const missing = sampleFiles.filter((file) => !existsSync(join(sampleDirectory, file)));
  if (missing.length > 0) {
    throw new InvalidInputError(
      `--sample ${sampleDirectory} is not the sample application: it has no ${missing.join(', ')}.`,
      `Pass --sample with the path of ${sampleRelative} (or leave it out inside the repository); nothing was started or deleted.`,
    );
  }
  const tasksDirectory = await builtExtensionTasks();
  if (!tasksDirectory) {
    throw new UsageError(
      'The Azure DevOps tasks are not built: run `npm run build` (npm start does).',
      'demo',
    );
  }
  const reporter = context.reporter({ verbose: values.verbose ?? false, quiet: true });
  const say = (text: string) => context.stdout(`${reporter.secrets.mask(text)}\n`);
  const started = performance.now();

  say(`Keyless demo — the AWS blog's pipeline, on this machine`);
  // Ctrl-C cancels the running pipeline the way the agent does, then the sandbox and its instances stop.
  const abort = new AbortController();
  void context.interrupted().then((signal) => {
    if (abort.signal.aborted) return;
    say(`${signal} received: canceling the pipeline run and stopping the sandbox…`);
    abort.abort();
  });
  const result = await runBlogDemo({
    sampleDirectory,
    tasksDirectory,
    workDirectory: resolve(context.cwd, values['work-dir'] ?? join('.keyless', 'demo')),
    reporter,
    say,
    failingV3: values['failing-v3'] ?? false,
    sandboxLog: values.verbose ? (line) => reporter.debug(line) : undefined,
    signal: abort.signal,
  });
  try {
    tellStory(result, say, (performance.now() - started) / 1000);
    const expected = 'v2';
    const ok =
      result.servedVersion === expected &&
      result.releases.every((release) => release.traffic.failures === 0) &&
      result.releases.slice(0, 2).every((release) => release.record.result === 'Succeeded');
    if (values.keep) {
      say(`The sandbox and the site stay up: open ${result.websiteUrl} — Ctrl-C stops everything.`);
      await context.interrupted();
    }
    return ok ? 0 : 1;
  } finally {
    await result.sandbox.close();
  }
}

function tellStory(result: BlogDemoResult, say: (line: string) => void, seconds: number): void {
  const [v1, v2, v3] = result.releases;
  say('');
  say('What happened');
  say(
    `  Identity     the agent VM's managed identity got a token from Azure IMDS; STS AssumeRoleWithWebIdentity gave`,
  );
  say(
    `               ${result.identity.roleArn ?? '?'} (account ${result.identity.accountId ?? '?'}, until ${result.identity.expiration ?? '?'}) — no key stored, none printed`,
  );
  if (v1) say(`  Stack        run 1: ${step(v1.record, 'stack')?.message ?? '?'}`);
  if (v2) say(`               run 2: ${step(v2.record, 'stack')?.message ?? '?'}`);
  for (const release of [v1, v2, v3]) if (release) sayRelease(release, say);
  if (v2) {
    const served = [...v2.traffic.versions].map(([version, count]) => `${version} ×${count}`).join(', ');
    say(
      `  Traffic      ${v2.traffic.total} requests through the load balancer during the v2 release, ${v2.traffic.failures} failed (${served})`,
    );
    for (const sample of v2.traffic.samples) say(`               failed: ${sample}`);
  }
  if (v3) {
    const message = step(v3.record, 'deploy')?.message ?? '?';
    say(
      `  v3           ${v3.record.result}: ${firstSentence(message)} — ${v3.traffic.failures} of ${v3.traffic.total} requests failed meanwhile`,
    );
    for (const detail of failureGist(message)) say(`               ${detail}`);
  }
  say(`  Site         ${result.websiteUrl} serves ${result.servedVersion}`);
  say(`  Logs         ${result.files.filter((file) => file.endsWith('.log')).join(', ')}`);
  say(`Done in ${seconds.toFixed(0)} s.`);
}

function sayRelease(release: ReleaseOutcome, say: (line: string) => void): void {
  const byLabel = (label: string) =>
    release.instances
      .filter((instance) => instance.label === label)
      .map((instance) => `${instance.instanceId} (${instance.state})`)
      .join(', ');
  const outcome = release.record.result === 'Succeeded' ? 'succeeded' : release.record.result.toLowerCase();
  say(`  Release ${release.version.padEnd(5)}${release.deploymentId ?? 'no deployment'} ${outcome}`);
  say(`               green (new fleet): ${byLabel('Green') || '—'}`);
  say(`               blue (old fleet):  ${byLabel('Blue') || '—'}   [instance states now]`);
}

/** The sample lives in the repository; look for it from the working directory and from the CLI's own location. */
function findSample(cwd: string): string {
  for (const start of [cwd, dirname(fileURLToPath(import.meta.url))]) {
    let dir = start;
    for (;;) {
      const candidate = join(dir, sampleRelative);
      if (existsSync(join(candidate, 'azure-pipelines.yml'))) return candidate;
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw new UsageError(`Cannot find ${sampleRelative} from ${cwd}; pass --sample DIR.`, 'demo');
}
