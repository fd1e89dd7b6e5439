// The three CloudFormation tasks end to end: each task entry run as the agent runs it, credentials through the
// blog's managed identity (or the blog's AWS.* variables), against the sandbox's CloudFormation and S3.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  ListChangeSetsCommand,
  type Stack,
} from '@aws-sdk/client-cloudformation';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import {
  leakedSecrets,
  runTaskSource,
  startTestSandbox,
  type Endpoint,
  type TaskRun,
  type TaskRunOptions,
  type TestSandbox,
} from './support';

const CREATE = 'CloudFormationCreateOrUpdateStack';
const EXECUTE = 'CloudFormationExecuteChangeSet';
const DELETE = 'CloudFormationDeleteStack';

let t: TestSandbox;
let cfn: CloudFormationClient;
const workspace = mkdtempSync(join(tmpdir(), 'keyless-cfn-tasks-'));
after(() => rmSync(workspace, { recursive: true, force: true }));

/** A small template with outputs; `failOn` makes the sandbox fail the parameter's provider action. */
function template(name: string, options: { failOn?: 'create' | 'update'; reason?: string } = {}): string {
  const metadata = options.failOn
    ? [
        '    Metadata:',
        '      Keyless::Sandbox:',
        `        FailOn: [${options.failOn}]`,
        `        Reason: "${options.reason ?? 'Simulated outage'}"`,
      ]
    : [];
  const lines = [
    'Parameters:',
    '  Label: {Type: String, Default: blue}',
    'Resources:',
    '  Site:',
    '    Type: AWS::S3::Bucket',
    '  Setting:',
    '    Type: AWS::SSM::Parameter',
    ...metadata,
    '    Properties: {Type: String, Value: !Ref Label}',
    'Outputs:',
    '  WebsiteURL: {Value: !Sub "https://${Site}.example.com/${Label}"}',
    '  SettingName: {Value: !Ref Setting}',
    '',
  ];
  writeFileSync(join(workspace, name), lines.join('\n'));
  return name;
}

const connection = (): Endpoint => ({
  id: randomUUID(),
  scheme: 'None',
  parameters: {
    authMode: 'azureManagedIdentity',
    roleArn: t.ids.roleArn,
    audience: t.ids.audience,
    clientId: t.ids.clientId,
  },
});

/** What the agent shows: it consumes setsecret and secret setvariable commands (masking their values). */
function visible(output: string): string {
  return output
    .split(/\r?\n/)
    .filter((line) => !line.includes('##vso[task.setsecret]'))
    .filter((line) => !(line.includes('##vso[task.setvariable') && line.includes('issecret=true')))
    .join('\n');
}

/**
 * Runs a task through the blog's managed identity (unless `endpoints`/`variables` say otherwise) and checks
 * what every run must satisfy: one task.complete, exit 0, no secret in the output.
 */
async function run(
  task: string,
  inputs: Record<string, string>,
  options: TaskRunOptions & { noConnection?: boolean; extraSecrets?: string[] } = {},
): Promise<TaskRun> {
  const endpoint = connection();
  const result = await runTaskSource(task, {
    cwd: workspace,
    timeoutMs: 120_000,
    ...(options.noConnection ? {} : { endpoints: [endpoint] }),
    ...options,
    inputs: {
      ...(options.noConnection ? {} : { awsCredentials: endpoint.id }),
      regionName: 'us-east-1',
      ...inputs,
    },
    env: { AWS_ENDPOINT_URL: t.url, AZURE_POD_IDENTITY_AUTHORITY_HOST: t.url, ...options.env },
  });
  assert.equal(
    result.completions.length,
    1,
    `exactly one task.complete:\n${result.stdout}\n${result.stderr}`,
  );
  assert.equal(result.exitCode, 0, result.stderr);
  assert.deepEqual(
    leakedSecrets(
      [visible(result.stdout), visible(result.stderr)],
      [...t.secrets, ...(options.extraSecrets ?? [])],
    ),
    [],
    'no secret in the output',
  );
  return result;
}

function message(result: TaskRun): string {
  return result.completions[0]?.data ?? '';
}

function summaryOf(result: TaskRun): string {
  assert.equal(result.summaries.length, 1, 'one summary section');
  return readFileSync(result.summaries[0]!, 'utf8');
}

function succeeded(result: TaskRun): void {
  assert.equal(result.result, 'Succeeded', `${message(result)}\n${result.stdout}`);
}

function warnings(result: TaskRun): string[] {
  return result.issues.filter((issue) => issue.type === 'warning').map((issue) => issue.message);
}

/** Every setvariable command for a name (a toolkit-style variable is set twice: job variable and output). */
function settings(result: TaskRun, name: string): Array<{ output: boolean; secret: boolean; value: string }> {
  return result.commands
    .filter((command) => command.event === 'setvariable' && command.properties.variable === name)
    .map((command) => ({
      output: command.properties.isoutput === 'true',
      secret: command.properties.issecret === 'true',
      value: command.data,
    }));
}

async function describeStack(stackName: string): Promise<Stack | undefined> {
  try {
    return (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
  } catch (error) {
    if (/does not exist/.test((error as Error).message)) return undefined;
    throw error;
  }
}

function outputsOf(stack: Stack | undefined): Record<string, string> {
  return Object.fromEntries(
    (stack?.Outputs ?? []).map((output) => [output.OutputKey ?? '', output.OutputValue ?? '']),
  );
}

before(async () => {
  // Resources take one simulated second, change sets two; the faster clock keeps both observable but quick.
  t = await startTestSandbox({ providerDelaySeconds: 1, timeScale: 5 });
  cfn = new CloudFormationClient({ region: 'us-east-1', endpoint: t.url, credentials: t.root });
  template('app.yml');
});
after(() => t.sandbox.close());

describe('CloudFormationCreateOrUpdateStack', () => {
  test("the blog's inputs create the stack; a re-run changes nothing and warns; outputs as JSON are secret", async () => {
    const inputs = { stackName: 'aws-sample-app', templateSource: 'file', templateFile: template('app.yml') };
    const created = await run(CREATE, inputs);
    succeeded(created);
    assert.equal(message(created), 'Stack aws-sample-app created (CREATE_COMPLETE).');
    const stack = await describeStack('aws-sample-app');
    assert.equal(stack?.StackStatus, 'CREATE_COMPLETE');
    assert.deepEqual(created.variables.get('stackId'), {
      value: stack?.StackId,
      secret: false,
      output: true,
    });
    const json = created.variables.get('stackOutputsJson');
    assert.equal(json?.secret, true, 'captureAsSecuredVars defaults to true');
    assert.equal(json?.output, true);
    assert.deepEqual(JSON.parse(json?.value ?? '{}'), outputsOf(stack));
    assert.match(created.stdout, /CREATE_COMPLETE {2}AWS::SSM::Parameter {2}Setting/);
    assert.match(created.stdout, /WebsiteURL = \*\*\*/, 'secured outputs are listed without their values');
    const summary = summaryOf(created);
    assert.match(summary, /\*\*Created\*\*: stack `aws-sample-app` in us-east-1 \(CREATE_COMPLETE\)/);
    assert.match(summary, /\| WebsiteURL \| \*\*\* \|/);
    assert.deepEqual(warnings(created), []);
    assert.ok(
      created.commands.some((command) => command.event === 'setprogress'),
      'progress is reported',
    );

    const again = await run(CREATE, inputs);
    succeeded(again);
    assert.equal(message(again), 'Stack aws-sample-app is up to date; nothing was changed.');
    assert.deepEqual(warnings(again), ['No changes to deploy: stack aws-sample-app is up to date.']);
    assert.equal((await describeStack('aws-sample-app'))?.LastUpdatedTime, stack?.LastUpdatedTime);

    const quiet = await run(CREATE, { ...inputs, warnWhenNoWorkNeeded: 'false' });
    succeeded(quiet);
    assert.deepEqual(warnings(quiet), [], 'warnWhenNoWorkNeeded: false succeeds silently');
    assert.match(quiet.stdout, /No changes to deploy/);
  });

  test('outputs asVariables with a prefix are outputs (isoutput) and job variables; asJSON makes <stack>Outputs', async () => {
    const inputs = { stackName: 'web-outputs', templateFile: template('outputs.yml') };
    const first = await run(CREATE, {
      ...inputs,
      parameterOverrides: 'Label=green',
      captureStackOutputs: 'asVariables',
      outputVariablePrefix: 'web_',
      captureAsSecuredVars: 'false',
      outputVariable: 'stackArn',
    });
    succeeded(first);
    const outputs = outputsOf(await describeStack('web-outputs'));
    assert.match(outputs.WebsiteURL ?? '', /\/green$/);
    assert.deepEqual(settings(first, 'web_WebsiteURL'), [
      { output: false, secret: false, value: outputs.WebsiteURL },
      { output: true, secret: false, value: outputs.WebsiteURL },
    ]);
    assert.deepEqual(
      settings(first, 'web_SettingName').map((setting) => setting.value),
      [outputs.SettingName, outputs.SettingName],
    );
    assert.deepEqual(
      settings(first, 'stackArn').map((setting) => [setting.output, setting.value]),
      [
        [false, first.variables.get('stackId')?.value],
        [true, first.variables.get('stackId')?.value],
      ],
    );
    assert.match(first.stdout, new RegExp(`WebsiteURL = ${outputs.WebsiteURL}`));
    assert.match(summaryOf(first), /Published as variables: `web_WebsiteURL`, `web_SettingName`/);

    const json = await run(CREATE, {
      ...inputs,
      parameterOverrides: 'Label=green',
      captureStackOutputs: 'asJSON',
    });
    succeeded(json);
    // outputVariable naming one of the task's declared outputs cannot be a plain variable on the agent: said.
    const colliding = await run(CREATE, {
      ...inputs,
      parameterOverrides: 'Label=green',
      outputVariable: 'StackId',
    });
    succeeded(colliding);
    assert.ok(
      colliding.issues.some(
        (issue) =>
          issue.type === 'warning' &&
          /outputVariable "StackId" is also this task's own output stackId/.test(issue.message),
      ),
      JSON.stringify(colliding.issues),
    );

    // The toolkit's name (the stack name as it is) and shape (the outputs as DescribeStacks lists them).
    const variable = json.variables.get('web-outputsOutputs');
    assert.equal(variable?.secret, true);
    assert.equal(variable?.output, true);
    const listed = (await cfn.send(new DescribeStacksCommand({ StackName: 'web-outputs' }))).Stacks?.[0]
      ?.Outputs;
    assert.deepEqual(
      JSON.parse(variable?.value ?? '[]'),
      (listed ?? []).map((output) => ({ OutputKey: output.OutputKey, OutputValue: output.OutputValue })),
    );
  });

  test('a change set: its changes in the log and the summary; without auto-execute it waits for ExecuteChangeSet', async () => {
    const stackName = 'web-change-sets';
    const file = template('changes.yml');
    succeeded(await run(CREATE, { stackName, templateFile: file }));

    const review = await run(CREATE, {
      stackName,
      templateFile: file,
      parameterOverrides: 'Label=red',
      useChangeSet: 'true',
      changeSetName: 'review-red',
      autoExecuteChangeSet: 'false',
    });
    succeeded(review);
    assert.match(message(review), /Change set review-red created for stack web-change-sets and not executed/);
    assert.match(
      review.stdout,
      /Change set review-red for stack web-change-sets: 0 to add, 1 to modify, 0 to remove/,
    );
    assert.match(summaryOf(review), /\| Modify \| Setting \| AWS::SSM::Parameter \|/);
    assert.match(outputsOf(await describeStack(stackName)).WebsiteURL ?? '', /\/blue$/, 'not executed');

    const executed = await run(EXECUTE, {
      changeSetName: 'review-red',
      stackName,
      captureStackOutputs: 'asVariables',
      captureAsSecuredVars: 'false',
    });
    succeeded(executed);
    assert.equal(
      message(executed),
      'Change set review-red executed: stack web-change-sets updated (UPDATE_COMPLETE).',
    );
    assert.match(executed.variables.get('WebsiteURL')?.value ?? '', /\/red$/);
    assert.match(executed.stdout, /UPDATE_COMPLETE {2}AWS::SSM::Parameter {2}Setting/);
    assert.match(summaryOf(executed), /\*\*Updated\*\*: stack `web-change-sets`/);

    const rerun = await run(EXECUTE, { changeSetName: 'review-red', stackName });
    succeeded(rerun);
    assert.match(message(rerun), /was already executed; stack web-change-sets is UPDATE_COMPLETE/);
  });

  test('usePrevious keeps the template and changes only the parameters', async () => {
    const stackName = 'web-previous';
    succeeded(await run(CREATE, { stackName, templateFile: template('previous.yml') }));
    const updated = await run(CREATE, {
      stackName,
      templateSource: 'usePrevious',
      parameterOverrides: 'Label=purple',
    });
    succeeded(updated);
    assert.equal(message(updated), 'Stack web-previous updated (UPDATE_COMPLETE).');
    assert.match(outputsOf(await describeStack(stackName)).WebsiteURL ?? '', /\/purple$/);

    const missing = await run(CREATE, { stackName: 'never-created', templateSource: 'usePrevious' });
    assert.equal(missing.result, 'Failed');
    assert.equal(
      message(missing),
      'Stack never-created does not exist, so there is no previous template to reuse.',
    );
  });

  test('a failing resource fails the task naming it, in the message and the summary; the next run recreates the stack', async () => {
    const stackName = 'web-broken';
    const failed = await run(CREATE, {
      stackName,
      templateFile: template('broken.yml', { failOn: 'create', reason: 'Parameter store is down' }),
    });
    assert.equal(failed.result, 'Failed');
    assert.match(
      message(failed),
      /^Stack web-broken create failed \(ROLLBACK_COMPLETE\): Setting \(AWS::SSM::Parameter\) CREATE_FAILED: .*Parameter store is down/,
    );
    assert.ok(failed.issues.some((issue) => issue.type === 'error' && /^Fix: /.test(issue.message)));
    const summary = summaryOf(failed);
    assert.match(summary, /\*\*Failed\*\*: stack `web-broken`/);
    assert.match(
      summary,
      /\| Setting \| AWS::SSM::Parameter \| CREATE_FAILED \| .*Parameter store is down.* \|/,
    );
    assert.equal(failed.variables.size, 0, 'no outputs from a failed deployment');

    const fixed = await run(CREATE, { stackName, templateFile: template('fixed.yml') });
    succeeded(fixed);
    assert.match(
      fixed.stdout,
      /ROLLBACK_COMPLETE \(a failed creation\): deleting it so it can be created again/,
    );
    assert.equal((await describeStack(stackName))?.StackStatus, 'CREATE_COMPLETE');
  });

  test("a toolkit pipeline's inputs run unchanged, with the blog's AWS.* variables set by a script", async () => {
    // What the blog's Bash@3 step does: a managed-identity token traded for session keys, set as plain variables.
    const imds = new URL('/metadata/identity/oauth2/token', t.url);
    imds.search = new URLSearchParams({
      'api-version': '2018-02-01',
      resource: t.ids.audience,
      client_id: t.ids.clientId,
    }).toString();
    const token = (
      (await (await fetch(imds, { headers: { Metadata: 'true' } })).json()) as { access_token: string }
    ).access_token;
    const assumed = await new STSClient({ region: 'us-east-1', endpoint: t.url }).send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: t.ids.roleArn,
        RoleSessionName: 'AWSAssumeRole',
        WebIdentityToken: token,
      }),
    );
    const keys = assumed.Credentials!;
    // Exactly the toolkit's inputs, each with its default where the pipeline gives none (the agent fills them).
    const toolkitInputs = {
      awsCredentials: '',
      regionName: 'us-east-1',
      stackName: 'toolkit-style',
      templateSource: 'file',
      templateFile: template('toolkit.yml'),
      s3BucketName: '',
      s3ObjectKey: '',
      templateUrl: '',
      templateParametersSource: 'inline',
      templateParameters: '[{"ParameterKey": "Label", "ParameterValue": "toolkit"}]',
      templateParametersFile: '',
      useChangeSet: 'false',
      changeSetName: '',
      description: '',
      includeNestedStacks: 'false',
      autoExecuteChangeSet: 'true',
      capabilityIAM: 'true',
      capabilityNamedIAM: 'true',
      capabilityAutoExpand: 'false',
      roleARN: '',
      resourceTypes: '',
      notificationARNs: '',
      tags: 'team=web\ncost-center=42',
      monitorRollbackTriggers: 'false',
      monitoringTimeInMinutes: '0',
      rollbackTriggerARNs: '',
      onFailure: 'ROLLBACK',
      disableRollback: 'false',
      warnWhenNoWorkNeeded: 'true',
      outputVariable: 'StackArn',
      captureStackOutputs: 'asVariables',
      captureAsSecuredVars: 'false',
      timeoutInMins: '60',
      logRequest: 'true',
      logResponse: 'false',
    };
    const result = await run(CREATE, toolkitInputs, {
      noConnection: true,
      variables: {
        'AWS.AccessKeyID': keys.AccessKeyId ?? '',
        'AWS.SecretAccessKey': keys.SecretAccessKey ?? '',
        'AWS.SessionToken': keys.SessionToken ?? '',
      },
    });
    succeeded(result);
    assert.match(result.stdout, /keys from pipeline variables AWS\.AccessKeyID\/AWS\.SecretAccessKey/);
    const stack = await describeStack('toolkit-style');
    assert.deepEqual(
      stack?.Tags?.map((tag) => `${tag.Key}=${tag.Value}`),
      ['team=web', 'cost-center=42'],
    );
    assert.ok(
      settings(result, 'WebsiteURL').some((setting) => !setting.output && /\/toolkit$/.test(setting.value)),
    );
    assert.ok(
      settings(result, 'StackArn').some((setting) => !setting.output && setting.value === stack?.StackId),
    );
    assert.ok(
      warnings(result).some((warning) =>
        /^logRequest: raw AWS requests and responses are not logged/.test(warning),
      ),
    );
  });

  describe('wrong inputs fail before anything changes, naming the input and the fix', () => {
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      [
        'an unknown template source',
        { templateSource: 'git' },
        /the input "templateSource" is "git", which is not one of: file, url, s3, usePrevious/,
      ],
      [
        'no template file',
        { templateSource: 'file' },
        /the input "templateFile" is required when templateSource is file/,
      ],
      [
        'a template file that is not there',
        { templateFile: 'nope.yml' },
        /The template file nope\.yml does not exist/,
      ],
      [
        's3 without a key',
        { templateSource: 's3', s3BucketName: 'b' },
        /the input "s3ObjectKey" is required when templateSource is s3/,
      ],
      [
        'a tag that is not Key=Value',
        { templateFile: 'app.yml', tags: 'team' },
        /the input "tags" has the line "team", which is not Key=Value/,
      ],
      [
        'a timeout that is not a number',
        { templateFile: 'app.yml', timeoutInMins: 'soon' },
        /the input "timeoutInMins" must be a whole number from 1 to 10080, not "soon"/,
      ],
      [
        'DELETE on failure with rollback disabled',
        { templateFile: 'app.yml', onFailure: 'DELETE', disableRollback: 'true' },
        /onFailure is DELETE but disableRollback is true/,
      ],
      [
        'an output variable that is not a name',
        { templateFile: 'app.yml', outputVariable: 'stack id' },
        /the input "outputVariable" is "stack id", which is not a variable name/,
      ],
      [
        'a parameter the template does not declare',
        { templateFile: 'app.yml', parameterOverrides: 'Colour=red' },
        /Colour/,
      ],
    ];
    for (const [name, inputs, expected] of cases) {
      test(name, async () => {
        const result = await run(CREATE, { stackName: 'never-deployed', ...inputs });
        assert.equal(result.result, 'Failed');
        assert.match(message(result), expected);
        assert.ok(message(result).split('\n').length <= 2);
        assert.ok(result.issues.some((issue) => issue.type === 'error' && /^Fix: /.test(issue.message)));
        assert.equal(await describeStack('never-deployed'), undefined, 'nothing was created');
      });
    }

    test('no connection and no AWS.* variables', async () => {
      const result = await run(
        CREATE,
        { stackName: 'never-deployed', templateFile: 'app.yml' },
        { noConnection: true },
      );
      assert.equal(result.result, 'Failed');
      assert.match(
        message(result),
        /no AWS credentials: the "awsCredentials" input names no service connection/,
      );
    });
  });
});

describe('CloudFormationExecuteChangeSet', () => {
  async function emptyChangeSet(stackName: string, name: string): Promise<void> {
    await cfn.send(
      new CreateChangeSetCommand({
        StackName: stackName,
        ChangeSetName: name,
        ChangeSetType: 'UPDATE',
        UsePreviousTemplate: true,
        Parameters: [{ ParameterKey: 'Label', UsePreviousValue: true }],
      }),
    );
  }

  test('an empty change set fails by default, and with noFailOnEmptyChangeSet succeeds (and is deleted if asked)', async () => {
    const stackName = 'web-empty';
    succeeded(await run(CREATE, { stackName, templateFile: template('empty.yml') }));
    await emptyChangeSet(stackName, 'nothing');

    const failing = await run(EXECUTE, { changeSetName: 'nothing', stackName });
    assert.equal(failing.result, 'Failed');
    assert.match(
      message(failing),
      /Change set nothing of stack web-empty contains no changes, so there is nothing to execute/,
    );
    assert.ok(failing.issues.some((issue) => /Fix: Set noFailOnEmptyChangeSet: true/.test(issue.message)));

    const tolerated = await run(EXECUTE, {
      changeSetName: 'nothing',
      stackName,
      noFailOnEmptyChangeSet: 'true',
      deleteEmptyChangeSet: 'true',
    });
    succeeded(tolerated);
    assert.equal(
      message(tolerated),
      'Change set nothing of stack web-empty has no changes; nothing was executed and it was deleted.',
    );
    const left = await cfn.send(new ListChangeSetsCommand({ StackName: stackName }));
    assert.deepEqual(left.Summaries ?? [], []);
    assert.ok(tolerated.variables.get('stackId')?.value.includes(':stack/web-empty/'));
  });

  test("the toolkit's review flow on an unchanged stack: the empty change set is kept, and the execute step skips it", async () => {
    const stackName = 'web-review';
    succeeded(await run(CREATE, { stackName, templateFile: template('review.yml') }));
    const review = {
      stackName,
      templateFile: template('review.yml'),
      useChangeSet: 'true',
      changeSetName: 'pr-42',
      autoExecuteChangeSet: 'false',
    };
    const created = await run(CREATE, review);
    succeeded(created);
    const kept = await cfn.send(new ListChangeSetsCommand({ StackName: stackName }));
    assert.deepEqual(
      (kept.Summaries ?? []).map((summary) => [summary.ChangeSetName, summary.Status]),
      [['pr-42', 'FAILED']],
    );
    const skipped = await run(EXECUTE, {
      changeSetName: 'pr-42',
      stackName,
      noFailOnEmptyChangeSet: 'true',
      deleteEmptyChangeSet: 'true',
    });
    succeeded(skipped);
    const left = await cfn.send(new ListChangeSetsCommand({ StackName: stackName }));
    assert.deepEqual(left.Summaries ?? [], []);
  });

  test('a change set given by ARN alone; one given by name needs its stack', async () => {
    const stackName = 'web-by-arn';
    succeeded(await run(CREATE, { stackName, templateFile: template('by-arn.yml') }));
    const created = await cfn.send(
      new CreateChangeSetCommand({
        StackName: stackName,
        ChangeSetName: 'relabel',
        ChangeSetType: 'UPDATE',
        UsePreviousTemplate: true,
        Parameters: [{ ParameterKey: 'Label', ParameterValue: 'orange' }],
      }),
    );
    const byName = await run(EXECUTE, { changeSetName: 'relabel' });
    assert.equal(byName.result, 'Failed');
    assert.match(
      message(byName),
      /the input "stackName" is required when "changeSetName" is a name \("relabel"\)/,
    );
    const status = await cfn.send(new DescribeChangeSetCommand({ ChangeSetName: created.Id }));
    assert.notEqual(status.ExecutionStatus, 'EXECUTE_COMPLETE');

    const byArn = await run(EXECUTE, { changeSetName: created.Id ?? '' });
    succeeded(byArn);
    assert.match(outputsOf(await describeStack(stackName)).WebsiteURL ?? '', /\/orange$/);

    const missing = await run(EXECUTE, { changeSetName: 'no-such-change-set', stackName });
    assert.equal(missing.result, 'Failed');
    assert.match(
      message(missing),
      /Change set no-such-change-set of stack web-by-arn does not exist in us-east-1/,
    );
  });
});

describe('CloudFormationDeleteStack', () => {
  test('deletes an existing stack, and a missing one is success', async () => {
    const stackName = 'web-delete';
    succeeded(await run(CREATE, { stackName, templateFile: template('delete.yml') }));
    const stackId = (await describeStack(stackName))?.StackId;

    const deleted = await run(DELETE, { stackName });
    succeeded(deleted);
    assert.equal(message(deleted), 'Stack web-delete deleted.');
    assert.match(deleted.stdout, /DELETE_COMPLETE/);
    assert.equal(await describeStack(stackName), undefined);
    assert.deepEqual(deleted.variables.get('stackId'), { value: stackId, secret: false, output: true });
    assert.match(summaryOf(deleted), /\*\*Deleted\*\*: stack `web-delete`/);

    const again = await run(DELETE, { stackName });
    succeeded(again);
    assert.equal(message(again), 'Stack web-delete does not exist in us-east-1; nothing to delete.');
    assert.match(again.stdout, /Stack web-delete does not exist; nothing to delete\./);
  });

  test('a bad timeout is refused before anything is deleted', async () => {
    const stackName = 'web-kept';
    succeeded(await run(CREATE, { stackName, templateFile: 'app.yml' }));
    const result = await run(DELETE, { stackName, timeoutInMins: '0' });
    assert.equal(result.result, 'Failed');
    assert.match(
      message(result),
      /the input "timeoutInMins" must be a whole number from 1 to 10080, not "0"/,
    );
    assert.equal((await describeStack(stackName))?.StackStatus, 'CREATE_COMPLETE');
  });
});
