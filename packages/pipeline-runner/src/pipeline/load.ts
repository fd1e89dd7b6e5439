/**
 * Loads an azure-pipelines.yml into the runner's model (contract §4, §7 items 13–15), doing what the Azure
 * server does before a job reaches an agent: implicit forms are normalised (root `steps:` → stage
 * `__default` / job `Job`, root `jobs:` → stage `__default`), `bash:`/`script:` become `Bash@3`/`CmdLine@2`
 * task steps, and `${{ variables.x }}` is resolved. `$(x)` macros and `$[ ]` values are left for run time.
 *
 * Every key outside the supported subset fails with its YAML path and line — nothing is silently ignored.
 * The exceptions are deliberate no-ops: `pool` is kept on each job for the record, and the checkout keys
 * `clean`, `fetchDepth`, `persistCredentials`, `lfs` and `submodules` are accepted and dropped (the
 * runner works on the local checkout as it is).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { KeylessError } from '@keyless/core';
import { isMap, isScalar, isSeq } from 'yaml';
import type {
  BranchFilter,
  CheckoutStep,
  Job,
  Pipeline,
  Stage,
  Step,
  StepBase,
  TaskStep,
  Trigger,
  VariableDeclaration,
} from '../model';
import { TemplateScope } from './template-expressions';
import { PipelineSyntaxError, ROOT, YamlReader } from './yaml-reader';
import type { Entries, Entry, Unsupported } from './yaml-reader';

export { PipelineSyntaxError };

export interface LoadOptions {
  /** Absolute path, for messages and `Pipeline.file`. */
  file: string;
  /** `- group: name` resolves here (the local groups file loaded by the CLI). */
  variableGroups?: Record<string, Record<string, string>>;
  /** Queue-time variables (`--var k=v`): visible to `${{ variables.x }}` and win over YAML values at run time (the executor applies them). */
  overrides?: Record<string, string>;
  /**
   * The predefined variables Azure DevOps knows when it compiles the YAML (Build.SourceBranch, Build.Reason,
   * System.TeamProject…), for `${{ variables['Build.SourceBranch'] }}`; read-only, so they win over YAML.
   */
  predefined?: Record<string, string>;
}

/** The pipeline file is missing or unreadable. */
export class PipelineFileError extends KeylessError {
  readonly code = 'PipelineFile';
}

export function loadPipeline(text: string, options: LoadOptions): Pipeline {
  return new PipelineReader(text, options).read();
}

export async function loadPipelineFile(
  path: string,
  options: Omit<LoadOptions, 'file'> = {},
): Promise<Pipeline> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const cause =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EISDIR'
          ? 'is a directory'
          : `cannot be read (${(error as Error).message})`;
    throw new PipelineFileError(
      `Pipeline file ${file} ${cause}`,
      'Pass the path of an existing azure-pipelines.yml file.',
    );
  }
  return loadPipeline(text, { ...options, file });
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const VARIABLE_NAME = /^[A-Za-z0-9_.]+$/;
/** Azure's reserved prefixes (docs: "Variable naming restrictions"); their env names collide with agent-owned ones. */
const RESERVED_PREFIXES = ['endpoint', 'input', 'secret', 'path', 'securefile'];
const SYSTEM_PREFIXES = ['system.', 'build.', 'agent.'];
/** System variables Azure lets a pipeline set (diagnostics switches). */
const SETTABLE_SYSTEM = new Set(['system.debug', 'agent.diagnostic']);

const notSupported = (what: string, fix: string): Unsupported => ({
  problem: `${what} not supported by the local runner`,
  fix,
});

const TEMPLATES = notSupported('templates are', 'Inline the template’s content into this file.');

const ROOT_KEYS = ['trigger', 'pr', 'name', 'variables', 'stages', 'jobs', 'steps', 'pool'];
const ROOT_UNSUPPORTED: Record<string, Unsupported> = {
  parameters: notSupported('runtime parameters are', 'Use variables (override them with --var name=value).'),
  extends: TEMPLATES,
  template: TEMPLATES,
  resources: notSupported('`resources` is', 'Remove it; the runner only sees the local repository.'),
  schedules: notSupported('`schedules` is', 'Remove it; run the pipeline locally on demand instead.'),
};
const STAGE_KEYS = ['stage', 'displayName', 'dependsOn', 'condition', 'variables', 'jobs', 'pool'];
const JOB_KEYS = [
  'job',
  'displayName',
  'dependsOn',
  'condition',
  'continueOnError',
  'variables',
  'pool',
  'timeoutInMinutes',
  'steps',
];
const JOB_UNSUPPORTED: Record<string, Unsupported> = {
  strategy: notSupported('`strategy` (matrix/parallel) is', 'Write one job per configuration.'),
  workspace: notSupported('`workspace` is', 'Remove it; each local run starts from a fresh work folder.'),
  container: notSupported('container jobs are', 'Remove `container:`; steps run on the local machine.'),
  services: notSupported('service containers are', 'Remove `services:` and start what you need yourself.'),
};
const COMMON_STEP_KEYS = [
  'name',
  'displayName',
  'condition',
  'continueOnError',
  'enabled',
  'env',
  'timeoutInMinutes',
];
const STEP_UNSUPPORTED: Record<string, Unsupported> = {
  retryCountOnTaskFailure: notSupported('`retryCountOnTaskFailure` is', 'Remove it; steps run once locally.'),
  target: notSupported('step `target` is', 'Remove it; steps run on the local machine.'),
};
const STEP_TYPE_KEYS: Record<string, string[]> = {
  task: ['inputs'],
  bash: ['workingDirectory', 'failOnStderr'],
  script: ['workingDirectory', 'failOnStderr'],
  checkout: ['clean', 'fetchDepth', 'persistCredentials', 'lfs', 'submodules'],
};
const UNSUPPORTED_STEP_TYPES = [
  'pwsh',
  'powershell',
  'download',
  'downloadBuild',
  'getPackage',
  'publish',
  'template',
  'reviewApp',
];
const TRIGGER_KEYS = {
  trigger: ['batch', 'branches', 'paths', 'tags'],
  pr: ['autoCancel', 'branches', 'paths', 'drafts'],
};

interface DependencyItem {
  target: Stage | Job;
  node: unknown;
  path: string;
}

class PipelineReader {
  private readonly yaml: YamlReader;
  private readonly overrides: ReadonlyMap<string, string>;

  constructor(
    private readonly source: string,
    private readonly options: LoadOptions,
  ) {
    this.yaml = new YamlReader(options.file);
    this.overrides = new Map(
      Object.entries({ ...options.overrides, ...options.predefined }).map(([k, v]) => [k.toLowerCase(), v]),
    );
  }

  read(): Pipeline {
    return this.root(this.yaml.parse(this.source));
  }

  // ── structure ────────────────────────────────────────────────────────────────────────────────────────

  private root(node: unknown): Pipeline {
    const e = this.yaml.entries(node, '', 'the pipeline', ROOT_KEYS, ROOT_UNSUPPORTED);
    const variables = this.variables(e.get('variables'), new TemplateScope([], this.overrides));
    const scope = new TemplateScope([variables.layer], this.overrides);
    const bodies = [...e.keys()].filter((k) => k === 'stages' || k === 'jobs' || k === 'steps');
    if (bodies.length !== 1) {
      const second = bodies[1] ? e.get(bodies[1]) : undefined;
      this.yaml.fail(
        second?.key ?? node,
        second?.path ?? ROOT,
        bodies.length === 0
          ? 'the pipeline has no `stages`, `jobs` or `steps`'
          : `the pipeline has both \`${bodies[0]}\` and \`${bodies[1]}\``,
        'Use exactly one of `stages:`, `jobs:` or `steps:` at the root.',
      );
    }
    const pool = this.pool(e.get('pool'));
    const name = e.get('name');
    const pipeline: Pipeline = {
      trigger: this.trigger(e.get('trigger'), 'trigger'),
      pr: this.trigger(e.get('pr'), 'pr'),
      variables: variables.decls,
      stages: this.body(e, bodies[0] ?? '', scope, pool),
      file: this.options.file,
    };
    if (name) pipeline.name = this.yaml.text(name.value, name.path, { scope });
    return pipeline;
  }

  private body(e: Entries, kind: string, scope: TemplateScope, pool: unknown): Stage[] {
    const entry = e.get(kind) as Entry;
    if (kind === 'stages') return this.stages(entry, scope, pool);
    const implicit = (jobs: Job[]): Stage[] => [
      { name: '__default', dependsOn: [], variables: [], jobs, path: ROOT },
    ];
    if (kind === 'jobs') return implicit(this.jobs(entry, scope, pool));
    const job: Job = {
      name: 'Job',
      dependsOn: [],
      continueOnError: false,
      timeoutInMinutes: 60,
      variables: [],
      steps: this.steps(entry, scope),
      path: ROOT,
    };
    if (pool !== undefined) job.pool = pool;
    return implicit([job]);
  }

  private stages(entry: Entry, scope: TemplateScope, pool: unknown): Stage[] {
    const items = this.yaml.list(entry.value, entry.path, 'stages', true);
    const stages: Stage[] = [];
    const deps: DependencyItem[] = [];
    const seen = new Map<string, string>();
    items.forEach((node, i) => {
      const path = `${entry.path}[${i}]`;
      if (isMap(node) && node.has('template')) this.yaml.fail(node, path, TEMPLATES.problem, TEMPLATES.fix);
      const e = this.yaml.entries(node, path, 'a stage', STAGE_KEYS);
      const nameEntry = this.yaml.required(e, 'stage', node, path, 'each stage needs `- stage: <name>`');
      const name = this.name(nameEntry, 'stage', seen);
      const variables = this.variables(e.get('variables'), scope);
      const stageScope = scope.with(variables.layer);
      const stagePool = this.pool(e.get('pool')) ?? pool;
      const previous = stages[stages.length - 1];
      const dependsOn = e.get('dependsOn');
      const stage: Stage = {
        name,
        dependsOn: dependsOn ? this.nameList(dependsOn) : previous ? [previous.name] : [],
        variables: variables.decls,
        jobs: this.jobs(
          this.yaml.required(e, 'jobs', node, path, 'a stage needs `jobs:`'),
          stageScope,
          stagePool,
        ),
        path,
      };
      this.yaml.optionalText(e, 'displayName', stageScope, (v) => (stage.displayName = v));
      this.yaml.optionalText(e, 'condition', stageScope, (v) => (stage.condition = v), 'whole');
      stages.push(stage);
      deps.push({ target: stage, node: dependsOn?.value ?? node, path: dependsOn?.path ?? path });
    });
    this.checkDependencies('stage', deps);
    return stages;
  }

  private jobs(entry: Entry, scope: TemplateScope, pool: unknown): Job[] {
    const items = this.yaml.list(entry.value, entry.path, 'jobs', true);
    const jobs: Job[] = [];
    const deps: DependencyItem[] = [];
    const seen = new Map<string, string>();
    items.forEach((node, i) => {
      const path = `${entry.path}[${i}]`;
      if (isMap(node) && node.has('deployment')) {
        this.yaml.fail(
          node,
          path,
          'deployment jobs are not supported by the local runner',
          'Use `- job:` with steps.',
        );
      }
      if (isMap(node) && node.has('template')) this.yaml.fail(node, path, TEMPLATES.problem, TEMPLATES.fix);
      const e = this.yaml.entries(node, path, 'a job', JOB_KEYS, JOB_UNSUPPORTED);
      const name = this.name(
        this.yaml.required(e, 'job', node, path, 'each job needs `- job: <name>`'),
        'job',
        seen,
      );
      const variables = this.variables(e.get('variables'), scope);
      const jobScope = scope.with(variables.layer);
      const dependsOn = e.get('dependsOn');
      const timeout = e.get('timeoutInMinutes');
      const continueOnError = e.get('continueOnError');
      const job: Job = {
        name,
        dependsOn: dependsOn ? this.nameList(dependsOn) : [],
        continueOnError: continueOnError ? this.yaml.bool(continueOnError, jobScope) : false,
        timeoutInMinutes: timeout ? this.yaml.minutes(timeout, jobScope) : 60,
        variables: variables.decls,
        steps: this.steps(this.yaml.required(e, 'steps', node, path, 'a job needs `steps:`'), jobScope),
        path,
      };
      const jobPool = this.pool(e.get('pool')) ?? pool;
      if (jobPool !== undefined) job.pool = jobPool;
      this.yaml.optionalText(e, 'displayName', jobScope, (v) => (job.displayName = v));
      this.yaml.optionalText(e, 'condition', jobScope, (v) => (job.condition = v), 'whole');
      jobs.push(job);
      deps.push({ target: job, node: dependsOn?.value ?? node, path: dependsOn?.path ?? path });
    });
    this.checkDependencies('job', deps);
    return jobs;
  }

  private steps(entry: Entry, scope: TemplateScope): Step[] {
    const seen = new Map<string, string>();
    return this.yaml
      .list(entry.value, entry.path, 'steps', true)
      .map((node, i) => this.step(node, `${entry.path}[${i}]`, i, scope, seen));
  }

  private step(
    node: unknown,
    path: string,
    index: number,
    scope: TemplateScope,
    seen: Map<string, string>,
  ): Step {
    if (!isMap(node)) {
      this.yaml.fail(node, path, 'a step must be a mapping', 'Write `- bash: …`, `- task: …` etc.');
    }
    const keys = node.items.map((p) => (isScalar(p.key) ? String(p.key.value) : ''));
    const unsupported = keys.find((k) => UNSUPPORTED_STEP_TYPES.includes(k));
    if (unsupported) {
      this.yaml.fail(
        node.items[keys.indexOf(unsupported)]?.key,
        `${path}.${unsupported}`,
        `\`${unsupported}\` steps are not supported by the local runner`,
        unsupported === 'template'
          ? TEMPLATES.fix
          : 'Use a `bash:` or `script:` step, or a `task:` the runner can run.',
      );
    }
    const types = keys.filter((k) => k in STEP_TYPE_KEYS);
    if (types.length !== 1) {
      this.yaml.fail(
        node,
        path,
        types.length === 0
          ? 'the step has no type (`task`, `bash`, `script` or `checkout`)'
          : `the step has both \`${types[0]}\` and \`${types[1]}\``,
        'Give each step exactly one of `task:`, `bash:`, `script:` or `checkout:`.',
      );
    }
    const type = types[0] as string;
    const e = this.yaml.entries(
      node,
      path,
      'a step',
      [type, ...COMMON_STEP_KEYS, ...(STEP_TYPE_KEYS[type] ?? [])],
      STEP_UNSUPPORTED,
    );
    const base = this.stepBase(e, path, index, scope, seen);
    const typeEntry = e.get(type) as Entry;
    if (type === 'checkout') {
      const repository = this.yaml.text(typeEntry.value, typeEntry.path, { scope });
      if (repository !== 'self' && repository !== 'none') {
        this.yaml.fail(
          typeEntry.value,
          typeEntry.path,
          `checkout of '${repository}' is not supported by the local runner`,
          'Use `checkout: self` (the local repository) or `checkout: none`.',
        );
      }
      for (const key of STEP_TYPE_KEYS.checkout ?? []) {
        const noOp = e.get(key);
        if (noOp) this.yaml.scalar(noOp.value, noOp.path);
      }
      const step: CheckoutStep = { ...base, kind: 'checkout', repository };
      return step;
    }
    let task: string;
    let inputs: Record<string, string>;
    if (type === 'task') {
      task = this.yaml.text(typeEntry.value, typeEntry.path, { scope });
      if (!task.trim()) {
        this.yaml.fail(
          typeEntry.value,
          typeEntry.path,
          'the task name is empty',
          'Write `task: Name@Major`.',
        );
      }
      const inputsEntry = e.get('inputs');
      inputs = inputsEntry ? this.yaml.stringMap(inputsEntry, scope) : {};
    } else {
      task = type === 'bash' ? 'Bash@3' : 'CmdLine@2';
      const script = this.yaml.text(typeEntry.value, typeEntry.path, { scope });
      inputs = type === 'bash' ? { targetType: 'inline', script } : { script };
      for (const key of STEP_TYPE_KEYS[type] ?? []) {
        const input = e.get(key);
        if (input) inputs[key] = this.yaml.text(input.value, input.path, { scope });
      }
    }
    const step: TaskStep = { ...base, kind: 'task', task, inputs };
    return step;
  }

  private stepBase(
    e: Entries,
    path: string,
    index: number,
    scope: TemplateScope,
    seen: Map<string, string>,
  ): StepBase {
    const nameEntry = e.get('name');
    const enabled = e.get('enabled');
    const continueOnError = e.get('continueOnError');
    const env = e.get('env');
    const base: StepBase = {
      name: nameEntry ? this.name(nameEntry, 'step', seen) : this.generatedName(index, path, e, seen),
      named: nameEntry !== undefined,
      continueOnError: continueOnError ? this.yaml.bool(continueOnError, scope) : false,
      enabled: enabled ? this.yaml.bool(enabled, scope) : true,
      env: env ? this.yaml.stringMap(env, scope) : {},
      path,
    };
    this.yaml.optionalText(e, 'displayName', scope, (v) => (base.displayName = v));
    this.yaml.optionalText(e, 'condition', scope, (v) => (base.condition = v), 'whole');
    const timeout = e.get('timeoutInMinutes');
    if (timeout) base.timeoutInMinutes = this.yaml.minutes(timeout, scope);
    return base;
  }

  private generatedName(index: number, path: string, e: Entries, seen: Map<string, string>): string {
    const name = `__step${index + 1}`;
    const clash = seen.get(name.toLowerCase());
    if (clash) {
      const [first] = e.values();
      this.yaml.fail(
        first?.key,
        path,
        `the generated step name '${name}' clashes with ${clash}`,
        'Rename that step.',
      );
    }
    seen.set(name.toLowerCase(), `the unnamed step at ${path}`);
    return name;
  }

  // ── variables, triggers, pool ──────────────────────────────────────────────────────────────────────

  private variables(
    entry: Entry | undefined,
    outer: TemplateScope,
  ): { decls: VariableDeclaration[]; layer: Map<string, string> } {
    const decls: VariableDeclaration[] = [];
    const layer = new Map<string, string>();
    // Each value sees the variables declared before it in the same block, as on the server.
    const scope = outer.with(layer);
    const add = (decl: VariableDeclaration): void => {
      decls.push(decl);
      layer.set(decl.name.toLowerCase(), decl.value);
    };
    if (!entry || (isScalar(entry.value) && entry.value.value === null)) return { decls, layer };
    if (isMap(entry.value)) {
      for (const [name, item] of this.yaml.entries(entry.value, entry.path, 'variables', null)) {
        this.variableName(name, item.key, item.path);
        add({ name, value: this.yaml.text(item.value, item.path, { scope, runtime: 'whole' }) });
      }
      return { decls, layer };
    }
    if (!isSeq(entry.value)) {
      this.yaml.fail(
        entry.value,
        entry.path,
        '`variables` must be a mapping or a list',
        'Write `variables: { name: value }` or a list of `- name: … value: …` / `- group: …`.',
      );
    }
    entry.value.items.forEach((node, i) => {
      const path = `${entry.path}[${i}]`;
      if (isMap(node) && node.has('template')) this.yaml.fail(node, path, TEMPLATES.problem, TEMPLATES.fix);
      if (isMap(node) && node.has('group')) {
        const group = this.yaml
          .entries(node, path, 'a variable group reference', ['group'])
          .get('group') as Entry;
        for (const [name, value] of Object.entries(this.group(group, scope))) add({ name, value });
        return;
      }
      const e = this.yaml.entries(node, path, 'a variable', ['name', 'value', 'readonly']);
      const nameEntry = this.yaml.required(e, 'name', node, path, 'each list-form variable needs `name:`');
      const name = this.yaml.text(nameEntry.value, nameEntry.path, { scope: null });
      this.variableName(name, nameEntry.value, nameEntry.path);
      const value = e.get('value');
      const decl: VariableDeclaration = {
        name,
        value: value ? this.yaml.text(value.value, value.path, { scope, runtime: 'whole' }) : '',
      };
      const readonly = e.get('readonly');
      if (readonly) decl.readonly = this.yaml.bool(readonly, scope);
      add(decl);
    });
    return { decls, layer };
  }

  private group(entry: Entry, scope: TemplateScope): Record<string, string> {
    const name = this.yaml.text(entry.value, entry.path, { scope });
    const groups = this.options.variableGroups ?? {};
    const found = Object.entries(groups).find(([k]) => k.toLowerCase() === name.toLowerCase());
    if (!found) {
      const known = Object.keys(groups);
      this.yaml.fail(
        entry.value,
        entry.path,
        `variable group '${name}' is not defined in the variable groups file` +
          (known.length ? ` (it defines: ${known.join(', ')})` : ' (no groups are defined)'),
        `Add an entry "${name}": { "VAR": "value" } to the variable groups file, or remove the reference.`,
      );
    }
    return found[1];
  }

  private variableName(name: string, node: unknown, path: string): void {
    const lower = name.toLowerCase();
    const fail = (problem: string, fix: string): never => this.yaml.fail(node, path, problem, fix);
    if (!VARIABLE_NAME.test(name)) {
      fail(`invalid variable name '${name}'`, 'Use only letters, digits, `.` and `_` in variable names.');
    }
    const reserved = RESERVED_PREFIXES.find(
      (p) => lower === p || lower.startsWith(`${p}.`) || lower.startsWith(`${p}_`),
    );
    if (reserved) {
      fail(
        `variable name '${name}' uses the reserved prefix '${reserved}' (the agent owns those environment names)`,
        'Rename the variable.',
      );
    }
    if (SYSTEM_PREFIXES.some((p) => lower.startsWith(p)) && !SETTABLE_SYSTEM.has(lower)) {
      fail(
        `'${name}' is a read-only system variable and cannot be set in YAML`,
        'Use a variable name of your own.',
      );
    }
  }

  private trigger(entry: Entry | undefined, kind: 'trigger' | 'pr'): Trigger {
    const filter = (include: string[] = []): BranchFilter => ({ include, exclude: [] });
    const trigger: Trigger = {
      enabled: true,
      branches: filter(['*']),
      paths: filter(),
      tags: filter(),
      batch: false,
    };
    if (!entry) return trigger;
    const { value, path } = entry;
    if (isSeq(value)) return { ...trigger, branches: filter(this.yaml.stringList(value, path)) };
    if (isScalar(value) && value.value === 'none') return { ...trigger, enabled: false, branches: filter() };
    if (!isMap(value)) {
      this.yaml.fail(
        value,
        path,
        `\`${kind}\` must be \`none\`, a list of branches or a mapping`,
        `Write \`${kind}: none\` or \`${kind}: [main]\`.`,
      );
    }
    const e = this.yaml.entries(value, path, `\`${kind}\``, TRIGGER_KEYS[kind]);
    const batch = e.get('batch');
    if (batch) trigger.batch = this.yaml.bool(batch, null);
    for (const key of ['autoCancel', 'drafts']) {
      const flag = e.get(key);
      if (flag) this.yaml.bool(flag, null);
    }
    // Tags alone mean "build tags only"; no branches and no tags mean every branch.
    const branches = e.get('branches');
    trigger.branches = branches ? this.filter(branches, ['*']) : e.has('tags') ? filter() : filter(['*']);
    const paths = e.get('paths');
    if (paths) trigger.paths = this.filter(paths, []);
    const tags = e.get('tags');
    if (tags) trigger.tags = this.filter(tags, []);
    return trigger;
  }

  private filter(entry: Entry, defaultInclude: string[]): BranchFilter {
    const e = this.yaml.entries(entry.value, entry.path, 'a filter', ['include', 'exclude']);
    const list = (key: string): string[] | undefined => {
      const item = e.get(key);
      return item ? this.yaml.stringList(item.value, item.path) : undefined;
    };
    return { include: list('include') ?? defaultInclude, exclude: list('exclude') ?? [] };
  }

  private pool(entry: Entry | undefined): unknown {
    if (!entry) return undefined;
    return isScalar(entry.value) || isMap(entry.value) || isSeq(entry.value)
      ? entry.value.toJSON()
      : undefined;
  }

  // ── dependencies and names ─────────────────────────────────────────────────────────────────────────

  private checkDependencies(kind: 'stage' | 'job', items: DependencyItem[]): void {
    const byName = new Map(items.map((item) => [item.target.name.toLowerCase(), item]));
    for (const item of items) {
      item.target.dependsOn = item.target.dependsOn.map((dep) => {
        const found = byName.get(dep.toLowerCase());
        if (!found) {
          this.yaml.fail(
            item.node,
            item.path,
            `${kind} '${item.target.name}' depends on unknown ${kind} '${dep}'`,
            `Depend on one of: ${items.map((i) => i.target.name).join(', ')}.`,
          );
        }
        return found.target.name;
      });
    }
    const done = new Set<DependencyItem>();
    const stack: DependencyItem[] = [];
    const walk = (item: DependencyItem): void => {
      if (done.has(item)) return;
      const at = stack.indexOf(item);
      if (at >= 0) {
        const cycle = [...stack.slice(at), item].map((i) => i.target.name).join(' → ');
        const first = stack[at] as DependencyItem;
        this.yaml.fail(
          first.node,
          first.path,
          `${kind}s depend on each other in a cycle: ${cycle}`,
          'Remove one of these `dependsOn` entries.',
        );
      }
      stack.push(item);
      for (const dep of item.target.dependsOn) walk(byName.get(dep.toLowerCase()) as DependencyItem);
      stack.pop();
      done.add(item);
    };
    items.forEach(walk);
  }

  private name(entry: Entry, kind: string, seen: Map<string, string>): string {
    const name = this.yaml.text(entry.value, entry.path, { scope: null });
    if (!NAME.test(name)) {
      this.yaml.fail(
        entry.value,
        entry.path,
        `invalid ${kind} name '${name}'`,
        `A ${kind} name starts with a letter or _ and has only letters, digits and _.`,
      );
    }
    const clash = seen.get(name.toLowerCase());
    if (clash) {
      this.yaml.fail(
        entry.value,
        entry.path,
        `duplicate ${kind} name '${name}' (also used by ${clash})`,
        `Give each ${kind} a unique name.`,
      );
    }
    seen.set(name.toLowerCase(), entry.path.replace(/\.(stage|job|name)$/, ''));
    return name;
  }

  private nameList(entry: Entry): string[] {
    return this.yaml.stringList(entry.value, entry.path);
  }
}
