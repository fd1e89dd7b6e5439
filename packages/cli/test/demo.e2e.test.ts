// Issue 6's acceptance: the blog's system end to end, as `npm start` runs it, plus the blog's other two
// pipeline shapes and a failing release — asserting on what a user would check, not on log wording.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryReporter } from '@keyless/core';
import { runPipeline, type RunRecord } from '@keyless/pipeline-runner';
import { fetchVersion, pushFailingV3, runBlogDemo, step, type BlogDemoResult } from '../src/demo/blog-demo';
import { startTraffic } from '../src/demo/traffic';
import { builtExtensionTasks } from '../src/extension-tasks';
import { leakedSecrets } from './support';

const sample = fileURLToPath(new URL('../../../examples/sample-app/', import.meta.url));

describe('npm start: the blog system on the sandbox', { timeout: 300_000 }, () => {
  const secrets = new Set<string>();
  const said: string[] = [];
  const files: string[] = [];
  let work: string;
  let demo: BlogDemoResult;

  before(async () => {
    const tasksDirectory = await builtExtensionTasks();
    assert.ok(tasksDirectory, 'the extension is built (npm run build)');
    work = await mkdtemp(join(tmpdir(), 'keyless-demo-'));
    demo = await runBlogDemo({
      sampleDirectory: sample,
      tasksDirectory,
      workDirectory: work,
      reporter: new MemoryReporter(),
      say: (line) => said.push(line),
      onSecret: (value) => secrets.add(value),
    });
    secrets.add(demo.agent.accessToken);
    files.push(...demo.files);
  });

  after(async () => {
    await demo?.sandbox.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function runSample(file: string, variables: Record<string, string> = {}): Promise<RunRecord> {
    const tasksDirectory = (await builtExtensionTasks())!;
    const record = await runPipeline({
      pipelineFile: join(demo.repository, file),
      agent: demo.agent,
      taskDirectories: [tasksDirectory],
      workDirectory: join(work, 'agent'),
      branch: 'refs/heads/main',
      variables,
      write: () => undefined,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', AWS_CONFIG_FILE: '/dev/null' },
    });
    files.push(record.logFile, record.recordFile);
    return record;
  }

  test('v1 then v2 blue/green: zero failed requests, blue fleet terminated, outputs published, v2 served', () => {
    const [v1, v2] = demo.releases;
    assert.equal(v1?.record.result, 'Succeeded');
    assert.equal(v2?.record.result, 'Succeeded');
    assert.ok(v2!.traffic.total > 20, `requests were made during the cutover (${v2!.traffic.total})`);
    assert.equal(v2!.traffic.failures, 0, v2!.traffic.samples.join('; '));
    assert.ok(v2!.traffic.versions.has('v2'), 'traffic moved to v2 during the release');
    const blue = v2!.instances.filter((instance) => instance.label === 'Blue');
    const green = v2!.instances.filter((instance) => instance.label === 'Green');
    assert.equal(blue.length, 2);
    assert.equal(green.length, 2);
    for (const instance of blue)
      assert.match(instance.state, /terminated|shutting-down/, instance.instanceId);
    for (const instance of green) assert.equal(instance.state, 'running', instance.instanceId);
    // The stack's outputs are pipeline outputs, and crossed to the Verify job.
    const stack = step(v1!.record, 'stack')!;
    assert.equal(stack.outputs.WebsiteURL, demo.websiteUrl);
    const verify = v2!.record.stages[0]!.jobs.find((job) => job.name === 'Verify')!;
    assert.equal(verify.variables.websiteUrl, demo.websiteUrl);
    assert.equal(step(v2!.record, 'smoke')?.outputs.servedVersion, 'v2');
    assert.equal(demo.servedVersion, 'v2');
    assert.ok(
      said.some((line) => line.includes('Push to main (v2)')),
      'progress was shown',
    );
  });

  test("the blog's S3 variant and its credential-script variant also complete", async () => {
    const s3 = await runSample('azure-pipelines.s3-revision.yml');
    assert.equal(s3.result, 'Succeeded', await readFile(s3.logFile, 'utf8'));
    const script = await runSample('azure-pipelines.blog-script.yml', { imdsEndpoint: demo.sandbox.url });
    assert.equal(script.result, 'Succeeded', await readFile(script.logFile, 'utf8'));
    assert.equal(await fetchVersion(demo.websiteUrl), 'v2');
  });

  test('a failing v3 (ValidateService fails) leaves v2 serving and says why', async () => {
    await pushFailingV3(demo.repository);
    const traffic = startTraffic(demo.websiteUrl);
    const v3 = await runSample('azure-pipelines.yml');
    const report = await traffic.stop();
    assert.equal(v3.result, 'Failed');
    const deploy = step(v3, 'deploy')!;
    assert.equal(deploy.result, 'Failed');
    const log = await readFile(v3.logFile, 'utf8');
    assert.match(log, /ValidateService failed/);
    assert.match(log, /validate_service\.sh/);
    assert.equal(report.failures, 0, report.samples.join('; '));
    assert.equal(await fetchVersion(demo.websiteUrl), 'v2');
  });

  test('no secret the sandbox minted, nor the access token, appears in any log, record or printed line', async () => {
    const texts = [said.join('\n')];
    for (const file of files) texts.push(await readFile(file, 'utf8'));
    assert.ok(secrets.size > 5, `secrets were collected (${secrets.size})`);
    assert.deepEqual(leakedSecrets(texts, secrets), []);
  });
});
