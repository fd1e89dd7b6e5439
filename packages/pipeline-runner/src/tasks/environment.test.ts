import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Masker } from '../logging/masker';
import {
  buildScriptEnvironment,
  buildTaskEnvironment,
  isSecretAuthParameter,
  redactEnvironment,
  registerStepSecrets,
} from './environment';
import type { EnvironmentContext } from './environment';
import type { ServiceConnection } from '../agent-settings';

const id = '0b0e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b';
const roleArn = 'arn:aws:iam::000000000000:role/deploy';
const connection: ServiceConnection = {
  name: 'aws-sandbox',
  id: id.toUpperCase(),
  type: 'AWS',
  url: 'https://aws.amazon.com/',
  scheme: 'UsernamePassword',
  parameters: { useOIDC: 'yes-oidc', assumeRoleArn: roleArn, tenantId: 'tenant-1' },
  data: { region: 'eu-west-1', 'signing.region': 'eu-west-2' },
};

function context(): EnvironmentContext {
  return {
    agentEnv: { PATH: '/usr/bin:/bin', HOME: '/home/agent', SHARED: 'agent', MY_VAR: 'agent' },
    stepEnv: { ' SHARED ': ' $(greeting) $(HOME) $(unknown) ', MY_VAR: 'from-env-block', ONLY_STEP: 'step' },
    variables: [
      { name: 'my.var', value: 'from-variable', secret: false, readonly: false },
      { name: 'greeting', value: 'hello', secret: false, readonly: false },
      { name: 'Agent.JobStatus', value: 'Succeeded', secret: false, readonly: true },
      { name: 'System.AccessToken', value: 'token-123', secret: true, readonly: true },
      { name: 'db.password', value: 'p@ss-w0rd', secret: true, readonly: false },
    ],
    inputs: { awsCredentials: id, regionName: 'eu-west-1', password: 'p@ss-w0rd' },
    endpoints: [connection],
    collectionUri: 'http://127.0.0.1:4566/contoso/',
    accessToken: 'token-123',
    pathPrepends: ['/newest', '/older'],
  };
}

function masker(ctx: EnvironmentContext): Masker {
  const m = new Masker();
  registerStepSecrets(m, ctx.variables, ctx.endpoints, ctx.accessToken);
  return m;
}

test('redacted snapshot of a Node task environment with a connected service', () => {
  const ctx = context();
  const environment = buildTaskEnvironment(ctx);
  assert.deepEqual(redactEnvironment(environment, masker(ctx)), {
    AGENT_JOBSTATUS: 'Succeeded',
    [`ENDPOINT_AUTH_${id}`]: `{"parameters":{"useOIDC":"***","assumeRoleArn":"***","tenantId":"tenant-1"},"scheme":"UsernamePassword"}`,
    [`ENDPOINT_AUTH_PARAMETER_${id}_ASSUMEROLEARN`]: '***',
    [`ENDPOINT_AUTH_PARAMETER_${id}_TENANTID`]: 'tenant-1',
    [`ENDPOINT_AUTH_PARAMETER_${id}_USEOIDC`]: '***',
    [`ENDPOINT_AUTH_SCHEME_${id}`]: 'UsernamePassword',
    [`ENDPOINT_DATA_${id}`]: '{"region":"eu-west-1","signing.region":"eu-west-2"}',
    [`ENDPOINT_DATA_${id}_REGION`]: 'eu-west-1',
    [`ENDPOINT_DATA_${id}_SIGNING_REGION`]: 'eu-west-2',
    [`ENDPOINT_URL_${id}`]: 'https://aws.amazon.com/',
    ENDPOINT_AUTH_SYSTEMVSSCONNECTION: '{"parameters":{"AccessToken":"***"},"scheme":"OAuth"}',
    ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN: '***',
    ENDPOINT_AUTH_SCHEME_SYSTEMVSSCONNECTION: 'OAuth',
    ENDPOINT_URL_SYSTEMVSSCONNECTION: 'http://127.0.0.1:4566/contoso/',
    GREETING: 'hello',
    INPUT_AWSCREDENTIALS: id,
    INPUT_PASSWORD: '***',
    INPUT_REGIONNAME: 'eu-west-1',
    MY_VAR: 'from-variable',
    ONLY_STEP: 'step',
    PATH: '/newest:/older:/usr/bin:/bin',
    SECRET_DB_PASSWORD: '***',
    SECRET_SYSTEM_ACCESSTOKEN: '***',
    SHARED: 'hello /home/agent $(unknown)',
    TF_BUILD: 'True',
    VSTS_PUBLIC_VARIABLES: '["my.var","greeting","Agent.JobStatus"]',
    VSTS_SECRET_VARIABLES: '["System.AccessToken","db.password"]',
    'agent.jobstatus': 'Succeeded',
  });
});

test('layer precedence: a pipeline variable beats a same-named env: entry, env: beats the agent env', () => {
  const { env, runnerKeys } = buildTaskEnvironment(context());
  assert.equal(env['MY_VAR'], 'from-variable');
  assert.equal(env['SHARED'], 'hello /home/agent $(unknown)');
  assert.equal(env['HOME'], '/home/agent', 'the agent env is inherited');
  assert.ok(!runnerKeys.has('HOME'), 'inherited agent env is not the runner’s');
  // Secrets are only under SECRET_, never their plain name.
  assert.equal(env['SECRET_DB_PASSWORD'], 'p@ss-w0rd');
  assert.equal(env['DB_PASSWORD'], undefined);
  assert.equal(env['SYSTEM_ACCESSTOKEN'], undefined);
  assert.equal(env[`ENDPOINT_AUTH_PARAMETER_${id}_ASSUMEROLEARN`], roleArn);
});

test('the PATH prepend starts from a PATH job variable when there is one', () => {
  const ctx = context();
  ctx.variables.push({ name: 'Path', value: '/from/variable', secret: false, readonly: false });
  assert.equal(buildTaskEnvironment(ctx).env['PATH'], '/newest:/older:/from/variable');
  ctx.pathPrepends = [];
  assert.equal(buildTaskEnvironment(ctx).env['PATH'], '/from/variable', 'the variable layer still sets PATH');
});

test('native scripts get the task-lib-cleaned environment: no inputs, secrets or endpoint auth', () => {
  const { env } = buildScriptEnvironment(context());
  const leaked = Object.keys(env).filter((key) => /^(INPUT_|SECRET_|ENDPOINT_AUTH|VSTS_)/.test(key));
  assert.deepEqual(leaked, []);
  assert.ok(!Object.values(env).includes('p@ss-w0rd'));
  assert.equal(env['MY_VAR'], 'from-variable');
  assert.equal(env['ENDPOINT_URL_SYSTEMVSSCONNECTION'], 'http://127.0.0.1:4566/contoso/');
  assert.equal(env['TF_BUILD'], 'True');
  assert.equal(env['PATH'], '/newest:/older:/usr/bin:/bin');
});

test('endpoint parameters are masked except the agent’s non-secret keys', () => {
  const ctx = context();
  const m = masker(ctx);
  assert.equal(
    m.mask(`role ${roleArn} tenant tenant-1 token token-123`),
    'role *** tenant tenant-1 token ***',
  );
  assert.equal(isSecretAuthParameter('TENANTID'), false);
  assert.equal(isSecretAuthParameter('audience'), false);
  assert.equal(isSecretAuthParameter('assumeRoleArn'), true);
  assert.equal(isSecretAuthParameter('password'), true);
});
