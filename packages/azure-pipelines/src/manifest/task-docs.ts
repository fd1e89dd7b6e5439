// docs/tasks/*.md are generated from the tasks' own task.json files, so the reference cannot drift from what
// the agent and the UI actually see. Used by `npm run docs` (scripts/gen-docs.ts) and by a staleness test.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';

interface Input {
  name: string;
  label: string;
  type: string;
  aliases?: string[];
  defaultValue?: string;
  required?: boolean;
  helpMarkDown?: string;
  visibleRule?: string;
  options?: Record<string, string>;
  properties?: Record<string, string>;
}

interface TaskManifest {
  id: string;
  name: string;
  friendlyName: string;
  description?: string;
  helpMarkDown?: string;
  category?: string;
  minimumAgentVersion?: string;
  demands?: string[];
  version?: { Major: number };
  inputs?: Input[];
  outputVariables?: Array<{ name: string; description?: string }>;
}

const packageRoot = new URL('../../', import.meta.url);
const GENERATED =
  '<!-- Generated from packages/azure-pipelines/tasks/*/task.json by `npm run docs`; a test fails when this file is stale. -->';
const EXTENSION = 'keyless.keyless-aws';

/**
 * Renders the task reference: `README.md` (the index) and one `<TaskName>.md` per task, keyed by file name
 * relative to docs/tasks/, formatted as the repository's prettier config would format them.
 */
export async function renderTaskDocs(
  tasksDir: URL = new URL('tasks/', packageRoot),
): Promise<Map<string, string>> {
  const manifests = readTaskManifests(tasksDir);
  const pages = new Map<string, string>([['README.md', renderIndex(manifests)]]);
  for (const manifest of manifests) pages.set(`${manifest.name}.md`, renderTask(manifest));
  const docsDir = fileURLToPath(new URL('../../docs/tasks/', packageRoot));
  const formatted = new Map<string, string>();
  for (const [file, text] of pages) {
    const options = (await resolveConfig(docsDir + file)) ?? {};
    formatted.set(file, await format(text, { ...options, parser: 'markdown' }));
  }
  return formatted;
}

// In the order vss-extension.json lists them, which is the order a reader meets them in a pipeline.
function readTaskManifests(tasksDir: URL): TaskManifest[] {
  const extension = JSON.parse(readFileSync(new URL('vss-extension.json', packageRoot), 'utf8')) as {
    contributions: Array<{ type: string; properties: { name: string } }>;
  };
  const order = extension.contributions
    .filter((contribution) => contribution.type === 'ms.vss-distributed-task.task')
    .map((contribution) => contribution.properties.name.replace(/^tasks\//, ''));
  const present = existsSync(tasksDir) ? readdirSync(tasksDir) : [];
  return order
    .filter((name) => present.includes(name) && existsSync(new URL(`${name}/task.json`, tasksDir)))
    .map((name) => JSON.parse(readFileSync(new URL(`${name}/task.json`, tasksDir), 'utf8')) as TaskManifest);
}

function renderIndex(manifests: TaskManifest[]): string {
  return [
    '# Task reference',
    '',
    GENERATED,
    '',
    'The tasks of the Keyless Azure DevOps extension. Each takes its AWS credentials from an "AWS (Keyless)"',
    'service connection (`connectedService:KeylessAWS`). The AWS Toolkit input names of the tasks that share its',
    'names keep working; with both extensions installed, use the fully-qualified name',
    `(\`${EXTENSION}.<Name>.<Name>@1\`).`,
    '',
    '| Task | What it does |',
    '| --- | --- |',
    ...manifests.map(
      (m) => `| [\`${m.name}@${major(m)}\`](${m.name}.md) | ${cell(m.description ?? m.friendlyName)} |`,
    ),
    '',
  ].join('\n');
}

function renderTask(m: TaskManifest): string {
  const inputs = m.inputs ?? [];
  const lines = [
    `# ${m.name}@${major(m)} — ${m.friendlyName}`,
    '',
    GENERATED,
    '',
    ...(m.description ? [m.description, ''] : []),
    ...(m.helpMarkDown ? [m.helpMarkDown, ''] : []),
    `- Task id: \`${m.id}\``,
    `- Fully-qualified name: \`${EXTENSION}.${m.name}.${m.name}@${major(m)}\` (needed only when the AWS Toolkit is also installed)`,
    ...(m.category ? [`- Category: ${m.category}`] : []),
    ...(m.minimumAgentVersion ? [`- Minimum agent version: ${m.minimumAgentVersion}`] : []),
    ...(m.demands?.length ? [`- Demands: ${m.demands.map((d) => `\`${d}\``).join(', ')}`] : []),
    '',
    '## Example',
    '',
    '```yaml',
    ...exampleStep(m),
    '```',
    '',
    '## Inputs',
    '',
    '| Input | Aliases | Type | Default | Required |',
    '| --- | --- | --- | --- | --- |',
    ...inputs.map(
      (input) =>
        `| [\`${input.name}\`](#${input.name.toLowerCase()}) | ${(input.aliases ?? []).map(code).join(', ')} | ` +
        `${code(input.type)} | ${input.defaultValue ? code(input.defaultValue) : ''} | ${input.required ? 'yes' : 'no'} |`,
    ),
    '',
    ...inputs.flatMap(renderInput),
    '## Output variables',
    '',
    ...(m.outputVariables?.length
      ? m.outputVariables.map((o) => `- \`${o.name}\`${o.description ? `: ${o.description}` : ''}`)
      : ['None.']),
    '',
  ];
  return lines.join('\n');
}

function renderInput(input: Input): string[] {
  const facts = [
    `Type: ${code(input.type)}`,
    input.required ? 'required' : 'optional',
    ...(input.defaultValue ? [`default ${code(input.defaultValue)}`] : []),
  ];
  const details = [
    ...(input.aliases?.length ? [`- Aliases: ${input.aliases.map((a) => `\`${a}\``).join(', ')}`] : []),
    ...(input.visibleRule ? [`- Shown when: \`${input.visibleRule}\``] : []),
    ...(input.options && Object.keys(input.options).length > 0
      ? [
          `- ${input.properties?.EditableOptions === 'True' ? 'Suggested values (others allowed)' : 'Values'}: ` +
            Object.entries(input.options)
              .map(([value, label]) =>
                label && label !== value ? `\`${value}\` (${label})` : `\`${value}\``,
              )
              .join(', '),
        ]
      : []),
  ];
  return [
    `### ${input.name}`,
    '',
    `**${input.label}** — ${facts.join(', ')}.`,
    '',
    ...(details.length ? [...details, ''] : []),
    ...(input.helpMarkDown ? [input.helpMarkDown, ''] : []),
  ];
}

/**
 * A minimal step: the connection, every required input that is visible with the defaults, and the first input
 * of the default mode (`filePath` for `scriptType = filePath`), which a step in that mode cannot do without
 * even where the manifest leaves it optional (the task checks it at run time).
 */
function exampleStep(m: TaskManifest): string[] {
  const inputs = m.inputs ?? [];
  const values = new Map(inputs.map((input) => [input.name, input.defaultValue ?? '']));
  const required = new Set(inputs.filter((input) => input.required).map((input) => input.name));
  const modesSeen = new Set<string>();
  const chosen: Array<[string, string]> = [];
  for (const input of inputs) {
    const mode = /^\s*([A-Za-z0-9]+)\s*=\s*(\S+)\s*$/.exec(input.visibleRule ?? '');
    const firstOfMode =
      mode !== null &&
      required.has(mode[1] ?? '') &&
      values.get(mode[1] ?? '') === mode[2] &&
      !modesSeen.has(mode[1] ?? '');
    if (mode) modesSeen.add(mode[1] ?? '');
    if (input.type.startsWith('connectedService:')) chosen.push([input.name, 'my-aws-connection']);
    else if (!input.defaultValue && isVisible(input.visibleRule, values) && (input.required || firstOfMode))
      chosen.push([input.name, `<${input.name}>`]);
  }
  return [
    `- task: ${m.name}@${major(m)}`,
    ...(chosen.length
      ? ['  inputs:', ...chosen.map(([name, value]) => `    ${name}: ${yamlScalar(value)}`)]
      : []),
  ];
}

// Enough of the visibleRule language for examples: `a = x`, `a != x`, joined by && or ||, left to right.
function isVisible(rule: string | undefined, values: Map<string, string>): boolean {
  if (!rule) return true;
  const parts = rule.split(/(&&|\|\|)/).map((part) => part.trim());
  let result = clause(parts[0] ?? '', values);
  for (let i = 1; i + 1 < parts.length; i += 2) {
    const next = clause(parts[i + 1] ?? '', values);
    result = parts[i] === '&&' ? result && next : result || next;
  }
  return result;
}

function clause(text: string, values: Map<string, string>): boolean {
  const match = /^([A-Za-z0-9]+)\s*(!=|==|=)\s*(.*)$/.exec(text);
  if (!match) return true;
  const equal = (values.get(match[1] ?? '') ?? '').toLowerCase() === (match[3] ?? '').trim().toLowerCase();
  return match[2] === '!=' ? !equal : equal;
}

function yamlScalar(value: string): string {
  return /^[\w./:<>@-]*$/.test(value) && !value.startsWith('<') ? value : `'${value.replace(/'/g, "''")}'`;
}

function code(text: string): string {
  return '`' + text.replace(/\|/g, '\\|').replace(/\n/g, ' ') + '`';
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

// Source manifests carry the placeholder version 1.0.0; only the Major matters to a pipeline (`Name@1`).
function major(m: TaskManifest): number {
  return m.version?.Major ?? 1;
}
