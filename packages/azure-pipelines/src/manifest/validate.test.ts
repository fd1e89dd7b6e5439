import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { validateTaskManifest } from './validate';

const TASKS = [
  'AWSCredentials',
  'CloudFormationCreateOrUpdateStack',
  'CloudFormationDeleteStack',
  'CloudFormationExecuteChangeSet',
  'CodeDeployDeployApplication',
  'AWSShellScript',
  'AWSCLI',
  'S3Upload',
];

function goodManifest(): Record<string, unknown> {
  return {
    $schema: 'https://raw.githubusercontent.com/Microsoft/azure-pipelines-task-lib/master/tasks.schema.json',
    id: '435b0e38-bf1c-4486-bd21-b6a408c61be4',
    name: 'S3Upload',
    friendlyName: 'S3 Upload (Keyless)',
    description: 'Upload files to S3',
    category: 'Deploy',
    version: { Major: 1, Minor: 0, Patch: 0 },
    minimumAgentVersion: '4.248.0',
    instanceNameFormat: 'S3 Upload: $(bucketName)',
    groups: [{ name: 'advanced', displayName: 'Advanced', isExpanded: false }],
    inputs: [
      {
        name: 'awsCredentials',
        type: 'connectedService:KeylessAWS',
        label: 'AWS connection',
        required: false,
      },
      {
        name: 'regionName',
        aliases: ['region'],
        type: 'pickList',
        label: 'Region',
        defaultValue: '',
        options: { 'us-east-1': 'US East (N. Virginia)' },
        properties: { EditableOptions: 'True' },
      },
      { name: 'bucketName', type: 'string', label: 'Bucket', required: true, defaultValue: '' },
      {
        name: 'keyManagement',
        type: 'pickList',
        label: 'Encryption',
        defaultValue: 'none',
        options: { none: 'None', awsManaged: 'AWS managed' },
      },
      {
        name: 'encryptionAlgorithm',
        type: 'radio',
        label: 'Algorithm',
        defaultValue: 'KMS',
        options: { KMS: 'aws:kms', AES256: 'AES256' },
        visibleRule: 'keyManagement = awsManaged || keyManagement != none',
        groupName: 'advanced',
      },
      { name: 'createBucket', type: 'boolean', label: 'Create bucket', defaultValue: 'false' },
      { name: 'sourceFolder', type: 'filePath', label: 'Source', defaultValue: '', helpMarkDown: 'Folder.' },
    ],
    outputVariables: [{ name: 'uploadedObjectCount', description: 'Objects uploaded' }],
    execution: { Node20_1: { target: 'index.js' }, Node24: { target: 'index.js' } },
    restrictions: { commands: { mode: 'restricted' }, settableVariables: { allowed: ['AWS.*'] } },
  };
}

/** A copy of the good manifest with one change applied. */
function broken(change: (json: Record<string, unknown>, inputs: Array<Record<string, unknown>>) => void) {
  const json = goodManifest();
  change(json, json.inputs as Array<Record<string, unknown>>);
  return validateTaskManifest(json, 'task.json');
}

test('a complete, correct manifest has no problems', () => {
  assert.deepEqual(validateTaskManifest(goodManifest(), 'task.json'), []);
});

test('each rule reports the field, the file and the cause', () => {
  const cases: Array<[string, Parameters<typeof broken>[0], RegExp]> = [
    ['unknown top-level key', (json) => (json.outputs = []), /outputs: unknown top-level key/],
    ['GUID', (json) => (json.id = 'not-a-guid'), /id: must be a GUID/],
    ['name regex', (json) => (json.name = 'S3 Upload'), /name: must match/],
    ['friendlyName length', (json) => (json.friendlyName = 'x'.repeat(41)), /friendlyName: .*1-40/],
    ['category', (json) => (json.category = 'AWS'), /category: must be one of/],
    ['instanceNameFormat', (json) => delete json.instanceNameFormat, /instanceNameFormat: is required/],
    ['version', (json) => (json.version = { Major: 1, Minor: '0', Patch: 0 }), /version.Minor/],
    ['agent version', (json) => (json.minimumAgentVersion = 'v4'), /minimumAgentVersion/],
    ['input name', (_, inputs) => (inputs[2]!.name = 'bucket-name'), /"bucket-name" must match/],
    ['alias name', (_, inputs) => (inputs[1]!.aliases = ['region name']), /"region name" must match/],
    [
      'duplicate name',
      (_, inputs) => (inputs[2]!.aliases = ['REGION']),
      /"REGION" is already used by input regionName/,
    ],
    [
      'unknown input key',
      (_, inputs) => (inputs[2]!.hint = 'x'),
      /inputs\[2\] \(bucketName\)\.hint: unknown input key/,
    ],
    ['missing label', (_, inputs) => delete inputs[2]!.label, /label is required/],
    ['input type', (_, inputs) => (inputs[2]!.type = 'text'), /type "text" must be one of/],
    [
      'foreign endpoint type',
      (_, inputs) => (inputs[0]!.type = 'connectedService:AWS'),
      /must be connectedService:KeylessAWS/,
    ],
    [
      'boolean default',
      (_, inputs) => (inputs[5]!.defaultValue = 'False'),
      /boolean defaultValue must be "true" or "false"/,
    ],
    [
      'JSON boolean default',
      (_, inputs) => (inputs[5]!.defaultValue = false),
      /defaultValue must be a string/,
    ],
    ['required type', (_, inputs) => (inputs[2]!.required = 'true'), /required must be true or false/],
    [
      'pickList default',
      (_, inputs) => (inputs[3]!.defaultValue = 'kms'),
      /defaultValue "kms" is not one of its options \(none, awsManaged\)/,
    ],
    [
      'radio default',
      (_, inputs) => (inputs[4]!.defaultValue = 'aes'),
      /defaultValue "aes" is not one of its options/,
    ],
    ['pickList without options', (_, inputs) => delete inputs[3]!.options, /a pickList needs options/],
    [
      'options on a string',
      (_, inputs) => (inputs[2]!.options = { a: 'A' }),
      /options only apply to pickList and radio/,
    ],
    [
      'visibleRule target',
      (_, inputs) => (inputs[4]!.visibleRule = 'keyManagment = awsManaged'),
      /refers to "keyManagment", which is not an input/,
    ],
    [
      'visibleRule syntax',
      (_, inputs) => (inputs[4]!.visibleRule = 'when encrypted'),
      /is not "<input> <operator> <value>"/,
    ],
    [
      'visibleRule self',
      (_, inputs) => (inputs[4]!.visibleRule = 'encryptionAlgorithm = KMS'),
      /refers to the input itself/,
    ],
    [
      'groupName',
      (_, inputs) => (inputs[4]!.groupName = 'extra'),
      /groupName "extra" is not a declared group/,
    ],
    [
      'deprecated handler',
      (json) => (json.execution = { Node10: { target: 'index.js' }, Node20_1: { target: 'index.js' } }),
      /missing Node24; remove Node10/,
    ],
    [
      'split targets',
      (json) => (json.execution = { Node20_1: { target: 'index.js' }, Node24: { target: 'main.js' } }),
      /same target \(index.js, main.js\)/,
    ],
    [
      'no execution',
      (json) => delete json.execution,
      /execution: must be an object with exactly Node20_1 \+ Node24/,
    ],
    [
      'output name',
      (json) => (json.outputVariables = [{ name: 'stack-outputs' }]),
      /"stack-outputs" is not a variable name/,
    ],
    [
      'reserved output',
      (json) => (json.outputVariables = [{ name: 'secret.key' }]),
      /"secret.key" is not a variable name/,
    ],
    [
      'restrictions',
      (json) => (json.restrictions = { commands: { mode: 'some' } }),
      /restrictions.commands: mode/,
    ],
  ];
  for (const [label, change, expected] of cases) {
    const problems = broken(change);
    assert.ok(
      problems.some((problem) => expected.test(problem) && problem.startsWith('task.json: ')),
      `${label}: expected a problem matching ${expected}, got ${JSON.stringify(problems)}`,
    );
  }
});

test('all problems are reported together, not just the first', () => {
  const problems = broken((json, inputs) => {
    json.id = 'x';
    json.category = 'AWS';
    inputs[5]!.defaultValue = 'yes';
  });
  assert.equal(problems.length, 3, problems.join('\n'));
  assert.deepEqual(validateTaskManifest([], 'a/task.json'), [
    'a/task.json: (root): task.json must be a JSON object',
  ]);
});

test('every task.json in tasks/ passes', () => {
  const problems: string[] = [];
  for (const task of TASKS) {
    const file = new URL(`../../tasks/${task}/task.json`, import.meta.url);
    if (!existsSync(file)) {
      problems.push(`tasks/${task}/task.json: missing`);
      continue;
    }
    problems.push(...validateTaskManifest(JSON.parse(readFileSync(file, 'utf8')), `tasks/${task}/task.json`));
  }
  assert.deepEqual(problems, [], problems.join('\n'));
});
