// Issue 5's acceptance: the local runner runs the BUILT extension (dist/tasks, never mocks) against the sandbox,
// the way the Azure Pipelines agent would, and the run record shows each output flowing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { runPipeline, type AgentSettings, type RunRecord, type StepRecord } from '@keyless/pipeline-runner';
import { leakedSecrets, startTestSandbox, type TestSandbox } from './support';

const tasksDirectory = fileURLToPath(new URL('../dist/tasks/', import.meta.url));
const sampleSite = fileURLToPath(new URL('../../../examples/sample-app/site/', import.meta.url));
const BUCKET = 'acceptance-artifacts';

/** One web instance behind a load balancer, deployed in place: the smallest stack that ends in a WebsiteURL. */
const TEMPLATE = `AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Vpc: { Type: AWS::EC2::VPC, Properties: { CidrBlock: 10.0.0.0/16 } }
  Subnet: { Type: AWS::EC2::Subnet, Properties: { VpcId: !Ref Vpc, CidrBlock: 10.0.1.0/24 } }
  LaunchTemplate:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData: { ImageId: ami-0abcdef1234567890, InstanceType: t3.micro }
  TargetGroup:
    Type: AWS::ElasticLoadBalancingV2::TargetGroup
    Properties:
      { Port: 80, Protocol: HTTP, VpcId: !Ref Vpc, HealthCheckPath: /health, HealthCheckIntervalSeconds: 5,
        HealthyThresholdCount: 2 }
  LoadBalancer:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties: { Subnets: [!Ref Subnet] }
  Listener:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: !Ref LoadBalancer
      Port: 80
      Protocol: HTTP
      DefaultActions: [{ Type: forward, TargetGroupArn: !Ref TargetGroup }]
  Fleet:
    Type: AWS::AutoScaling::AutoScalingGroup
    Properties:
      LaunchTemplate: { LaunchTemplateId: !Ref LaunchTemplate, Version: !GetAtt LaunchTemplate.LatestVersionNumber }
      MinSize: '1'
      MaxSize: '1'
      DesiredCapacity: '1'
      VPCZoneIdentifier: [!Ref Subnet]
      TargetGroupARNs: [!Ref TargetGroup]
  Application: { Type: AWS::CodeDeploy::Application, Properties: { ApplicationName: !Sub '\${AWS::StackName}-app' } }
  DeploymentGroup:
    Type: AWS::CodeDeploy::DeploymentGroup
    Properties:
      ApplicationName: !Ref Application
      DeploymentGroupName: !Sub '\${AWS::StackName}-group'
      ServiceRoleArn: !Sub 'arn:aws:iam::\${AWS::AccountId}:role/CodeDeployServiceRole'
      AutoScalingGroups: [!Ref Fleet]
Outputs:
  WebsiteURL: { Value: !Sub 'http://\${LoadBalancer.DNSName}' }
  ApplicationName: { Value: !Ref Application }
  DeploymentGroupName: { Value: !Ref DeploymentGroup }
`;

/** The pipeline's later steps: stack, deployment, a script with the AWS CLI, and a job reading an output. */
function deploySteps(credentials: string, stack: string): string {
  return `${credentials}
      - task: CloudFormationCreateOrUpdateStack@1
        name: stack
        inputs:
          regionName: us-east-1
          stackName: ${stack}
          templateSource: file
          templateFile: infrastructure.yml
          captureStackOutputs: asVariables
          captureAsSecuredVars: false
      - task: CodeDeployDeployApplication@1
        name: deploy
        inputs:
          regionName: us-east-1
          applicationName: $(stack.ApplicationName)
          deploymentGroupName: $(stack.DeploymentGroupName)
          deploymentRevisionSource: workspace
          revisionBundle: site
          bucketName: ${BUCKET}
          fileExistsBehavior: OVERWRITE
          timeoutInMins: 10
      - task: AWSShellScript@1
        name: script
        inputs:
          regionName: us-east-1
          scriptType: inline
          inlineScript: |
            set -e
            account=$(aws sts get-caller-identity --query Account --output text)
            status=$(aws deploy get-deployment --deployment-id "$(deploy.deploymentId)" --query deploymentInfo.status --output text)
            echo "account $account deployment $status"
            echo "##vso[task.setvariable variable=deploymentStatus;isOutput=true]$status"
  - job: Verify
    dependsOn: Deploy
    variables:
      url: $[ dependencies.Deploy.outputs['stack.WebsiteURL'] ]
      status: $[ dependencies.Deploy.outputs['script.deploymentStatus'] ]
    steps:
      - bash: |
          set -e
          echo "deployment was $(status)"
          test "$(status)" = "Succeeded"
          body=$(curl -sf --max-time 5 "$(url)/version")
          echo "served $body"
          test "$body" = "v1"
        name: smoke
`;
}

const keylessCredentials = `jobs:
  - job: Deploy
    steps:
      - task: AWSCredentials@1
        name: aws
        inputs:
          authMode: azureManagedIdentity
          audience: $(audience)
          clientId: $(clientId)
          roleArn: $(roleArn)
          regionName: us-east-1`;

/** The blog's style: a script fetches an IMDS token, calls STS with the AWS CLI and sets the three variables. */
const blogCredentials = `jobs:
  - job: Deploy
    steps:
      - bash: |
          set -e
          token=$(curl -sf -H Metadata:true "$IMDS/metadata/identity/oauth2/token?api-version=2018-02-01&resource=$(audience)&client_id=$(clientId)" | jq -r .access_token)
          creds=$(aws sts assume-role-with-web-identity --role-arn "$(roleArn)" --role-session-name AWSAssumeRole \\
            --web-identity-token "$token" --query Credentials --output json)
          echo "##vso[task.setvariable variable=AWS.AccessKeyID]$(echo "$creds" | jq -r .AccessKeyId)"
          echo "##vso[task.setvariable variable=AWS.SecretAccessKey;issecret=true]$(echo "$creds" | jq -r .SecretAccessKey)"
          echo "##vso[task.setvariable variable=AWS.SessionToken;issecret=true]$(echo "$creds" | jq -r .SessionToken)"
        displayName: Credentials the blog's way
        env:
          IMDS: $(imds)`;

let t: TestSandbox;

before(async () => {
  assert.ok(
    existsSync(join(tasksDirectory, 'CodeDeployDeployApplication', 'task.json')),
    `The extension is not built (${tasksDirectory}): run \`npm run build\` first.`,
  );
  t = await startTestSandbox({ timeScale: 60, providerDelaySeconds: 0 });
  const s3 = new S3Client({
    endpoint: t.url,
    region: 'us-east-1',
    credentials: t.root,
    forcePathStyle: true,
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

after(async () => {
  await t?.sandbox.close();
});

interface Run {
  record: RunRecord;
  log: string;
  recordText: string;
  steps: Map<string, StepRecord>;
}

async function run(
  pipelineYaml: string,
  extra: Partial<AgentSettings> = {},
  files: Record<string, string> = {},
): Promise<Run> {
  const repo = await mkdtemp(join(tmpdir(), 'keyless-acceptance-'));
  await cp(sampleSite, join(repo, 'site'), { recursive: true });
  await writeFile(join(repo, 'infrastructure.yml'), TEMPLATE);
  for (const [name, text] of Object.entries(files)) await writeFile(join(repo, name), text);
  const file = join(repo, 'azure-pipelines.yml');
  await writeFile(file, pipelineYaml);
  const agent: AgentSettings = {
    collectionUri: `${t.url}/contoso/`,
    teamProject: 'web',
    teamProjectId: t.ids.projectId,
    accessToken: t.ids.systemAccessToken,
    serviceConnections: [],
    variableGroups: {},
    environment: {
      AWS_ENDPOINT_URL: t.url,
      AZURE_POD_IDENTITY_AUTHORITY_HOST: t.url,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    ...extra,
  };
  const lines: string[] = [];
  const record = await runPipeline({
    pipelineFile: file,
    agent,
    taskDirectories: [tasksDirectory],
    workDirectory: join(repo, '.work'),
    variables: {
      audience: t.ids.audience,
      clientId: t.ids.clientId,
      roleArn: t.ids.roleArn,
      imds: t.url,
    },
    write: (line) => lines.push(line),
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8' },
  });
  const steps = new Map<string, StepRecord>();
  for (const stage of record.stages)
    for (const job of stage.jobs) for (const step of job.steps) steps.set(`${job.name}.${step.name}`, step);
  return {
    record,
    log: await readFile(record.logFile, 'utf8'),
    recordText: await readFile(record.recordFile, 'utf8'),
    steps,
  };
}

function explain(result: Run): string {
  return result.log.split('\n').slice(-80).join('\n');
}

describe('the built extension, run by the local runner against the sandbox', { timeout: 300_000 }, () => {
  test('AWSCredentials → CloudFormation → CodeDeploy → AWSShellScript (AWS CLI) → a job reading a stack output', async () => {
    const result = await run(deploySteps(keylessCredentials, `accept-${randomUUID().slice(0, 8)}`));
    assert.equal(result.record.result, 'Succeeded', explain(result));
    const aws = result.steps.get('Deploy.aws')!;
    assert.equal(aws.outputs.accountId, '210987654321');
    const secretNames = aws.variables.filter((v) => v.secret).map((v) => v.name);
    assert.deepEqual(
      secretNames.sort(),
      ['AWS.AccessKeyID', 'AWS.SecretAccessKey', 'AWS.SessionToken'].sort(),
    );
    const stack = result.steps.get('Deploy.stack')!;
    assert.match(stack.outputs.WebsiteURL ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(
      stack.files.some((file) => file.kind === 'summary'),
      'the stack summary was uploaded',
    );
    const deploy = result.steps.get('Deploy.deploy')!;
    assert.match(deploy.outputs.deploymentId ?? '', /^d-[A-Z0-9]{9}$/);
    assert.ok(
      deploy.files.some((file) => file.kind === 'summary'),
      'the deployment summary was uploaded',
    );
    assert.equal(result.steps.get('Deploy.script')!.outputs.deploymentStatus, 'Succeeded');
    const job = result.record.stages[0]!.jobs.find((j) => j.name === 'Verify')!;
    assert.equal(job.variables.url, stack.outputs.WebsiteURL, 'the output crossed to the next job');
    assert.equal(result.steps.get('Verify.smoke')!.result, 'Succeeded');
    assert.match(result.log, /served v1/);
    assert.deepEqual(leakedSecrets([result.log, result.recordText], t.secrets), []);
  });

  test("the blog's credential script (AWS.* variables set by a step) works the same", async () => {
    const result = await run(deploySteps(blogCredentials, `blog-${randomUUID().slice(0, 8)}`));
    assert.equal(result.record.result, 'Succeeded', explain(result));
    assert.match(result.log, /served v1/);
    assert.deepEqual(leakedSecrets([result.log, result.recordText], t.secrets), []);
  });
  test("a pipeline written for the AWS Toolkit's input names runs unchanged (connection by name)", async () => {
    const stack = `toolkit-${randomUUID().slice(0, 8)}`;
    // Only input names the toolkit has (reference/toolkit-task-inputs.json); outputs read the toolkit's way,
    // as plain job variables ($(WebsiteURL)), not as step outputs.
    const pipeline = `steps:
  - task: CloudFormationCreateOrUpdateStack@1
    inputs:
      awsCredentials: aws-keys
      regionName: us-east-1
      stackName: ${stack}
      templateSource: file
      templateFile: infrastructure.yml
      capabilityIAM: true
      onFailure: ROLLBACK
      captureStackOutputs: asVariables
      captureAsSecuredVars: false
      outputVariable: stackArn
  - task: CodeDeployDeployApplication@1
    inputs:
      awsCredentials: aws-keys
      regionName: us-east-1
      applicationName: $(ApplicationName)
      deploymentGroupName: $(DeploymentGroupName)
      deploymentRevisionSource: workspace
      revisionBundle: site
      bucketName: ${BUCKET}
      bundlePrefix: toolkit
      fileExistsBehavior: OVERWRITE
      timeoutInMins: 10
      outputVariable: deploymentIdVar
  - task: S3Upload@1
    inputs:
      awsCredentials: aws-keys
      regionName: us-east-1
      bucketName: ${BUCKET}
      sourceFolder: site
      globExpressions: |
        **/*.sh
        appspec.yml
      targetFolder: toolkit-files
  - task: AWSCLI@1
    inputs:
      awsCredentials: aws-keys
      regionName: us-east-1
      awsCommand: s3
      awsSubCommand: ls
      awsArguments: s3://${BUCKET}/toolkit-files/
  - task: AWSShellScript@1
    inputs:
      awsCredentials: aws-keys
      regionName: us-east-1
      scriptType: inline
      inlineScript: |
        set -e
        echo "stack $(stackArn) deployment $(deploymentIdVar)"
        aws deploy get-deployment --deployment-id "$(deploymentIdVar)" --query deploymentInfo.status --output text
`;
    const result = await run(pipeline, {
      serviceConnections: [
        {
          name: 'aws-keys',
          id: randomUUID(),
          type: 'KeylessAWS',
          scheme: 'UsernamePassword',
          parameters: { username: t.root.accessKeyId, password: t.root.secretAccessKey },
        },
      ],
    });
    assert.equal(result.record.result, 'Succeeded', explain(result));
    assert.match(result.log, /stack arn:aws:cloudformation:us-east-1:\d+:stack\/toolkit-/);
    assert.match(result.log, /toolkit-files\/appspec\.yml|appspec\.yml/);
    assert.match(result.log, /\nSucceeded\n/);
    assert.deepEqual(leakedSecrets([result.log, result.recordText], t.secrets), []);
  });

  test('a failing task fails its step and skips later ones unless continueOnError or a condition says otherwise', async () => {
    const failing = `AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Doomed:
    Type: AWS::SSM::Parameter
    Metadata:
      Keyless::Sandbox: { FailOn: [create], Reason: 'quota exceeded for parameters' }
    Properties: { Type: String, Value: x }
`;
    const pipeline = `steps:
  - bash: |
      echo "##vso[task.setvariable variable=plain;bogus]a%3Bb%0Ac%AZP25d]e"
      echo "##vso[task.setvariable variable=]no name"
    name: escaping
    continueOnError: true
  - task: CloudFormationDeleteStack@1
    name: bad
    continueOnError: true
    inputs:
      awsCredentials: aws-keys
      regionName: us-east-1
      stackName: not a valid stack name!
  - task: CloudFormationCreateOrUpdateStack@1
    name: stack
    inputs:
      awsCredentials: aws-keys
      regionName: us-east-1
      stackName: fail-${randomUUID().slice(0, 8)}
      templateSource: file
      templateFile: failing.yml
  - bash: echo "must not run"
    name: skipped
  - bash: echo "cleanup ran after $(Agent.JobStatus)"
    name: cleanup
    condition: failed()
  - bash: |
      printf '%s' "$(plain)" | od -c | head -2
    name: always
    condition: always()
`;
    const result = await run(
      pipeline,
      {
        serviceConnections: [
          {
            name: 'aws-keys',
            id: randomUUID(),
            type: 'KeylessAWS',
            scheme: 'UsernamePassword',
            parameters: { username: t.root.accessKeyId, password: t.root.secretAccessKey },
          },
        ],
      },
      { 'failing.yml': failing },
    );
    assert.equal(result.record.result, 'Failed');
    const step = (name: string) => result.steps.get(`Job.${name}`)!;
    // The agent: an empty variable name is an error that fails the step (rescued by continueOnError); a
    // property without "=" is dropped; %3B, %0A and %AZP25 unescape; the data ends at the line's end.
    assert.equal(step('escaping').result, 'SucceededWithIssues');
    assert.equal(step('escaping').variables.find((v) => v.name === 'plain')?.value, 'a;b\nc%d]e');
    assert.equal(step('bad').result, 'SucceededWithIssues', 'continueOnError turns its failure into issues');
    assert.match(step('bad').message ?? '', /stack name/i);
    assert.equal(step('stack').result, 'Failed');
    assert.match(step('stack').message ?? '', /Doomed.*quota exceeded for parameters/);
    assert.equal(step('skipped').result, 'Skipped');
    assert.equal(step('cleanup').result, 'Succeeded');
    assert.match(result.log, /cleanup ran after Failed/);
    assert.equal(step('always').result, 'Succeeded');
    assert.deepEqual(leakedSecrets([result.log, result.recordText], t.secrets), []);
  });
});
