import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { CreateDeploymentGroupCommand, type CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { DescribeInstancesCommand, RunInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

/**
 * The sample application CodeDeploy tests deploy: a tiny node HTTP server answering its version on
 * $KEYLESS_INSTANCE_PORT, started by ApplicationStart (output redirected, so the hook returns), checked by
 * ValidateService with curl, stopped by ApplicationStop through a pid file under $KEYLESS_INSTANCE_ROOT.
 */

const run = promisify(execFile);

/** Simulated seconds for hooks: generous, because the tests run with a large time scale. */
const HOOK_TIMEOUT = 1800;

const SERVER_JS = `const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const version = fs.readFileSync(path.join(__dirname, 'VERSION'), 'utf8').trim();
http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(version);
}).listen(Number(process.argv[2]), '127.0.0.1');
`;

/** Stops whatever serves the port (a previous revision, or the placeholder user data started). */
const STOP_SH = `#!/bin/bash
ROOT="\${KEYLESS_INSTANCE_ROOT:-}"
PORT="\${KEYLESS_INSTANCE_PORT:-80}"
PIDFILE="$ROOT/tmp/sample-app.pid"
if [ -f "$PIDFILE" ]; then
  kill "$(cat "$PIDFILE")" 2>/dev/null || true
  rm -f "$PIDFILE"
fi
for i in $(seq 1 100); do
  curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/" || exit 0
  sleep 0.05
done
echo "port $PORT still answering" >&2
exit 1
`;

const START_SH = `#!/bin/bash
set -e
ROOT="\${KEYLESS_INSTANCE_ROOT:-}"
PORT="\${KEYLESS_INSTANCE_PORT:-80}"
"$(dirname "$0")/stop.sh"
cd "$ROOT/opt/sample-app"
nohup node server.js "$PORT" > "$ROOT/var/log/sample-app.log" 2>&1 < /dev/null &
echo $! > "$ROOT/tmp/sample-app.pid"
echo "started $(cat VERSION) on $PORT"
`;

function validateSh(version: string, fail: boolean): string {
  if (fail)
    return `#!/bin/bash\necho "checking the service"\necho "health check failed for ${version}" >&2\nexit 7\n`;
  return `#!/bin/bash
PORT="\${KEYLESS_INSTANCE_PORT:-80}"
for i in $(seq 1 200); do
  body=$(curl -sf --max-time 1 "http://127.0.0.1:$PORT/") && [ "$body" = "${version}" ] && { echo "validated $body"; exit 0; }
  sleep 0.05
done
echo "service did not answer ${version}" >&2
exit 3
`;
}

const RECORD_HOOK_SH = `#!/bin/bash
echo "$DEPLOYMENT_ID $LIFECYCLE_EVENT $DEPLOYMENT_GROUP_NAME" >> "\${KEYLESS_INSTANCE_ROOT:-}/var/log/hooks.log"
`;

function appspec(options: { beforeInstallDelaySeconds?: number }): string {
  const hook = (location: string) => `    - location: ${location}\n      timeout: ${HOOK_TIMEOUT}\n`;
  return [
    'version: 0.0',
    'os: linux',
    'files:',
    '  - source: app',
    '    destination: /opt/sample-app',
    'hooks:',
    '  ApplicationStop:',
    hook('scripts/stop.sh'),
    '  BeforeInstall:',
    hook('scripts/record.sh') + (options.beforeInstallDelaySeconds ? hook('scripts/slow.sh') : ''),
    '  AfterInstall:',
    hook('scripts/record.sh'),
    '  ApplicationStart:',
    hook('scripts/start.sh'),
    '  ValidateService:',
    hook('scripts/validate.sh'),
    '  BeforeAllowTraffic:',
    hook('scripts/record.sh'),
    '  AfterAllowTraffic:',
    hook('scripts/record.sh'),
    '  BeforeBlockTraffic:',
    hook('scripts/record.sh'),
    '  AfterBlockTraffic:',
    hook('scripts/record.sh'),
  ].join('\n');
}

export interface BundleOptions {
  version: string;
  failValidateService?: boolean;
  /** A BeforeInstall hook that sleeps this many real seconds (to stop a deployment mid-way). */
  beforeInstallDelaySeconds?: number;
  /** Pad the bundle past 5 MiB and upload it in two parts: its ETag is then a multipart one ("…-2"). */
  multipart?: boolean;
}

/** Builds the bundle, zips it with the system `zip`, uploads it; returns the S3 location with the ETag. */
export async function uploadBundle(
  s3: S3Client,
  bucket: string,
  key: string,
  options: BundleOptions,
): Promise<{ bucket: string; key: string; bundleType: 'zip'; eTag: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'keyless-bundle-'));
  const zipPath = join(dir, '..', `${dir.split('/').pop()}.zip`);
  try {
    const files: Record<string, string> = {
      'appspec.yml': appspec(options),
      'app/server.js': SERVER_JS,
      'app/VERSION': `${options.version}\n`,
      'scripts/stop.sh': STOP_SH,
      'scripts/start.sh': START_SH,
      'scripts/validate.sh': validateSh(options.version, options.failValidateService ?? false),
      'scripts/record.sh': RECORD_HOOK_SH,
      'scripts/slow.sh': `#!/bin/bash\nsleep ${options.beforeInstallDelaySeconds ?? 0}\n`,
    };
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), content);
      if (path.endsWith('.sh')) await chmod(join(dir, path), 0o755);
    }
    // Random bytes do not compress, so the zip stays past the 5 MiB minimum part size.
    if (options.multipart) await writeFile(join(dir, 'app/padding.bin'), randomBytes(6 * 1024 * 1024));
    await run('zip', ['-qr', zipPath, '.'], { cwd: dir });
    const body = await readFile(zipPath);
    if (!options.multipart) {
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      return { bucket, key, bundleType: 'zip', eTag: (put.ETag ?? '').replace(/"/g, '') };
    }
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const split = 5 * 1024 * 1024;
    const parts = [];
    for (const [index, chunk] of [body.subarray(0, split), body.subarray(split)].entries()) {
      const part = await s3.send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: index + 1, Body: chunk }),
      );
      parts.push({ PartNumber: index + 1, ETag: part.ETag });
    }
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    return { bucket, key, bundleType: 'zip', eTag: (done.ETag ?? '').replace(/"/g, '') };
  } finally {
    await rm(zipPath, { force: true });
    await rm(dir, { recursive: true, force: true });
  }
}

/** The placeholder server an instance's user data starts before any deployment ("v0"). */
export function placeholderUserData(): string {
  const script = `#!/bin/bash
ROOT="\${KEYLESS_INSTANCE_ROOT:-}"
PORT="\${KEYLESS_INSTANCE_PORT:-80}"
mkdir -p "$ROOT/opt/placeholder"
cat > "$ROOT/opt/placeholder/server.js" <<'EOF'
require('node:http').createServer((req, res) => res.end('v0')).listen(Number(process.argv[2]), '127.0.0.1');
EOF
nohup node "$ROOT/opt/placeholder/server.js" "$PORT" > "$ROOT/var/log/placeholder.log" 2>&1 < /dev/null &
echo $! > "$ROOT/tmp/sample-app.pid"
`;
  return script;
}

export function instanceRoot(dataDir: string, instanceId: string): string {
  return join(dataDir, 'instances', instanceId, 'root');
}

export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Launches `count` instances tagged Deploy=<tag> and waits until they all run. */
export async function launchTaggedInstances(ec2: EC2Client, tag: string, count: number): Promise<string[]> {
  const run = await ec2.send(
    new RunInstancesCommand({
      ImageId: 'ami-0abcdef1234567890',
      InstanceType: 't3.micro',
      MinCount: count,
      MaxCount: count,
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Deploy', Value: tag }] }],
    }),
  );
  const ids = (run.Instances ?? []).map((instance) => instance.InstanceId!);
  await until('instances running', async () => {
    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
    const states = (described.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.State?.Name);
    return states.length === ids.length && states.every((state) => state === 'running') ? true : undefined;
  });
  return ids;
}

/** An in-place deployment group over the instances tagged Deploy=<tag>, optionally rolling back on failure. */
export async function createTaggedDeploymentGroup(
  codedeploy: CodeDeployClient,
  group: {
    applicationName: string;
    deploymentGroupName: string;
    tag: string;
    serviceRoleArn: string;
    autoRollback?: boolean;
  },
): Promise<void> {
  await codedeploy.send(
    new CreateDeploymentGroupCommand({
      applicationName: group.applicationName,
      deploymentGroupName: group.deploymentGroupName,
      serviceRoleArn: group.serviceRoleArn,
      ec2TagFilters: [{ Key: 'Deploy', Value: group.tag, Type: 'KEY_AND_VALUE' }],
      ...(group.autoRollback
        ? { autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] } }
        : {}),
    }),
  );
}

export interface BlueGreenTemplateOptions {
  serviceRoleArn: string;
  /** How long the blue fleet is kept after the reroute (simulated minutes). */
  terminationWaitMinutes: number;
  /** Use this existing CodeDeploy application instead of creating one in the stack. */
  existingApplication?: string;
  /** Default: CloudFormation names the group. */
  deploymentGroupName?: string;
}

/**
 * The blog's stack in miniature: a load balancer, an Auto Scaling group of two behind it (serving the
 * placeholder "v0") and a blue/green deployment group that copies the group on each deployment.
 */
export function blueGreenTemplate(prefix: string, options: BlueGreenTemplateOptions): string {
  const application = options.existingApplication ?? { Ref: 'Application' };
  return JSON.stringify({
    AWSTemplateFormatVersion: '2010-09-09',
    Resources: {
      Vpc: { Type: 'AWS::EC2::VPC', Properties: { CidrBlock: '10.0.0.0/16' } },
      Subnet: { Type: 'AWS::EC2::Subnet', Properties: { VpcId: { Ref: 'Vpc' }, CidrBlock: '10.0.1.0/24' } },
      WebSecurityGroup: {
        Type: 'AWS::EC2::SecurityGroup',
        Properties: {
          GroupDescription: 'web',
          VpcId: { Ref: 'Vpc' },
          SecurityGroupIngress: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, CidrIp: '0.0.0.0/0' }],
        },
      },
      LaunchTemplate: {
        Type: 'AWS::EC2::LaunchTemplate',
        Properties: {
          LaunchTemplateData: {
            ImageId: 'ami-0abcdef1234567890',
            InstanceType: 't3.micro',
            SecurityGroupIds: [{ Ref: 'WebSecurityGroup' }],
            UserData: { 'Fn::Base64': placeholderUserData() },
          },
        },
      },
      TargetGroup: {
        Type: 'AWS::ElasticLoadBalancingV2::TargetGroup',
        Properties: {
          Port: 80,
          Protocol: 'HTTP',
          VpcId: { Ref: 'Vpc' },
          HealthCheckPath: '/',
          HealthCheckIntervalSeconds: 5,
          HealthCheckTimeoutSeconds: 2,
          HealthyThresholdCount: 2,
          UnhealthyThresholdCount: 2,
          TargetGroupAttributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '20' }],
        },
      },
      LoadBalancer: {
        Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer',
        Properties: { Subnets: [{ Ref: 'Subnet' }], SecurityGroups: [{ Ref: 'WebSecurityGroup' }] },
      },
      Listener: {
        Type: 'AWS::ElasticLoadBalancingV2::Listener',
        Properties: {
          LoadBalancerArn: { Ref: 'LoadBalancer' },
          Port: 80,
          Protocol: 'HTTP',
          DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: 'TargetGroup' } }],
        },
      },
      AutoScalingGroup: {
        Type: 'AWS::AutoScaling::AutoScalingGroup',
        Properties: {
          LaunchTemplate: {
            LaunchTemplateId: { Ref: 'LaunchTemplate' },
            Version: { 'Fn::GetAtt': ['LaunchTemplate', 'LatestVersionNumber'] },
          },
          MinSize: '2',
          MaxSize: '4',
          DesiredCapacity: '2',
          VPCZoneIdentifier: [{ Ref: 'Subnet' }],
          TargetGroupARNs: [{ Ref: 'TargetGroup' }],
          Tags: [{ Key: 'Name', Value: `${prefix}-web`, PropagateAtLaunch: true }],
        },
      },
      ...(options.existingApplication
        ? {}
        : {
            Application: { Type: 'AWS::CodeDeploy::Application', Properties: { ComputePlatform: 'Server' } },
          }),
      DeploymentGroup: {
        Type: 'AWS::CodeDeploy::DeploymentGroup',
        Properties: {
          ApplicationName: application,
          ServiceRoleArn: options.serviceRoleArn,
          ...(options.deploymentGroupName ? { DeploymentGroupName: options.deploymentGroupName } : {}),
          DeploymentConfigName: 'CodeDeployDefault.AllAtOnce',
          AutoScalingGroups: [{ Ref: 'AutoScalingGroup' }],
          DeploymentStyle: { DeploymentType: 'BLUE_GREEN', DeploymentOption: 'WITH_TRAFFIC_CONTROL' },
          LoadBalancerInfo: {
            TargetGroupInfoList: [{ Name: { 'Fn::GetAtt': ['TargetGroup', 'TargetGroupName'] } }],
          },
          BlueGreenDeploymentConfiguration: {
            TerminateBlueInstancesOnDeploymentSuccess: {
              Action: 'TERMINATE',
              TerminationWaitTimeInMinutes: options.terminationWaitMinutes,
            },
            DeploymentReadyOption: { ActionOnTimeout: 'STOP_DEPLOYMENT', WaitTimeInMinutes: 60 },
            GreenFleetProvisioningOption: { Action: 'COPY_AUTO_SCALING_GROUP' },
          },
        },
      },
    },
    Outputs: {
      WebsiteURL: { Value: { 'Fn::Join': ['', ['http://', { 'Fn::GetAtt': ['LoadBalancer', 'DNSName'] }]] } },
      ApplicationName: { Value: application },
      DeploymentGroupName: { Value: { Ref: 'DeploymentGroup' } },
      AutoScalingGroupName: { Value: { Ref: 'AutoScalingGroup' } },
    },
  });
}
