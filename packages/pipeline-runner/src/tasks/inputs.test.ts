import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildInputs, rootPath, ServiceConnectionNotFoundError } from './inputs';
import type { InputContext } from './inputs';
import type { TaskDefinition } from './catalog';
import type { ServiceConnection } from '../agent-settings';

const sources = '/agent/work/1/s';
const connection: ServiceConnection = {
  name: 'aws-sandbox',
  id: '0B0E1A2B-3C4D-4E5F-8A9B-0C1D2E3F4A5B',
  type: 'AWS',
  scheme: 'UsernamePassword',
  parameters: {},
};
const other: ServiceConnection = { ...connection, name: 'other', id: '22222222-2222-3333-4444-555555555555' };

const task: TaskDefinition = {
  id: '7ef7cdfa-aa45-42c5-93c8-d7603643dd99',
  name: 'Deploy',
  version: { Major: 1, Minor: 0, Patch: 0 },
  directory: '/tasks/Deploy',
  execution: {},
  outputVariables: [],
  inputs: [
    { name: 'awsCredentials', type: 'connectedService:AWS' },
    { name: 'regionName', type: 'pickList', defaultValue: '  eu-west-1  ' },
    { name: 'templateFile', type: 'filePath', aliases: ['template'] },
    { name: 'workingDirectory', type: 'filePath', defaultValue: '' },
    { name: 'stackName', type: 'string' },
    { name: 'hidden', type: 'boolean', defaultValue: 'false' },
  ],
};

function context(variables: Record<string, string> = {}, env: NodeJS.ProcessEnv = {}): InputContext {
  const lower = new Map(Object.entries(variables).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    variable: (name) => lower.get(name.toLowerCase()),
    agentEnv: env,
    sourcesDirectory: sources,
    serviceConnections: [connection, other],
    settingsSource: 'agent.yml',
  };
}

test('every declared input gets its default, even when omitted; values are trimmed', () => {
  const { inputs, warnings } = buildInputs(task, { stackName: '  my-stack \n' }, context());
  assert.deepEqual(inputs, {
    awsCredentials: '',
    regionName: 'eu-west-1',
    templateFile: sources,
    workingDirectory: sources,
    stackName: 'my-stack',
    hidden: 'false',
  });
  assert.deepEqual(warnings, []);
});

test('aliases and differently-cased names map to the declared input name', () => {
  const { inputs } = buildInputs(
    task,
    { template: 'cfn/template.yml', STACKNAME: 'x', RegionName: 'us-east-1' },
    context(),
  );
  assert.equal(inputs['templateFile'], `${sources}/cfn/template.yml`);
  assert.equal(inputs['stackName'], 'x');
  assert.equal(inputs['regionName'], 'us-east-1');
  assert.equal(Object.keys(inputs).length, 6);
});

test('macros: one pass against job variables, then one against the agent env; unknown kept', () => {
  const { inputs } = buildInputs(
    task,
    { stackName: '$(prefix)-$(HOME_NAME)-$(nothing)-$(nested)' },
    context(
      { prefix: 'app', nested: '$(prefix)', HOME_NAME: 'from-variables' },
      { HOME_NAME: 'from-env', prefix: 'env' },
    ),
  );
  // A job variable wins over the env; a variable's value is not expanded again by the job pass, but the env
  // pass sees the text the first pass produced.
  assert.equal(inputs['stackName'], 'app-from-variables-$(nothing)-env');
  const envOnly = buildInputs(task, { stackName: '$(ONLY_ENV)/$(only_env)' }, context({}, { ONLY_ENV: 'e' }));
  assert.equal(envOnly.inputs['stackName'], 'e/$(only_env)', 'the env pass is case-sensitive on Linux');
});

test('filePath inputs: absolute normalised, relative and empty joined to the sources directory', () => {
  assert.equal(rootPath('/a/b/../c/', sources), '/a/c');
  assert.equal(rootPath('x/../y.yml', sources), `${sources}/y.yml`);
  assert.equal(rootPath('', sources), sources);
  const { inputs } = buildInputs(task, { templateFile: '$(dir)/t.yml' }, context({ dir: 'deploy' }));
  assert.equal(inputs['templateFile'], `${sources}/deploy/t.yml`, 'rooting happens after macro expansion');
});

test('undeclared inputs are passed through with a warning', () => {
  const { inputs, warnings } = buildInputs(task, { extraThing: 'v' }, context());
  assert.equal(inputs['extraThing'], 'v');
  assert.deepEqual(warnings, ["Input 'extraThing' is not declared by task Deploy@1; it is passed anyway."]);
});

test('connection names and GUIDs map to lower-case GUIDs; endpoints are collected once', () => {
  const built = buildInputs(
    task,
    { awsCredentials: 'AWS-Sandbox, 22222222-2222-3333-4444-555555555555,aws-sandbox' },
    context(),
  );
  assert.equal(
    built.inputs['awsCredentials'],
    '0b0e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b,22222222-2222-3333-4444-555555555555,0b0e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b',
  );
  assert.deepEqual(
    built.endpoints.map((e) => e.name),
    ['aws-sandbox', 'other'],
  );
  const viaVariable = buildInputs(task, { awsCredentials: '$(conn)' }, context({ conn: 'other' }));
  assert.equal(viaVariable.endpoints[0]?.name, 'other');
});

test('an unknown connection is an error naming it and the settings file', () => {
  assert.throws(
    () => buildInputs(task, { awsCredentials: 'prod-aws' }, context()),
    (error: unknown) =>
      error instanceof ServiceConnectionNotFoundError &&
      error.message.includes("'prod-aws'") &&
      error.message.includes('agent.yml') &&
      (error.fix ?? '').includes('aws-sandbox'),
  );
});

test('a connection of another type is used with a warning', () => {
  const wrongType = { ...connection, type: 'KeylessAWS' };
  const built = buildInputs(
    task,
    { awsCredentials: 'aws-sandbox' },
    { ...context(), serviceConnections: [wrongType] },
  );
  assert.equal(built.endpoints.length, 1);
  assert.match(built.warnings[0] ?? '', /expects a connection of type AWS/);
});
