// Drop-in guard: a pipeline written for the AWS Toolkit's tasks must keep working with ours. Every toolkit
// input name must still be accepted (as a name or an alias) with the same default, a compatible type and a
// `required` that is not stricter. The toolkit's inputs are recorded in compat/toolkit-task-inputs.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';

interface ToolkitInput {
  default: string | boolean;
  required: boolean;
  type: string;
}
interface OurInput {
  name: string;
  type: string;
  aliases?: string[];
  defaultValue?: string;
  required?: boolean;
}

const toolkit = JSON.parse(
  readFileSync(new URL('../compat/toolkit-task-inputs.json', import.meta.url), 'utf8'),
) as Record<string, Record<string, ToolkitInput>>;

/** The toolkit's tasks we replace under the same name (AWSCredentials is ours alone). */
const SHARED_TASKS = [
  'CloudFormationCreateOrUpdateStack',
  'CloudFormationDeleteStack',
  'CloudFormationExecuteChangeSet',
  'CodeDeployDeployApplication',
  'AWSShellScript',
  'AWSCLI',
  'S3Upload',
];

// What each toolkit type may become without breaking a pipeline's value. Option lists may widen to free text,
// never the reverse; filePath must stay filePath because the agent roots its value; the connection type is the
// one documented difference (a pipeline passes a connection name, which the server maps to a GUID).
const COMPATIBLE_TYPES: Record<string, string[]> = {
  string: ['string', 'multiLine'],
  multiLine: ['multiLine', 'string'],
  pickList: ['pickList', 'radio', 'string', 'multiLine'],
  radio: ['radio', 'pickList', 'string', 'multiLine'],
  boolean: ['boolean'],
  filePath: ['filePath'],
  int: ['int', 'string'],
  'connectedService:AWS': ['connectedService:KeylessAWS'],
};

// task-lib reads an empty boolean input as false, and the toolkit's manifest mixes "", false and "false".
function normalizedDefault(value: string | boolean | undefined, type: string): string {
  const text = value === undefined ? '' : String(value);
  return type === 'boolean' ? (text.toLowerCase() === 'true' ? 'true' : 'false') : text;
}

/** Every way `ours` breaks a pipeline written against the toolkit's `theirs`, one line each. */
function compatibilityProblems(
  task: string,
  theirs: Record<string, ToolkitInput>,
  ours: OurInput[] | undefined,
): string[] {
  if (!ours) return [`${task}: tasks/${task}/task.json is missing`];
  const problems: string[] = [];
  for (const [name, expected] of Object.entries(theirs)) {
    const key = name.toLowerCase();
    const input = ours.find(
      (candidate) =>
        candidate.name.toLowerCase() === key ||
        (candidate.aliases ?? []).some((a) => a.toLowerCase() === key),
    );
    if (!input) {
      problems.push(`${task}.${name}: missing (add it as an input or as an alias of one)`);
      continue;
    }
    const where = input.name === name ? `${task}.${name}` : `${task}.${name} (alias of ${input.name})`;
    if (!(COMPATIBLE_TYPES[expected.type] ?? [expected.type]).includes(input.type))
      problems.push(`${where}: type ${input.type} is not compatible with the toolkit's ${expected.type}`);
    const theirDefault = normalizedDefault(expected.default, expected.type);
    const ourDefault = normalizedDefault(input.defaultValue, input.type);
    if (theirDefault !== ourDefault)
      problems.push(
        `${where}: default ${JSON.stringify(ourDefault)}, toolkit ${JSON.stringify(theirDefault)}`,
      );
    if (input.required === true && expected.required !== true)
      problems.push(`${where}: required here but optional in the toolkit`);
  }
  return problems;
}

function ourInputs(task: string): OurInput[] | undefined {
  const file = new URL(`../tasks/${task}/task.json`, import.meta.url);
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, 'utf8')) as { inputs?: OurInput[] }).inputs ?? [];
}

test('every AWS Toolkit input of the shared tasks is accepted with the same default and type', () => {
  const problems = SHARED_TASKS.flatMap((task) => {
    const theirs = toolkit[task];
    if (!theirs) return [`${task}: not in compat/toolkit-task-inputs.json`];
    return compatibilityProblems(task, theirs, ourInputs(task));
  });
  assert.deepEqual(problems, [], `Not a drop-in replacement:\n  ${problems.join('\n  ')}`);
});

test('the compatibility check reports every kind of break at once', () => {
  const theirs: Record<string, ToolkitInput> = {
    awsCredentials: { default: '', required: false, type: 'connectedService:AWS' },
    regionName: { default: '', required: false, type: 'pickList' },
    stackName: { default: '', required: true, type: 'string' },
    logRequest: { default: false, required: false, type: 'boolean' },
    templateFile: { default: '', required: false, type: 'filePath' },
    timeoutInMins: { default: '60', required: false, type: 'string' },
    onFailure: { default: 'ROLLBACK', required: false, type: 'pickList' },
  };
  const ours: OurInput[] = [
    { name: 'awsCredentials', type: 'connectedService:KeylessAWS', defaultValue: '' },
    { name: 'region', aliases: ['regionName'], type: 'string' },
    { name: 'stackName', type: 'string', required: true },
    { name: 'logRequest', type: 'boolean', defaultValue: 'false' },
    { name: 'templateFile', type: 'string', required: true },
    { name: 'timeoutInMins', type: 'int', defaultValue: '30' },
  ];
  assert.deepEqual(compatibilityProblems('T', theirs, ours), [
    "T.templateFile: type string is not compatible with the toolkit's filePath",
    'T.templateFile: required here but optional in the toolkit',
    "T.timeoutInMins: type int is not compatible with the toolkit's string",
    'T.timeoutInMins: default "30", toolkit "60"',
    'T.onFailure: missing (add it as an input or as an alias of one)',
  ]);
  assert.deepEqual(compatibilityProblems('T', theirs, undefined), ['T: tasks/T/task.json is missing']);
});

test('the stack and CodeDeploy tasks warn about an outputVariable named like the outputs their task.json declares', async () => {
  const { codeDeployTaskOutputs, stackTaskOutputs, outputVariableCollision } = await import('../src');
  const declared: Array<[string, readonly string[]]> = [
    ['CloudFormationCreateOrUpdateStack', stackTaskOutputs],
    ['CloudFormationExecuteChangeSet', stackTaskOutputs],
    ['CodeDeployDeployApplication', codeDeployTaskOutputs],
  ];
  for (const [task, names] of declared) {
    const manifest = JSON.parse(
      readFileSync(new URL(`../tasks/${task}/task.json`, import.meta.url), 'utf8'),
    ) as { outputVariables: Array<{ name: string }> };
    assert.deepEqual(
      manifest.outputVariables.map((output) => output.name),
      [...names],
      task,
    );
  }
  assert.match(
    outputVariableCollision('T', 'stackid', stackTaskOutputs) ?? '',
    /outputVariable "stackid" is also this task's own output stackId, which Azure Pipelines keeps only as \$\(<step name>\.stackId\)/,
  );
  assert.equal(outputVariableCollision('T', 'myStackId', stackTaskOutputs), undefined);
  assert.equal(outputVariableCollision('T', undefined, stackTaskOutputs), undefined);
});
