import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PipelineFileError, PipelineSyntaxError, loadPipeline, loadPipelineFile } from './load';
import type { LoadOptions } from './load';
import type { CheckoutStep, Pipeline, TaskStep } from '../model';

const FILE = '/repo/azure-pipelines.yml';

/** Template tag: drops the first newline and the common indentation, so line numbers read naturally. */
function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const text = String.raw({ raw: strings }, ...values).replace(/^\n/, '');
  const indent = Math.min(
    ...text
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => /^ */.exec(l)?.[0].length ?? 0),
  );
  return text
    .split('\n')
    .map((l) => l.slice(indent))
    .join('\n');
}

function load(text: string, options: Partial<LoadOptions> = {}): Pipeline {
  return loadPipeline(text, { file: FILE, ...options });
}

/** Asserts the error names the file, the line and the YAML path, then the problem. */
function fails(
  text: string,
  line: number,
  path: string,
  problem: RegExp,
  options: Partial<LoadOptions> = {},
) {
  assert.throws(
    () => load(text, options),
    (error: unknown) => {
      assert.ok(error instanceof PipelineSyntaxError, `expected PipelineSyntaxError, got ${String(error)}`);
      assert.equal(error.code, 'PipelineSyntax');
      const prefix = `${FILE}:${line}: ${path}: `;
      assert.ok(error.message.startsWith(prefix), `expected "${prefix}…", got "${error.message}"`);
      assert.match(error.message.slice(prefix.length), problem);
      assert.ok(error.fix && error.fix.length > 0, 'a fix is given');
      return true;
    },
  );
}

const task = (pipeline: Pipeline, stage = 0, job = 0, step = 0): TaskStep => {
  const found = pipeline.stages[stage]?.jobs[job]?.steps[step];
  assert.equal(found?.kind, 'task');
  return found as TaskStep;
};

// ── implicit forms and the blog's pipeline ───────────────────────────────────────────────────────────

test("the blog's pipeline: root steps become stage __default / job Job with the task as written", () => {
  const pipeline = load(yaml`
    trigger:
      - main
    pool: Default
    steps:
      - task: CloudFormationCreateOrUpdateStack@1
        inputs:
          regionName: us-east-1
          stackName: aws-sample-app
          templateSource: file
          templateFile: deploy-app-to-aws.yml
  `);
  assert.equal(pipeline.file, FILE);
  assert.equal(pipeline.name, undefined);
  assert.deepEqual(pipeline.trigger, {
    enabled: true,
    branches: { include: ['main'], exclude: [] },
    paths: { include: [], exclude: [] },
    tags: { include: [], exclude: [] },
    batch: false,
  });
  assert.deepEqual(pipeline.pr.branches.include, ['*']);
  assert.equal(pipeline.stages.length, 1);
  const [stage] = pipeline.stages;
  assert.equal(stage?.name, '__default');
  assert.deepEqual(stage?.dependsOn, []);
  assert.equal(stage?.jobs.length, 1);
  const job = stage?.jobs[0];
  assert.equal(job?.name, 'Job');
  assert.equal(job?.timeoutInMinutes, 60);
  assert.equal(job?.continueOnError, false);
  assert.equal(job?.pool, 'Default');
  assert.deepEqual(job?.steps, [
    {
      kind: 'task',
      task: 'CloudFormationCreateOrUpdateStack@1',
      inputs: {
        regionName: 'us-east-1',
        stackName: 'aws-sample-app',
        templateSource: 'file',
        templateFile: 'deploy-app-to-aws.yml',
      },
      name: '__step1',
      named: false,
      continueOnError: false,
      enabled: true,
      env: {},
      path: 'steps[0]',
    },
  ]);
});

test('root jobs: become stage __default; jobs default to no dependsOn and inherit the root pool', () => {
  const pipeline = load(yaml`
    pool:
      vmImage: ubuntu-latest
    jobs:
      - job: Build
        steps:
          - script: make
      - job: Test
        dependsOn: build
        timeoutInMinutes: 5
        pool: Local
        steps:
          - script: make test
  `);
  const [stage] = pipeline.stages;
  assert.equal(stage?.name, '__default');
  assert.deepEqual(
    stage?.jobs.map((j) => [j.name, j.dependsOn, j.timeoutInMinutes, j.pool, j.path]),
    [
      ['Build', [], 60, { vmImage: 'ubuntu-latest' }, 'jobs[0]'],
      ['Test', ['Build'], 5, 'Local', 'jobs[1]'],
    ],
  );
  assert.equal(task(pipeline, 0, 1).path, 'jobs[1].steps[0]');
});

test('bash: → Bash@3 inline and script: → CmdLine@2, with workingDirectory/failOnStderr as inputs', () => {
  const pipeline = load(yaml`
    steps:
      - bash: echo $(greeting)
        workingDirectory: sub
        failOnStderr: true
        name: hello
        displayName: Say hello
        condition: succeededOrFailed()
        continueOnError: true
        enabled: 'false'
        timeoutInMinutes: 3
        env:
          TOKEN: $(secretToken)
          COUNT: 5
      - script: |
          echo one
          echo two
      - checkout: self
        clean: true
        fetchDepth: 1
        persistCredentials: true
        lfs: false
        submodules: recursive
      - checkout: none
  `);
  const bash = task(pipeline, 0, 0, 0);
  assert.equal(bash.task, 'Bash@3');
  assert.deepEqual(bash.inputs, {
    targetType: 'inline',
    script: 'echo $(greeting)',
    workingDirectory: 'sub',
    failOnStderr: 'true',
  });
  assert.equal(bash.name, 'hello');
  assert.equal(bash.named, true);
  assert.equal(bash.displayName, 'Say hello');
  assert.equal(bash.condition, 'succeededOrFailed()');
  assert.equal(bash.continueOnError, true);
  assert.equal(bash.enabled, false);
  assert.equal(bash.timeoutInMinutes, 3);
  assert.deepEqual(bash.env, { TOKEN: '$(secretToken)', COUNT: '5' });
  const script = task(pipeline, 0, 0, 1);
  assert.equal(script.task, 'CmdLine@2');
  assert.deepEqual(script.inputs, { script: 'echo one\necho two\n' });
  assert.equal(script.name, '__step2');
  const steps = pipeline.stages[0]?.jobs[0]?.steps ?? [];
  assert.deepEqual(
    steps.slice(2).map((s) => [s.kind, (s as CheckoutStep).repository, s.name]),
    [
      ['checkout', 'self', '__step3'],
      ['checkout', 'none', '__step4'],
    ],
  );
});

test('YAML booleans and numbers are stringified the way the server does', () => {
  const pipeline = load(yaml`
    steps:
      - task: Some@1
        condition: true
        inputs:
          flag: true
          off: False
          count: 5
          version: 3.10
          empty:
          quoted: '007'
  `);
  const step = task(pipeline);
  assert.equal(step.condition, 'true');
  // 3.10 is a YAML float, so the server passes 3.1 — quote it to keep the zero.
  assert.deepEqual(step.inputs, {
    flag: 'true',
    off: 'false',
    count: '5',
    version: '3.1',
    empty: '',
    quoted: '007',
  });
});

// ── stages, dependsOn, variables at three levels ─────────────────────────────────────────────────────

const MULTI_STAGE = yaml`
  name: $(Date:yyyyMMdd)-${'$'}{{ variables.flavour }}
  variables:
    flavour: vanilla
    region: us-east-1
    level: root
  stages:
    - stage: Build
      displayName: Build ${'$'}{{ variables.level }}
      variables:
        - name: level
          value: stage
          readonly: true
      jobs:
        - job: Compile
          variables:
            level: job
            where: ${'$'}{{ variables.level }}-${'$'}{{ variables['region'] }}
          steps:
            - bash: echo ${'$'}{{ variables.level }} $(level)
              displayName: ${'$'}{{ variables.LEVEL }}
        - job: Package
          dependsOn: Compile
          steps:
            - task: Pack@1
              inputs:
                level: ${'$'}{{ variables.level }}
                nothing: '[${'$'}{{ variables.missing }}]'
    - stage: Test
      jobs:
        - job: Unit
          condition: eq(variables['level'], 'root')
          steps:
            - script: echo ${'$'}{{ variables.level }}
    - stage: Deploy
      dependsOn:
        - build
        - TEST
      condition: and(succeeded(), eq(variables.region, 'us-east-1'))
      jobs:
        - job: Ship
          steps:
            - script: ship
    - stage: Report
      dependsOn: []
      jobs:
        - job: Mail
          steps:
            - script: mail
`;

test('multi-stage: default dependsOn is the previous stage; names resolve case-insensitively', () => {
  const pipeline = load(MULTI_STAGE);
  assert.deepEqual(
    pipeline.stages.map((s) => [s.name, s.dependsOn, s.path]),
    [
      ['Build', [], 'stages[0]'],
      ['Test', ['Build'], 'stages[1]'],
      ['Deploy', ['Build', 'Test'], 'stages[2]'],
      ['Report', [], 'stages[3]'],
    ],
  );
  assert.deepEqual(pipeline.stages[0]?.jobs[1]?.dependsOn, ['Compile']);
  assert.equal(pipeline.stages[2]?.condition, "and(succeeded(), eq(variables.region, 'us-east-1'))");
});

test('multi-stage: variables at three levels and ${{ variables.x }} picks the innermost', () => {
  const pipeline = load(MULTI_STAGE);
  assert.equal(pipeline.name, '$(Date:yyyyMMdd)-vanilla');
  assert.deepEqual(pipeline.variables, [
    { name: 'flavour', value: 'vanilla' },
    { name: 'region', value: 'us-east-1' },
    { name: 'level', value: 'root' },
  ]);
  const build = pipeline.stages[0];
  assert.equal(build?.displayName, 'Build stage');
  assert.deepEqual(build?.variables, [{ name: 'level', value: 'stage', readonly: true }]);
  assert.deepEqual(build?.jobs[0]?.variables, [
    { name: 'level', value: 'job' },
    { name: 'where', value: 'job-us-east-1' },
  ]);
  const compile = task(pipeline, 0, 0);
  assert.equal(compile.inputs.script, 'echo job $(level)');
  assert.equal(compile.displayName, 'job');
  assert.deepEqual(task(pipeline, 0, 1).inputs, { level: 'stage', nothing: '[]' });
  assert.equal(task(pipeline, 1, 0).inputs.script, 'echo root');
  assert.equal(pipeline.stages[1]?.jobs[0]?.condition, "eq(variables['level'], 'root')");
});

test('queue-time overrides are visible to ${{ variables.x }} and win over every YAML level', () => {
  const pipeline = load(MULTI_STAGE, { overrides: { LEVEL: 'queued', extra: 'x' } });
  assert.equal(task(pipeline, 0, 0).inputs.script, 'echo queued $(level)');
  assert.equal(task(pipeline, 1, 0).inputs.script, 'echo queued');
  // The declarations themselves are unchanged: the executor applies overrides at run time.
  assert.deepEqual(pipeline.variables[2], { name: 'level', value: 'root' });
});

// ── triggers ─────────────────────────────────────────────────────────────────────────────────────────

test('trigger and pr: none, lists and the mapping form', () => {
  const none = load('trigger: none\npr: none\nsteps:\n  - script: x\n');
  assert.equal(none.trigger.enabled, false);
  assert.deepEqual(none.trigger.branches.include, []);
  assert.equal(none.pr.enabled, false);
  const mapped = load(yaml`
    trigger:
      batch: true
      branches:
        include: [main, 'releases/*']
        exclude: [releases/old]
      paths:
        exclude: [docs/*]
      tags:
        include: [v*]
    pr:
      autoCancel: false
      branches:
        exclude: [wip/*]
    steps:
      - script: x
  `);
  assert.deepEqual(mapped.trigger, {
    enabled: true,
    batch: true,
    branches: { include: ['main', 'releases/*'], exclude: ['releases/old'] },
    paths: { include: [], exclude: ['docs/*'] },
    tags: { include: ['v*'], exclude: [] },
  });
  assert.deepEqual(mapped.pr.branches, { include: ['*'], exclude: ['wip/*'] });
  const tagsOnly = load('trigger:\n  tags:\n    include: [v*]\nsteps:\n  - script: x\n');
  assert.deepEqual(tagsOnly.trigger.branches.include, []);
});

test('trigger errors: unknown keys, pr-only keys and expressions', () => {
  fails('trigger:\n  branch: main\nsteps:\n  - script: x\n', 2, 'trigger.branch', /unknown key `branch`/);
  fails('pr:\n  batch: true\nsteps:\n  - script: x\n', 2, 'pr.batch', /unknown key `batch`/);
  fails(
    'trigger: main\nsteps:\n  - script: x\n',
    1,
    'trigger',
    /must be `none`, a list of branches or a mapping/,
  );
  fails(
    'trigger:\n  - ${{ variables.b }}\nsteps:\n  - script: x\n',
    2,
    'trigger[0]',
    /template expressions are not allowed here/,
  );
});

// ── variables ────────────────────────────────────────────────────────────────────────────────────────

test('list-form variables: name/value/readonly and groups resolved from the groups file', () => {
  const pipeline = load(
    yaml`
      variables:
        - name: before
          value: 1
        - group: Shared
        - name: after
          value: ${'$'}{{ variables.fromGroup }}!
        - name: System.Debug
          value: true
      steps:
        - script: x
    `,
    { variableGroups: { shared: { fromGroup: 'G', other: 'O' } } },
  );
  assert.deepEqual(pipeline.variables, [
    { name: 'before', value: '1' },
    { name: 'fromGroup', value: 'G' },
    { name: 'other', value: 'O' },
    { name: 'after', value: 'G!' },
    { name: 'System.Debug', value: 'true' },
  ]);
});

test('variable errors: unknown group, templates, names, reserved prefixes, system variables, secrets', () => {
  const listed = (entry: string) => `variables:\n  - ${entry}\nsteps:\n  - script: x\n`;
  fails(
    listed('group: prod'),
    2,
    'variables[0].group',
    /variable group 'prod' is not defined.*\(it defines: dev\)/,
    {
      variableGroups: { dev: {} },
    },
  );
  fails(listed('group: prod'), 2, 'variables[0].group', /no groups are defined/);
  fails(listed('template: vars.yml'), 2, 'variables[0]', /templates are not supported by the local runner/);
  fails(listed('name: x\n    secret: true'), 3, 'variables[0].secret', /unknown key `secret`/);
  fails(listed('value: 1'), 2, 'variables[0]', /needs `name:`/);
  const mapped = (name: string) => `variables:\n  ${name}: 1\nsteps:\n  - script: x\n`;
  fails(mapped('my-var'), 2, 'variables.my-var', /invalid variable name 'my-var'/);
  for (const name of ['secret.key', 'INPUT_FILE', 'Endpoint.x', 'path', 'secureFile.id']) {
    fails(mapped(name), 2, `variables.${name}`, /reserved prefix/);
  }
  // Only the agent-owned environment names are reserved; ordinary words that start the same way are fine.
  assert.equal(load(mapped('inputFile')).variables[0]?.name, 'inputFile');
  fails(mapped('Build.BuildNumber'), 2, 'variables.Build.BuildNumber', /read-only system variable/);
  fails(mapped('agent.tempdirectory'), 2, 'variables.agent.tempdirectory', /read-only system variable/);
  fails('variables: 5\nsteps:\n  - script: x\n', 1, 'variables', /must be a mapping or a list/);
  fails(
    'variables:\n  a:\n    b: c\nsteps:\n  - script: x\n',
    3,
    'variables.a',
    /expected a single value, found a mapping/,
  );
});

// ── the three syntaxes ───────────────────────────────────────────────────────────────────────────────

test('$[ ] is kept as a whole variable value or condition; $(x) macros are untouched', () => {
  const pipeline = load(yaml`
    variables:
      counter: $[ counter(variables['major'], 0) ]
      fromJob: "$[ dependencies.A.outputs['s.v'] ]"
    jobs:
      - job: A
        steps:
          - bash: echo "##vso[task.setvariable variable=v;isOutput=true]1"
            name: s
      - job: B
        dependsOn: A
        condition: $[ eq(dependencies.A.result, 'Succeeded') ]
        steps:
          - script: echo $(counter) $(s.v) $(unknown)
            condition: eq(variables['x'], ']')
  `);
  assert.deepEqual(pipeline.variables, [
    { name: 'counter', value: "$[ counter(variables['major'], 0) ]" },
    { name: 'fromJob', value: "$[ dependencies.A.outputs['s.v'] ]" },
  ]);
  assert.equal(pipeline.stages[0]?.jobs[1]?.condition, "$[ eq(dependencies.A.result, 'Succeeded') ]");
  assert.equal(task(pipeline, 0, 1).inputs.script, 'echo $(counter) $(s.v) $(unknown)');
});

test('$[ ] must be whole in variable values and conditions; elsewhere it is script text, kept as written', () => {
  fails('variables:\n  a: x-$[ 1 ]\nsteps:\n  - script: x\n', 2, 'variables.a', /must be the whole value/);
  fails(
    'variables:\n  a: $[ 1 ] and $[ 2 ]\nsteps:\n  - script: x\n',
    2,
    'variables.a',
    /must be the whole value/,
  );
  fails(
    'steps:\n  - script: x\n    condition: and($[ a ], b)\n',
    3,
    'steps[0].condition',
    /must be the whole value/,
  );
  const pipeline = loadPipeline('steps:\n  - script: echo $[ 1 + 2 ]\n', {
    file: '/repo/azure-pipelines.yml',
  });
  const step = pipeline.stages[0]!.jobs[0]!.steps[0]!;
  assert.equal(step.kind === 'task' ? step.inputs.script : undefined, 'echo $[ 1 + 2 ]');
});

test('${{ }} other than variables fails with what is not supported', () => {
  const step = (expr: string) => `steps:\n  - script: echo "\${{ ${expr} }}"\n`;
  fails(step('parameters.env'), 2, 'steps[0].script', /template parameters .* are not supported/);
  fails(step("if eq(variables.a, 'b')"), 2, 'steps[0].script', /template directive .* not supported/);
  fails(step('each x in variables'), 2, 'steps[0].script', /template directive/);
  fails(step("format('{0}', variables.a)"), 2, 'steps[0].script', /only \$\{\{ variables\.x \}\}/);
  fails('steps:\n  - script: echo ${{ variables.a\n', 2, 'steps[0].script', /is not closed/);
  fails(
    yaml`
      steps:
        - script: x
          env:
            ${'$'}{{ if true }}:
              A: b
    `,
    4,
    'steps[0].env.${{ if true }}',
    /template expressions in keys/,
  );
});

// ── structural errors, each with its YAML path and line ──────────────────────────────────────────────

test('unsupported step keys are errors with the full YAML path', () => {
  fails(
    yaml`
      stages:
        - stage: A
          jobs:
            - job: One
              steps:
                - script: x
            - job: Two
              steps:
                - script: a
                - script: b
                - script: c
                  retryCountOnTaskFailure: 2
    `,
    12,
    'stages[0].jobs[1].steps[2].retryCountOnTaskFailure',
    /`retryCountOnTaskFailure` is not supported by the local runner/,
  );
  fails('steps:\n  - script: x\n    foo: 1\n', 3, 'steps[0].foo', /unknown key `foo` in a step/);
  fails('steps:\n  - script: x\n    inputs:\n      a: b\n', 3, 'steps[0].inputs', /unknown key `inputs`/);
  fails('steps:\n  - checkout: self\n    path: s\n', 3, 'steps[0].path', /unknown key `path`/);
});

test('unsupported step types name themselves', () => {
  for (const type of ['pwsh', 'powershell', 'download', 'publish', 'template']) {
    fails(
      `steps:\n  - script: x\n  - ${type}: something\n`,
      3,
      `steps[1].${type}`,
      new RegExp(`\`${type}\` steps are not supported`),
    );
  }
  fails('steps:\n  - displayName: x\n', 2, 'steps[0]', /the step has no type/);
  fails('steps:\n  - bash: a\n    script: b\n', 2, 'steps[0]', /both `bash` and `script`/);
  fails('steps:\n  - checkout: other\n', 2, 'steps[0].checkout', /checkout of 'other' is not supported/);
});

test('unsupported job, stage and root features fail and say so', () => {
  const job = (extra: string) => `jobs:\n  - job: A\n    ${extra}\n    steps:\n      - script: x\n`;
  fails(
    job('strategy:\n      parallel: 2'),
    3,
    'jobs[0].strategy',
    /`strategy` \(matrix\/parallel\) is not supported/,
  );
  fails(job('workspace:\n      clean: all'), 3, 'jobs[0].workspace', /not supported/);
  fails(job('container: ubuntu'), 3, 'jobs[0].container', /container jobs are not supported/);
  fails(job('services: {}'), 3, 'jobs[0].services', /service containers are not supported/);
  fails(
    'jobs:\n  - deployment: D\n    environment: prod\n',
    2,
    'jobs[0]',
    /deployment jobs are not supported/,
  );
  fails('jobs:\n  - template: j.yml\n', 2, 'jobs[0]', /templates are not supported/);
  fails('stages:\n  - template: s.yml\n', 2, 'stages[0]', /templates are not supported/);
  fails(
    'parameters:\n  - name: a\nsteps:\n  - script: x\n',
    1,
    'parameters',
    /runtime parameters are not supported/,
  );
  fails('extends:\n  template: x.yml\n', 1, 'extends', /templates are not supported/);
  fails('resources:\n  repositories: []\nsteps:\n  - script: x\n', 1, 'resources', /not supported/);
  fails(
    'stages:\n  - stage: A\n    pool: x\n    foo: 1\n    jobs: []\n',
    4,
    'stages[0].foo',
    /unknown key `foo` in a stage/,
  );
});

test('root shape errors', () => {
  fails('steps:\n  - script: x\njobs:\n  - job: A\n    steps: []\n', 3, 'jobs', /both `steps` and `jobs`/);
  fails('trigger: none\n', 1, '(root)', /no `stages`, `jobs` or `steps`/);
  fails('', 1, '(root)', /the pipeline is empty/);
  fails('- script: x\n', 1, '(root)', /the pipeline must be a mapping/);
  fails('steps: []\n', 1, 'steps', /`steps` is empty/);
  fails('steps:\n  script: x\n', 2, 'steps', /`steps` must be a list/);
  fails('jobs:\n  - job: A\n', 2, 'jobs[0]', /a job needs `steps:`/);
  fails('stages:\n  - jobs: []\n', 2, 'stages[0]', /each stage needs `- stage: <name>`/);
});

test('input and env values must be single values', () => {
  fails(
    'steps:\n  - task: T@1\n    inputs:\n      list: [a, b]\n',
    4,
    'steps[0].inputs.list',
    /found a list/,
  );
  fails('steps:\n  - script: x\n    env:\n      A:\n        b: c\n', 5, 'steps[0].env.A', /found a mapping/);
  fails('steps:\n  - script: x\n    enabled: maybe\n', 3, 'steps[0].enabled', /expected true or false/);
  fails(
    'steps:\n  - script: x\n    timeoutInMinutes: soon\n',
    3,
    'steps[0].timeoutInMinutes',
    /whole number/,
  );
});

test('names: Azure naming rule, duplicates in a scope, generated step names', () => {
  fails(
    'jobs:\n  - job: my-job\n    steps:\n      - script: x\n',
    2,
    'jobs[0].job',
    /invalid job name 'my-job'/,
  );
  fails('stages:\n  - stage: 1st\n    jobs: []\n', 2, 'stages[0].stage', /invalid stage name '1st'/);
  fails('steps:\n  - script: x\n    name: a.b\n', 3, 'steps[0].name', /invalid step name 'a.b'/);
  fails(
    'steps:\n  - script: x\n    name: s\n  - script: y\n    name: S\n',
    5,
    'steps[1].name',
    /duplicate step name 'S' \(also used by steps\[0\]\)/,
  );
  fails(
    'jobs:\n  - job: A\n    steps: [{script: x}]\n  - job: a\n    steps: [{script: x}]\n',
    4,
    'jobs[1].job',
    /duplicate job name 'a'/,
  );
  fails(
    'steps:\n  - script: x\n  - script: y\n    name: __step1\n',
    4,
    'steps[1].name',
    /duplicate step name '__step1'/,
  );
  // The same job name in two stages is fine.
  const ok = load(
    'stages:\n  - stage: A\n    jobs: [{job: J, steps: [{script: x}]}]\n  - stage: B\n    jobs: [{job: J, steps: [{script: x}]}]\n',
  );
  assert.deepEqual(
    ok.stages.map((s) => s.jobs[0]?.name),
    ['J', 'J'],
  );
});

test('dependsOn: unknown names and cycles fail', () => {
  fails(
    'jobs:\n  - job: A\n    dependsOn: Nope\n    steps: [{script: x}]\n',
    3,
    'jobs[0].dependsOn',
    /job 'A' depends on unknown job 'Nope'/,
  );
  fails(
    yaml`
      jobs:
        - job: A
          dependsOn: C
          steps: [{script: x}]
        - job: B
          dependsOn: [A]
          steps: [{script: x}]
        - job: C
          dependsOn: b
          steps: [{script: x}]
    `,
    3,
    'jobs[0].dependsOn',
    /jobs depend on each other in a cycle: A → C → B → A/,
  );
  fails(
    'stages:\n  - stage: S\n    dependsOn: S\n    jobs: [{job: J, steps: [{script: x}]}]\n',
    3,
    'stages[0].dependsOn',
    /stages depend on each other in a cycle: S → S/,
  );
  fails(
    'stages:\n  - stage: S\n    jobs: [{job: J, steps: [{script: x}]}]\n  - stage: T\n    dependsOn: X\n    jobs: [{job: J, steps: [{script: x}]}]\n',
    5,
    'stages[1].dependsOn',
    /stage 'T' depends on unknown stage 'X'/,
  );
});

test('YAML problems: syntax errors, duplicate keys and anchors carry their line', () => {
  fails('steps:\n  - script: x\n  - script: a: b\n', 3, '(yaml)', /Nested mappings are not allowed/);
  fails('steps:\n  - script: x\n    script: y\n', 3, '(yaml)', /unique/);
  fails(
    'variables:\n  a: &v one\nsteps:\n  - script: *v\n',
    2,
    'variables.a',
    /anchor '&v': anchors and aliases are not supported/,
  );
});

// ── loadPipelineFile ─────────────────────────────────────────────────────────────────────────────────

test('loadPipelineFile reads the file and records its absolute path; a missing file is a clear error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pipeline-load-'));
  try {
    const file = join(dir, 'azure-pipelines.yml');
    await writeFile(file, 'steps:\n  - script: echo ${{ variables.who }}\n');
    const pipeline = await loadPipelineFile(file, { overrides: { who: 'me' } });
    assert.equal(pipeline.file, file);
    assert.equal(task(pipeline).inputs.script, 'echo me');
    await assert.rejects(loadPipelineFile(join(dir, 'missing.yml')), (error: unknown) => {
      assert.ok(error instanceof PipelineFileError);
      assert.match(error.message, /missing\.yml does not exist/);
      return true;
    });
    await assert.rejects(loadPipelineFile(dir), /is a directory/);
    await writeFile(file, 'steps:\n  - pwsh: x\n');
    await assert.rejects(loadPipelineFile(file), (error: unknown) => {
      assert.ok(error instanceof PipelineSyntaxError);
      assert.ok(error.message.startsWith(`${file}:2: steps[0].pwsh: `));
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
