// `keyless credentials` end to end (process start → credentials) vs the blog's path: curl to the Azure IMDS
// endpoint + jq + `aws sts assume-role-with-web-identity`, both against the same sandbox, alternating runs.
import { join } from 'node:path';
import {
  cliBundle,
  hasCommand,
  median,
  printResult,
  repoRoot,
  startSandboxProcess,
  timeCommand,
} from './lib';

const runs = Number(process.env.BENCH_RUNS ?? 20);
const config = join(repoRoot, 'examples/sample-app/sandbox.yml');
const audience = 'api://keyless-sample-app';
const clientId = '2a9d7e41-5c3b-4f6a-8e1d-9b0c7a6f5e42';
const roleArn = 'arn:aws:iam::111122223333:role/keyless-sample-deploy';

for (const tool of ['aws', 'curl', 'jq']) {
  if (!hasCommand(tool)) {
    console.error(
      `bench/credentials: ${tool} is not installed, so the blog's path cannot be measured; skipping.`,
    );
    process.exit(0);
  }
}

const sandbox = await startSandboxProcess(['--config', config]);
try {
  // Isolated AWS CLI config, so nothing on this machine changes what the peer does.
  const env = { ...process.env, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
  const keylessArgs = [
    cliBundle,
    'credentials',
    '--provider',
    'azure-managed-identity',
    '--audience',
    audience,
    '--client-id',
    clientId,
    '--role-arn',
    roleArn,
    '--region',
    'us-east-1',
    '--azure-imds-endpoint',
    sandbox.url,
    '--endpoint-url',
    sandbox.url,
    '--format',
    'process',
  ];
  // The blog's Bash@3 credential step, in full: token with curl + jq, the STS call, three jq extractions and
  // the three ##vso[task.setvariable] lines (sent to /dev/null here).
  const blogScript = [
    `TOKEN=$(curl -s -H 'Metadata: true' '${sandbox.url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(audience)}&client_id=${clientId}' | jq -r .access_token)`,
    `CREDS=$(aws sts assume-role-with-web-identity --endpoint-url ${sandbox.url} --region us-east-1 --role-arn ${roleArn} --role-session-name AWSAssumeRole --web-identity-token "$TOKEN" --query Credentials --output json)`,
    `echo "##vso[task.setvariable variable=AWS.AccessKeyID]$(echo "$CREDS" | jq -r .AccessKeyId)" > /dev/null`,
    `echo "##vso[task.setvariable variable=AWS.SecretAccessKey]$(echo "$CREDS" | jq -r .SecretAccessKey)" > /dev/null`,
    `echo "##vso[task.setvariable variable=AWS.SessionToken]$(echo "$CREDS" | jq -r .SessionToken)" > /dev/null`,
  ].join('\n');

  // Warm both paths once (file-system caches), then alternate so drift hits both equally.
  timeCommand(process.execPath, keylessArgs, env);
  timeCommand('bash', ['-c', blogScript], env);
  const keyless: number[] = [];
  const blog: number[] = [];
  for (let i = 0; i < runs; i++) {
    keyless.push(timeCommand(process.execPath, keylessArgs, env));
    blog.push(timeCommand('bash', ['-c', blogScript], env));
  }
  const keylessMs = Math.round(median(keyless));
  const blogMs = Math.round(median(blog));
  const ratio = blogMs / keylessMs;
  printResult(
    {
      measure: 'credentials end to end (median of ' + runs + ')',
      keyless: keylessMs,
      peer: blogMs,
      peerName: 'curl + jq + aws sts',
      unit: 'ms',
      ratio,
      target: '>= 3x faster',
      met: ratio >= 3,
    },
    { keylessRunsMs: keyless.map(Math.round), peerRunsMs: blog.map(Math.round) },
  );
} finally {
  await sandbox.stop();
}
