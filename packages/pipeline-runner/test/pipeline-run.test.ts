// End to end through runPipeline (and once through the built CLI): real processes, fixture tasks written
// here (task.json + plain index.js printing ##vso commands), bash and script steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultAgentSettings, runPipeline, type RunPipelineOptions, type RunRecord } from '../src/index';
import type { JobRecord, StepRecord } from '../src/index';

const repositoryRoot = fileURLToPath(new URL('../../..', import.meta.url));
const cliBundle = join(repositoryRoot, 'packages/cli/dist/keyless.mjs');

interface Fixture {
  dir: string;
  tasks: string;
  work: string;
  lines: string[];
  write(name: string, yaml: string): Promise<string>;
  run(file: string, options?: Partial<RunPipelineOptions>): Promise<RunRecord>;
}

async function withFixture(body: (fixture: Fixture) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'keyless-pipeline-'));
  try {
    const tasks = join(dir, 'tasks');
    await writeFixtureTasks(tasks);
    const fixture: Fixture = {
      dir,
      tasks,
      work: join(dir, 'work'),
      lines: [],
      async write(name, yaml) {
        const folder = join(dir, 'repo');
        await mkdir(folder, { recursive: true });
        const file = join(folder, name);
        await writeFile(file, yaml);
        return file;
      },
      run(file, options = {}) {
        return runPipeline({
          pipelineFile: file,
          agent: { ...defaultAgentSettings(), agentName: 'test-agent' },
          taskDirectories: [tasks],
          workDirectory: fixture.work,
          write: (line) => fixture.lines.push(line),
          env: { ...process.env },
          ...options,
        });
      },
    };
    await body(fixture);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function writeFixtureTasks(root: string): Promise<void> {
  const task = async (name: string, json: object, script: string) => {
    await mkdir(join(root, name), { recursive: true });
    await writeFile(join(root, name, 'task.json'), JSON.stringify(json, null, 2));
    await writeFile(join(root, name, 'index.js'), script);
  };
  await task(
    'SetVariable',
    {
      id: randomUUID(),
      name: 'SetVariable',
      friendlyName: 'Set a variable',
      version: { Major: 1, Minor: 0, Patch: 0 },
      instanceNameFormat: 'Set $(variableName)',
      inputs: [
        { name: 'variableName', type: 'string', label: 'Name', required: true },
        { name: 'value', type: 'string', label: 'Value', defaultValue: '' },
        { name: 'fromEnv', type: 'string', label: 'Take the value from this env var', defaultValue: '' },
        { name: 'isOutput', type: 'boolean', label: 'Output', defaultValue: 'false' },
        { name: 'isSecret', type: 'boolean', label: 'Secret', defaultValue: 'false' },
      ],
      execution: { Node20_1: { target: 'index.js' } },
    },
    `const input = (name) => process.env['INPUT_' + name.toUpperCase()] || '';
const bool = (name) => input(name).toUpperCase() === 'TRUE';
const value = input('fromEnv') ? process.env[input('fromEnv')] : input('value');
console.log('setting ' + input('variableName'));
console.log('##vso[task.setvariable variable=' + input('variableName') + ';isOutput=' + bool('isOutput') + ';issecret=' + bool('isSecret') + ';]' + value);
console.log('##vso[task.complete result=Succeeded;]set ' + input('variableName'));
`,
  );
  await task(
    'Tag',
    {
      id: randomUUID(),
      name: 'Tag',
      friendlyName: 'Tag the build',
      version: { Major: 2, Minor: 1, Patch: 3 },
      instanceNameFormat: 'Tag $(tag)',
      inputs: [{ name: 'tag', type: 'string', label: 'Tag', required: true }],
      execution: { Node20_1: { target: 'index.js' } },
    },
    `console.log('##vso[build.addbuildtag]' + process.env.INPUT_TAG);
console.log('##vso[task.logissue type=warning;]tagged with ' + process.env.INPUT_TAG);
console.log('##vso[task.complete result=SucceededWithIssues;]tagged');
`,
  );
}

const steps = (record: RunRecord, stage = 0, job = 0): StepRecord[] => record.stages[stage]!.jobs[job]!.steps;
const job = (record: RunRecord, stageName: string, jobName: string): JobRecord =>
  record.stages
    .find((stage) => stage.name === stageName)!
    .jobs.find((candidate) => candidate.name === jobName)!;
const byDisplay = (record: RunRecord, display: string): StepRecord => {
  const found = record.stages
    .flatMap((stage) => stage.jobs)
    .flatMap((candidate) => candidate.steps)
    .find((step) => step.displayName === display);
  assert.ok(found, `no step "${display}"`);
  return found;
};

/** A bash step that sleeps but stops at once on SIGINT/SIGTERM (bash defers signals while a foreground child runs). */
const interruptibleSleep = (seconds: number) =>
  `trap 'kill $pid 2>/dev/null; echo interrupted; exit 130' INT TERM; sleep ${seconds} & pid=$!; wait $pid`;

test('stages and jobs follow dependsOn; outputs flow step→step, job→job and stage→stage', async () => {
  await withFixture(async (fixture) => {
    const file = await fixture.write(
      'azure-pipelines.yml',
      `trigger:
  - main
variables:
  greeting: hello
  message: $(greeting) world
stages:
  - stage: Build
    jobs:
      - job: A
        steps:
          - checkout: self
          - task: SetVariable@1
            name: s
            inputs:
              variableName: v
              value: from-A
              isOutput: true
          - bash: echo "same job sees $(s.v) and $(message)"
            displayName: Same job
          - task: Tag@2
            inputs:
              tag: smoke
          - bash: echo "##vso[build.updatebuildnumber]custom.$(Build.BuildId)"
            displayName: Rename build
      - job: B
        dependsOn: A
        variables:
          fromA: $[ dependencies.A.outputs['s.v'] ]
        steps:
          - script: echo "B got $(fromA) in build $(Build.BuildNumber)"
  - stage: Deploy
    jobs:
      - job: C
        variables:
          fromStage: $[ stageDependencies.Build.A.outputs['s.v'] ]
        steps:
          - bash: echo "C got $(fromStage)"
            displayName: Use stage output
`,
    );
    const record = await fixture.run(file, { variables: { greeting: 'bonjour' } });
    const log = await readFile(record.logFile, 'utf8');
    assert.equal(record.result, 'SucceededWithIssues', log);
    assert.deepEqual(
      record.stages.map((stage) => [
        stage.name,
        stage.result,
        stage.jobs.map((j) => `${j.name}:${j.result}`),
      ]),
      [
        ['Build', 'SucceededWithIssues', ['A:SucceededWithIssues', 'B:Succeeded']],
        ['Deploy', 'Succeeded', ['C:Succeeded']],
      ],
    );
    assert.match(log, /same job sees from-A and bonjour world/);
    assert.match(log, /C got from-A/);
    assert.equal(record.buildNumber, `custom.${record.runId}`);
    assert.match(log, new RegExp(`B got from-A in build custom\\.${record.runId}`));
    assert.equal(job(record, 'Build', 'B').variables['fromA'], 'from-A');
    assert.deepEqual(job(record, 'Build', 'A').outputs, { 's.v': 'from-A' });
    assert.deepEqual(record.buildTags, ['smoke']);
    assert.deepEqual(record.counts, { steps: 7, failed: 0, skipped: 0, issues: { errors: 0, warnings: 1 } });

    // Display names: instanceNameFormat with inputs, the script shortcuts' defaults, the checkout line.
    assert.deepEqual(
      steps(record).map((step) => step.displayName),
      ['Checkout repo@main to s', 'Set v', 'Same job', 'Tag smoke', 'Rename build'],
    );
    assert.equal(steps(record, 0, 1)[0]!.displayName, 'CmdLine');
    for (const name of ['Set v', 'Same job', 'Tag smoke', 'CmdLine', 'Use stage output']) {
      const starting = log.indexOf(`##[section]Starting: ${name}\n`);
      const finishing = log.indexOf(`##[section]Finishing: ${name}\n`);
      assert.ok(starting >= 0 && finishing > starting, `banners for ${name}`);
    }
    // Stage Deploy starts only after Build finished.
    assert.ok(log.indexOf('##[section]Stage Deploy') > log.indexOf('##[section]Stage Build finished'));
    assert.match(log, /##\[section\]Summary/);
    assert.match(log, new RegExp(`Run record: ${record.recordFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });
});

test('the run record holds each step: task, inputs, environment, commands, variables, outputs, issues', async () => {
  await withFixture(async (fixture) => {
    const file = await fixture.write(
      'azure-pipelines.yml',
      `steps:
  - task: SetVariable@1
    name: setter
    displayName: Set it
    inputs:
      variableName: answer
      value: '42'
      isOutput: true
  - task: Tag@2
    inputs:
      tag: nightly
`,
    );
    const record = await fixture.run(file, { branch: 'feature/x', reason: 'IndividualCI' });
    const saved = JSON.parse(await readFile(record.recordFile, 'utf8')) as RunRecord;
    assert.deepEqual(saved, JSON.parse(JSON.stringify(record)));
    assert.equal(record.recordFile, join(fixture.work, record.runId, 'run.json'));
    assert.equal(record.logFile, join(fixture.work, record.runId, 'run.log'));
    assert.deepEqual(record.source.ciTrigger.wouldRun, true);
    assert.equal(record.source.branch, 'refs/heads/feature/x');
    assert.equal(record.stages[0]!.name, '__default');
    assert.equal(record.stages[0]!.jobs[0]!.name, 'Job');

    const [setter, tag] = steps(record);
    assert.equal(setter!.name, 'setter');
    assert.equal(setter!.task?.name, 'SetVariable');
    assert.equal(setter!.task?.version, '1.0.0');
    assert.equal(setter!.inputs['variableName'], 'answer');
    assert.equal(setter!.inputs['isSecret'], 'false', 'declared defaults are filled in');
    assert.equal(setter!.environment['INPUT_VARIABLENAME'], 'answer');
    assert.equal(setter!.environment['BUILD_SOURCEBRANCH'], 'refs/heads/feature/x');
    assert.equal(setter!.environment['BUILD_REASON'], 'IndividualCI');
    assert.equal(setter!.environment['SYSTEM_ACCESSTOKEN'], undefined, 'the token is never a plain variable');
    assert.ok(setter!.commands.some((command) => command.area === 'task' && command.event === 'setvariable'));
    assert.deepEqual(setter!.outputs, { answer: '42' });
    assert.equal(setter!.result, 'Succeeded');
    assert.equal(setter!.message, 'set answer');
    assert.equal(tag!.task?.version, '2.1.3');
    assert.equal(tag!.result, 'SucceededWithIssues');
    assert.deepEqual(
      tag!.issues.map((issue) => [issue.type, issue.message]),
      [['warning', 'tagged with nightly']],
    );
    const variables = record.stages[0]!.jobs[0]!.variables;
    assert.equal(variables['System.AccessToken'], '***');
    assert.equal(variables['Agent.JobStatus'], 'SucceededWithIssues');
    assert.equal(variables['Build.SourceBranchName'], 'x');
    assert.equal(variables['Agent.TempDirectory'], join(fixture.work, '_temp'));
    assert.equal(variables['Build.ArtifactStagingDirectory'], join(fixture.work, record.runId, 'a'));
    assert.match(
      variables['System.OidcRequestUri']!,
      /\/_apis\/distributedtask\/hubs\/build\/plans\/[0-9a-f-]{36}\/jobs\/[0-9a-f-]{36}\/oidctoken$/,
    );
  });
});

test('a failure skips later steps; always(), failed() and continueOnError; enabled: false', async () => {
  await withFixture(async (fixture) => {
    const file = await fixture.write(
      'azure-pipelines.yml',
      `jobs:
  - job: Soft
    steps:
      - bash: exit 4
        displayName: Allowed to fail
        continueOnError: true
      - bash: echo "after soft failure $(Agent.JobStatus)"
        displayName: After soft
  - job: Hard
    steps:
      - bash: echo first
        displayName: First
      - bash: exit 3
        displayName: Fails
      - bash: echo should-not-run
        displayName: Skipped by default
      - bash: echo "cleanup saw $(Agent.JobStatus)"
        displayName: Cleanup
        condition: always()
      - bash: echo on-failure-ran
        displayName: On failure
        condition: failed()
      - bash: echo disabled-ran
        displayName: Disabled
        enabled: false
  - job: Later
    dependsOn: Hard
    steps:
      - bash: echo later-ran
  - job: Rescue
    dependsOn: Hard
    condition: failed()
    steps:
      - bash: echo rescue-ran
`,
    );
    const record = await fixture.run(file);
    const log = await readFile(record.logFile, 'utf8');
    assert.equal(record.result, 'Failed');
    const soft = job(record, '__default', 'Soft');
    assert.deepEqual(
      soft.steps.map((step) => step.result),
      ['SucceededWithIssues', 'Succeeded'],
    );
    assert.equal(soft.result, 'SucceededWithIssues');
    assert.match(log, /after soft failure SucceededWithIssues/);

    const hard = job(record, '__default', 'Hard');
    assert.deepEqual(
      hard.steps.map((step) => [step.displayName, step.result]),
      [
        ['First', 'Succeeded'],
        ['Fails', 'Failed'],
        ['Skipped by default', 'Skipped'],
        ['Cleanup', 'Succeeded'],
        ['On failure', 'Succeeded'],
        ['Disabled', 'Skipped'],
      ],
    );
    assert.equal(hard.steps[1]!.exitCode, 3);
    assert.equal(hard.result, 'Failed');
    assert.match(log, /cleanup saw Failed/);
    assert.match(log, /on-failure-ran/);
    assert.doesNotMatch(log, /should-not-run\n/);
    assert.doesNotMatch(log, /disabled-ran/);
    assert.match(hard.steps[5]!.message ?? '', /enabled: false/);
    assert.ok(!log.includes('##[section]Starting: Skipped by default'));

    assert.equal(job(record, '__default', 'Later').result, 'Skipped');
    assert.equal(job(record, '__default', 'Rescue').result, 'Succeeded');
    assert.match(log, /rescue-ran/);
    assert.deepEqual(
      { failed: record.counts.failed, skipped: record.counts.skipped, steps: record.counts.steps },
      { failed: 1, skipped: 2, steps: 9 },
    );
  });
});

test("${{ variables['Build.SourceBranch'] }} and the other compile-time predefined variables resolve at load", async () => {
  await withFixture(async (fixture) => {
    const file = await fixture.write(
      'azure-pipelines.yml',
      `steps:
  - bash: echo "[\${{ variables['Build.SourceBranch'] }}] [\${{ variables.build.sourcebranchname }}] [\${{ variables['Build.Reason'] }}]"
    displayName: At load
`,
    );
    const record = await fixture.run(file, { branch: 'release/1', reason: 'IndividualCI' });
    assert.equal(record.result, 'Succeeded', await readFile(record.logFile, 'utf8'));
    assert.match(
      await readFile(record.logFile, 'utf8'),
      /\[refs\/heads\/release\/1\] \[1\] \[IndividualCI\]/,
    );
  });
});

test('a step timeout fails the step; a job timeout cancels the job but always() still runs', async () => {
  await withFixture(async (fixture) => {
    const file = await fixture.write(
      'azure-pipelines.yml',
      `jobs:
  - job: StepTimeout
    steps:
      - bash: |
          ${interruptibleSleep(30)}
        displayName: Slow step
        timeoutInMinutes: 1
      - bash: echo after-timeout
        displayName: After
      - bash: echo cleanup-after-timeout
        displayName: Cleanup
        condition: always()
  - job: JobTimeout
    timeoutInMinutes: 1
    steps:
      - bash: |
          ${interruptibleSleep(30)}
        displayName: Slow job
      - bash: echo "job-cleanup status=$(Agent.JobStatus)"
        displayName: Job cleanup
        condition: always()
`,
    );
    const started = Date.now();
    // One "minute" lasts one second.
    const record = await fixture.run(file, { timeScale: 60 });
    assert.ok(Date.now() - started < 20_000, 'timeouts ended the sleeps');
    const stepTimeout = job(record, '__default', 'StepTimeout');
    assert.deepEqual(
      stepTimeout.steps.map((step) => step.result),
      ['Failed', 'Skipped', 'Succeeded'],
    );
    // The minutes as written, not the time-scaled ones.
    assert.equal(stepTimeout.steps[0]!.message, 'The step exceeded its timeout of 1 minutes.');
    assert.equal(stepTimeout.result, 'Failed');

    const jobTimeout = job(record, '__default', 'JobTimeout');
    assert.equal(jobTimeout.result, 'Canceled');
    assert.match(jobTimeout.message ?? '', /ran longer than the maximum time of 1 minutes/);
    // The job's deadline cancels the running step (it had no timeout of its own), and the job status that
    // always() steps see is Canceled, as on the agent.
    assert.equal(jobTimeout.steps[0]!.result, 'Canceled');
    assert.equal(jobTimeout.steps[1]!.result, 'Succeeded');
    assert.match(await readFile(record.logFile, 'utf8'), /job-cleanup status=Canceled/);
    assert.equal(record.result, 'Canceled');
  });
});

test('a secret never reaches run.log or run.json: raw, base64, URL-encoded, across jobs', async () => {
  await withFixture(async (fixture) => {
    const secret = `Sup3r#secret/${randomBytes(6).toString('hex')}+chars=&ok`;
    const file = await fixture.write(
      'azure-pipelines.yml',
      `jobs:
  - job: A
    steps:
      - task: SetVariable@1
        name: s
        inputs:
          variableName: tok
          fromEnv: FIXTURE_SECRET
          isOutput: true
          isSecret: true
      - bash: |
          echo 'raw: $(s.tok)'
          printf '%s' '$(s.tok)' | base64
          "${process.execPath}" -e 'console.log(encodeURIComponent(process.argv[1]))' '$(s.tok)'
          echo '##vso[task.logissue type=warning;]issue with $(s.tok)'
        displayName: Print it
  - job: B
    dependsOn: A
    variables:
      got: $[ dependencies.A.outputs['s.tok'] ]
    steps:
      - bash: |
          echo 'B raw: $(got)'
          echo "B env: $GOT"
        displayName: Print downstream
      - bash: echo named
        displayName: Deploy with $(got)
`,
    );
    const record = await fixture.run(file, { env: { ...process.env, FIXTURE_SECRET: secret } });
    assert.equal(record.result, 'Succeeded', await readFile(record.logFile, 'utf8'));
    const log = await readFile(record.logFile, 'utf8');
    const json = await readFile(record.recordFile, 'utf8');
    const forms = [
      secret,
      Buffer.from(secret).toString('base64'),
      encodeURIComponent(secret),
      JSON.stringify(secret).slice(1, -1),
    ];
    for (const form of forms) {
      assert.ok(!log.includes(form), `run.log contains ${form}`);
      assert.ok(!json.includes(form), `run.json contains ${form}`);
      assert.ok(!fixture.lines.some((line) => line.includes(form)), `the live log contains ${form}`);
    }
    // The values were really printed (masked), and the secret really reached job B.
    assert.match(log, /raw: \*\*\*/);
    assert.match(log, /B raw: \*\*\*/);
    assert.match(log, /B env: \*\*\*/);
    assert.equal(byDisplay(record, 'Print it').issues[0]?.message, 'issue with ***');
    // A display name holding the secret is masked in the record, and the summary table is laid out on the
    // masked text (padding computed on the raw one would tell the secret's length).
    assert.ok(byDisplay(record, 'Deploy with ***'));
    const summary = log.split('\n');
    const header = summary.find((line) => line.startsWith('Stage '))!;
    const row = summary.find((line) => line.startsWith('__default') && line.includes('Deploy with ***'))!;
    assert.equal(row.indexOf('Succeeded'), header.indexOf('Result'), `${header}\n${row}`);
    // The generated scripts (macros expanded, secrets included) do not outlive their jobs.
    for (const slot of ['_temp', '_temp_2'])
      assert.deepEqual(await readdir(join(fixture.work, slot)).catch(() => []), [], slot);
  });
});

test('cancellation: the running step is interrupted, only always() steps run after it, the run is Canceled', async () => {
  await withFixture(async (fixture) => {
    const file = await fixture.write(
      'azure-pipelines.yml',
      `stages:
  - stage: One
    jobs:
      - job: Work
        steps:
          - bash: |
              ${interruptibleSleep(30)}
            displayName: Slow
          - bash: echo never-ran
            displayName: Never
          - bash: echo cleanup-ran
            displayName: Cleanup
            condition: always()
  - stage: Two
    jobs:
      - job: More
        steps:
          - bash: echo stage-two-ran
  - stage: Report
    dependsOn: One
    condition: always()
    jobs:
      - job: Notify
        condition: always()
        steps:
          - bash: echo report-ran
`,
    );
    const controller = new AbortController();
    const started = Date.now();
    const record = await fixture.run(file, {
      signal: controller.signal,
      write: (line) => {
        fixture.lines.push(line);
        if (line === '##[section]Starting: Slow') setTimeout(() => controller.abort(), 300);
      },
    });
    assert.ok(Date.now() - started < 20_000);
    assert.equal(record.result, 'Canceled');
    assert.deepEqual(
      steps(record).map((step) => [step.displayName, step.result]),
      [
        ['Slow', 'Canceled'],
        ['Never', 'Skipped'],
        ['Cleanup', 'Succeeded'],
      ],
    );
    assert.equal(record.stages[0]!.jobs[0]!.result, 'Canceled');
    assert.equal(record.stages[1]!.result, 'Canceled');
    // A stage and job that start after the cancellation because of always() are not themselves canceled.
    assert.equal(record.stages[2]!.result, 'Succeeded');
    assert.deepEqual(
      steps(record, 2).map((step) => step.result),
      ['Succeeded'],
    );
    const log = fixture.lines.join('\n');
    assert.match(log, /report-ran/);
    assert.match(log, /cleanup-ran/);
    assert.doesNotMatch(log, /stage-two-ran/);
  });
});

test('build numbers: yyyyMMdd.N per day and an incrementing build id per run', async () => {
  await withFixture(async (fixture) => {
    const file = await fixture.write(
      'azure-pipelines.yml',
      'steps:\n  - bash: echo "number $(Build.BuildNumber)"\n',
    );
    const first = await fixture.run(file);
    const second = await fixture.run(file);
    const today = new Date().toISOString().slice(0, 10).replaceAll('-', '');
    // A run that crosses midnight UTC may see the next day; the revision restarts then.
    if (second.buildNumber.startsWith(today)) {
      assert.equal(first.buildNumber, `${today}.1`);
      assert.equal(second.buildNumber, `${today}.2`);
    }
    assert.deepEqual([first.runId, second.runId], ['1', '2']);
    assert.match(
      await readFile(second.logFile, 'utf8'),
      new RegExp(`number ${second.buildNumber.replace('.', '\\.')}`),
    );
    assert.ok(
      existsSync(join(fixture.work, '1', 'run.json')) && existsSync(join(fixture.work, '2', 'run.json')),
    );
  });
});

function runCli(
  args: string[],
  cwd: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliBundle, ...args], { cwd, env: { ...process.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('the CLI bundle: keyless pipeline run exits 0, 1 or 2 and copies the record', async () => {
  if (!existsSync(cliBundle)) {
    // `npm test` builds first; a lone run of this file builds the bundle itself.
    const build = spawnSync(process.execPath, [join(repositoryRoot, 'scripts/build.mjs')], {
      stdio: 'inherit',
    });
    assert.equal(build.status, 0);
  }
  await withFixture(async (fixture) => {
    const good = await fixture.write(
      'good.yml',
      'steps:\n  - task: SetVariable@1\n    inputs:\n      variableName: x\n      value: y\n  - script: echo "hello $(who)"\n',
    );
    const bad = await fixture.write('bad.yml', 'steps:\n  - bash: exit 1\n');
    const invalid = await fixture.write(
      'invalid.yml',
      'steps:\n  - bash: echo\n    retryCountOnTaskFailure: 2\n',
    );
    const common = ['--tasks', fixture.tasks, '--work-dir', fixture.work];

    const ok = await runCli(
      ['pipeline', 'run', good, ...common, '--var', 'who=cli', '--record', 'out/record.json'],
      fixture.dir,
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /hello cli/);
    assert.match(ok.stdout, /##\[section\]Starting: Set x/);
    assert.match(ok.stdout, /Result: Succeeded/);
    const copied = JSON.parse(await readFile(join(fixture.dir, 'out/record.json'), 'utf8')) as RunRecord;
    assert.equal(copied.result, 'Succeeded');

    const failed = await runCli(['pipeline', 'run', bad, ...common], fixture.dir);
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /Result: Failed/);

    const syntax = await runCli(['pipeline', 'run', invalid, ...common], fixture.dir);
    assert.equal(syntax.code, 2);
    assert.match(syntax.stderr, /retryCountOnTaskFailure/);
    assert.doesNotMatch(syntax.stderr, /\n\s+at /, 'no stack trace');

    const usage = await runCli(['pipeline', 'run', good, '--var', 'novalue'], fixture.dir);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--var needs NAME=VALUE/);

    // Ctrl-C: the first SIGINT cancels gracefully; always() steps still run and the exit code is 1.
    const slow = await fixture.write(
      'slow.yml',
      `steps:
  - bash: |
      ${interruptibleSleep(30)}
    displayName: Slow
  - bash: echo cleanup-after-ctrl-c
    condition: always()
`,
    );
    const child = spawn(process.execPath, [cliBundle, 'pipeline', 'run', slow, ...common], {
      cwd: fixture.dir,
    });
    let output = '';
    let interrupted = false;
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Starting: Slow') && !interrupted) {
        interrupted = true;
        setTimeout(() => child.kill('SIGINT'), 300);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 1, output);
    assert.match(output, /cleanup-after-ctrl-c/);
    assert.match(output, /Result: Canceled/);

    const help = await runCli(['pipeline', '--help'], fixture.dir);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /keyless pipeline run/);
  });
});
