/**
 * The proof that the runner's environment builder and command processor match azure-pipelines-task-lib:
 * fixture tasks use the REAL task-lib to read inputs, endpoints and secrets and to emit commands, and the
 * runner must see exactly what the agent would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { runTaskStep } from '../src/steps/run-step';
import { accessToken, createTestJob, taskStep, writeTask } from './step-fixtures';
import type { ServiceConnection } from '../src/agent-settings';

const taskLib = createRequire(import.meta.url).resolve('azure-pipelines-task-lib/task');
const roleArn = 'arn:aws:iam::000000000000:role/deploy';
const dbPassword = 'Sup3rS3cret-db!';
const connection: ServiceConnection = {
  name: 'aws-sandbox',
  id: '0B0E1A2B-3C4D-4E5F-8A9B-0C1D2E3F4A5B',
  type: 'AWS',
  url: 'https://aws.amazon.com/',
  scheme: 'UsernamePassword',
  parameters: { assumeRoleArn: roleArn, roleSessionName: 'keyless-session', tenantId: 'tenant-1' },
  data: { region: 'eu-west-1' },
};

const contractTask = `
const tl = require(${JSON.stringify(taskLib)});
const log = (k, v) => console.log(k + '=' + v);
const conn = tl.getInput('awsCredentials', true);
log('conn', conn);
log('region', tl.getInput('regionName'));
log('untrimmed', JSON.stringify(tl.getInput('stackName')));
log('flag', tl.getBoolInput('enableThing'));
log('flagDefault', tl.getBoolInput('disabledThing'));
log('template', tl.getPathInput('templateFile'));
log('supplied', tl.filePathSupplied('templateFile'));
log('emptyInput', tl.getInput('optional'));
log('scheme', tl.getEndpointAuthorizationScheme(conn, false));
const role = tl.getEndpointAuthorizationParameter(conn, 'assumeRoleArn', false);
log('roleOk', role === ${JSON.stringify(roleArn)});
log('role', role);
log('tenant', tl.getEndpointAuthorizationParameter(conn, 'TenantId', false));
log('auth', JSON.stringify(tl.getEndpointAuthorization(conn, false).parameters.roleSessionName));
log('url', tl.getEndpointUrl(conn, false));
log('data', tl.getEndpointDataParameter(conn, 'region', false));
log('vssUrl', tl.getEndpointUrl('SYSTEMVSSCONNECTION', false));
log('tokenOk', tl.getEndpointAuthorizationParameter('SYSTEMVSSCONNECTION', 'AccessToken', false) === ${JSON.stringify(accessToken)});
log('accessTokenVarOk', tl.getVariable('System.AccessToken') === ${JSON.stringify(accessToken)});
log('secretOk', tl.getVariable('db.password') === ${JSON.stringify(dbPassword)});
log('plain', tl.getVariable('plain.var'));
log('temp', tl.getVariable('Agent.TempDirectory'));
log('secretInEnv', Object.values(process.env).includes(${JSON.stringify(dbPassword)}));
log('vaultedLeft', Object.keys(process.env).filter((k) => /^(INPUT_|SECRET_|ENDPOINT_AUTH_)/.test(k)).join(','));
log('publicVariables', tl.getVariables().filter((v) => !v.secret).map((v) => v.name).includes('plain.var'));
tl.setVariable('Minted', 'minted-secret-xyz', true);
tl.setVariable('StackId', 'arn:aws:cloudformation:stack/1', false, true);
tl.setVariable('multi', 'line1\\nline2;with]specials%');
tl.setSecret('another-secret-value');
console.log('printing another-secret-value and minted-secret-xyz');
tl.warning('careful; with ] brackets');
tl.error('an error issue');
tl.setProgress(50, 'half way');
tl.prependPath('/opt/contract/bin');
tl.setResult(tl.TaskResult.SucceededWithIssues, 'done with issues');
`;

const inputs = [
  { name: 'awsCredentials', type: 'connectedService:AWS', required: true },
  { name: 'regionName', type: 'pickList', defaultValue: 'us-east-1' },
  { name: 'stackName', type: 'string' },
  { name: 'enableThing', type: 'boolean', defaultValue: 'false' },
  { name: 'disabledThing', type: 'boolean', defaultValue: 'false' },
  { name: 'templateFile', type: 'filePath', aliases: ['template'] },
  { name: 'optional', type: 'string' },
];

test('task-lib reads the runner-built environment exactly as on the agent, and its commands take effect', async () => {
  const ctx = await createTestJob({
    agent: { serviceConnections: [connection] },
    variables: [
      { name: 'db.password', value: dbPassword, secret: true, readonly: false },
      { name: 'plain.var', value: 'visible', secret: false, readonly: false },
    ],
  });
  try {
    await writeTask(ctx.tasksDir, {
      name: 'ContractTask',
      id: '9d5f0a3e-7e43-4a4c-9c1a-2f6a1b3c4d5e',
      inputs,
      source: contractTask,
    });
    await ctx.reloadCatalog();
    const step = taskStep(
      'ContractTask@1',
      {
        awsCredentials: 'aws-sandbox',
        regionName: 'eu-west-1',
        stackName: '  padded  ',
        enableThing: 'TRUE',
        template: 'cfn/template.yml',
      },
      { name: 'contract' },
    );
    const record = await runTaskStep(step, ctx.job, { timeoutMs: 60_000 });
    const values = new Map(
      ctx.lines
        .filter((l) => /^[A-Za-z]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const expected: Record<string, string> = {
      conn: '0b0e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b',
      region: 'eu-west-1',
      untrimmed: '"padded"',
      flag: 'true',
      flagDefault: 'false',
      template: join(ctx.sources, 'cfn/template.yml'),
      supplied: 'true',
      emptyInput: 'undefined',
      scheme: 'UsernamePassword',
      roleOk: 'true',
      role: '***',
      tenant: 'tenant-1',
      auth: '"***"',
      url: 'https://aws.amazon.com/',
      data: 'eu-west-1',
      vssUrl: 'http://127.0.0.1:4566/contoso/',
      tokenOk: 'true',
      accessTokenVarOk: 'true',
      secretOk: 'true',
      plain: 'visible',
      temp: ctx.job.directories.temp,
      secretInEnv: 'false',
      // task-lib vaults only non-empty values: an empty input stays in the env, as on the agent.
      vaultedLeft: 'INPUT_OPTIONAL',
      publicVariables: 'true',
    };
    assert.deepEqual(Object.fromEntries(values), expected);

    assert.equal(record.result, 'SucceededWithIssues');
    assert.equal(record.message, 'done with issues');
    assert.equal(record.exitCode, 0);
    assert.ok(ctx.lines.includes('printing *** and ***'));
    assert.ok(!ctx.lines.join('\n').includes('minted-secret-xyz'));
    assert.ok(!JSON.stringify(record).includes('minted-secret-xyz'));
    assert.ok(!JSON.stringify(record).includes(dbPassword));
    assert.ok(!JSON.stringify(record).includes(roleArn));

    assert.deepEqual(ctx.job.variables.get('Minted'), {
      name: 'Minted',
      value: 'minted-secret-xyz',
      secret: true,
      readonly: false,
    });
    assert.equal(ctx.job.variables.get('multi')?.value, 'line1\nline2;with]specials%');
    assert.equal(ctx.job.variables.get('StackId'), undefined);
    assert.equal(ctx.job.outputs.get('contract.StackId'), 'arn:aws:cloudformation:stack/1');
    assert.deepEqual(record.outputs, { StackId: 'arn:aws:cloudformation:stack/1' });
    assert.deepEqual(ctx.job.pathPrepends, ['/opt/contract/bin']);
    assert.deepEqual(
      record.issues.map((i) => [i.type, i.message]),
      [
        ['warning', 'careful; with ] brackets'],
        ['error', 'an error issue'],
        // setResult(SucceededWithIssues, msg) also logs the message as a warning issue.
        ['warning', 'done with issues'],
      ],
    );
    assert.ok(ctx.lines.includes('##[warning]careful; with ] brackets'));
    assert.ok(
      record.commands.some(
        (c) => c.event === 'setprogress' && c.properties['value'] === '50' && c.data === 'half way',
      ),
    );
    assert.equal(record.environment['INPUT_STACKNAME'], 'padded');
  } finally {
    await ctx.cleanup();
  }
});

test("task-lib's Cancelled result and an uncaught exception both fail the step", async () => {
  const ctx = await createTestJob();
  try {
    await writeTask(ctx.tasksDir, {
      name: 'Cancels',
      id: '9d5f0a3e-7e43-4a4c-9c1a-2f6a1b3c4d60',
      source: `const tl = require(${JSON.stringify(taskLib)}); tl.setResult(tl.TaskResult.Cancelled, 'stopped');`,
    });
    await writeTask(ctx.tasksDir, {
      name: 'Throws',
      id: '9d5f0a3e-7e43-4a4c-9c1a-2f6a1b3c4d61',
      source: `require(${JSON.stringify(taskLib)}); throw new Error('boom from task');`,
    });
    await ctx.reloadCatalog();
    const cancelled = await runTaskStep(taskStep('Cancels@1'), ctx.job, { timeoutMs: 60_000 });
    assert.equal(cancelled.result, 'Failed');
    assert.ok(cancelled.issues.some((i) => i.type === 'error' && /Cancelled/.test(i.message)));
    const thrown = await runTaskStep(taskStep('Throws@1'), ctx.job, { timeoutMs: 60_000 });
    assert.equal(thrown.result, 'Failed');
    assert.ok(
      thrown.issues.some((i) => /boom from task/.test(i.message)),
      JSON.stringify(thrown.issues),
    );
  } finally {
    await ctx.cleanup();
  }
});
