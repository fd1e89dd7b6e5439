// AWSShellScript@1, AWSCLI@1 and S3Upload@1 run as the agent runs them, against the sandbox: the blog's
// managed-identity connection and Azure DevOps OIDC, the real AWS CLI, and S3 checked with the SDK.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { hasAwsCli } from '../../cli/test/support';
import {
  leakedSecrets,
  runTaskSource,
  startTestSandbox,
  type Endpoint,
  type TaskRun,
  type TaskRunOptions,
  type TestSandbox,
} from './support';

let t: TestSandbox;
const folders: string[] = [];
/** Secrets a test created itself (customer keys), checked with the sandbox's. */
const ownSecrets = new Set<string>();

before(async () => {
  t = await startTestSandbox();
});
after(async () => {
  await t.sandbox.close();
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

async function folder(files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'keyless-task-src-'));
  folders.push(dir);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

/** The blog's connection: the agent VM's managed identity, exchanged for the deploy role. */
function managedIdentity(): Endpoint {
  return {
    id: randomUUID(),
    scheme: 'None',
    parameters: {
      authMode: 'azureManagedIdentity',
      roleArn: t.ids.roleArn,
      audience: t.ids.audience,
      clientId: t.ids.clientId,
    },
  };
}

/** Runs a task against the sandbox with a connection, and checks what every run must satisfy. */
async function run(
  task: string,
  inputs: Record<string, string>,
  options: TaskRunOptions & { agentMasked?: string[] } = {},
): Promise<TaskRun> {
  const endpoint = options.endpoints?.[0] ?? managedIdentity();
  const result = await runTaskSource(task, {
    ...options,
    endpoints: options.endpoints ?? [endpoint],
    inputs: { awsCredentials: endpoint.id, regionName: 'us-east-1', ...inputs },
    env: { AWS_ENDPOINT_URL: t.url, AZURE_POD_IDENTITY_AUTHORITY_HOST: t.url, ...options.env },
  });
  return checked(result, options.agentMasked);
}

/**
 * One task.complete, exit code 0, and no secret in what the agent would show. The agent consumes
 * `task.setsecret` lines (their data is the secret) and masks the secret variables it passed in: task-lib
 * itself echoes every input and variable it reads into its debug lines, relying on that.
 */
function checked(result: TaskRun, agentMasked: string[] = []): TaskRun {
  assert.equal(
    result.completions.length,
    1,
    `exactly one task.complete:\n${result.stdout}\n${result.stderr}`,
  );
  assert.equal(result.exitCode, 0);
  let shown = result.stdout
    .split('\n')
    .filter((line) => !line.startsWith('##vso[task.setsecret]'))
    .join('\n');
  for (const secret of agentMasked) shown = shown.split(secret).join('***');
  const secrets = [...t.secrets, t.ids.systemAccessToken, ...ownSecrets];
  assert.deepEqual(leakedSecrets([shown, result.stderr], secrets), [], 'no secret in the output');
  return result;
}

function failureText(result: TaskRun): string {
  return [result.completions[0]?.data ?? '', ...result.issues.map((issue) => issue.message)].join('\n');
}

/** The position in stdout of the first line the script printed (after the task's own lines). */
function indexOfLine(stdout: string, text: string): number {
  const index = stdout.split('\n').findIndex((line) => line.startsWith(text));
  assert.ok(index >= 0, `"${text}" is in the output`);
  return index;
}

function lastSetSecretIndex(stdout: string): number {
  return stdout.split('\n').findLastIndex((line) => line.startsWith('##vso[task.setsecret]'));
}

describe('AWSShellScript', () => {
  test('inline with useTokenFile: the AWS CLI works with a refreshing token file, ##vso lines set variables, secrets set first', async (context) => {
    if (!hasAwsCli()) return context.skip('the AWS CLI is not installed');
    const script = [
      'set -e',
      'arn=$(aws sts get-caller-identity --endpoint-url "$AWS_ENDPOINT_URL" --query Arn --output text)',
      'echo "caller=$arn"',
      'echo "##vso[task.setvariable variable=callerArn;isOutput=true]$arn"',
      'echo "region=$AWS_REGION/$AWS_DEFAULT_REGION keys=${AWS_ACCESS_KEY_ID:-none} role=$AWS_ROLE_ARN"',
      'test -s "$AWS_WEB_IDENTITY_TOKEN_FILE" && echo "token file present"',
      'echo "cwd=$(pwd)"',
      'echo "script=$0"',
    ].join('\n');
    const cwd = await folder();
    const temp = await folder();
    const result = await run(
      'AWSShellScript',
      { scriptType: 'inline', inlineScript: script, useTokenFile: 'true' },
      { cwd, env: { AGENT_TEMPDIRECTORY: temp } },
    );
    assert.equal(result.result, 'Succeeded', result.stdout);
    assert.match(result.stdout, /caller=arn:aws:sts::210987654321:assumed-role\/deploy\//);
    const variable = result.variables.get('callerArn');
    assert.equal(variable?.output, true);
    assert.match(variable?.value ?? '', /^arn:aws:sts::210987654321:assumed-role\/deploy\//);
    assert.match(result.stdout, new RegExp(`region=us-east-1/us-east-1 keys=none role=${t.ids.roleArn}`));
    assert.match(result.stdout, /token file present/);
    assert.match(
      result.stdout,
      new RegExp(`cwd=${cwd}$`, 'm'),
      'System.DefaultWorkingDirectory, as the toolkit',
    );
    // The web identity token (and the keys of the first exchange) were announced before the script printed.
    assert.ok(result.secretsSet.length >= 1);
    assert.ok(lastSetSecretIndex(result.stdout) < indexOfLine(result.stdout, 'caller='));
    // The inline script went to Agent.TempDirectory and was removed afterwards.
    const scriptPath = /^script=(.*)$/m.exec(result.stdout)?.[1] ?? '';
    assert.ok(scriptPath.startsWith(temp), scriptPath);
    assert.equal(existsSync(scriptPath), false);
  });

  test('by default, as with the AWS Toolkit, the script gets session keys, registered as secrets first and masked', async () => {
    const script =
      'echo "secret=$AWS_SECRET_ACCESS_KEY"; echo "token=$AWS_SESSION_TOKEN"; echo "id=$AWS_ACCESS_KEY_ID"; echo "file=${AWS_WEB_IDENTITY_TOKEN_FILE:-none}"';
    const result = await run('AWSShellScript', { scriptType: 'inline', inlineScript: script });
    assert.equal(result.result, 'Succeeded', result.stdout);
    // The values are sandbox-minted (so the leak check in run() covers them); the log shows ***.
    assert.match(result.stdout, /^secret=\*\*\*$/m);
    assert.match(result.stdout, /^token=\*\*\*$/m);
    assert.match(result.stdout, /^id=\*\*\*$/m);
    assert.match(result.stdout, /^file=none$/m);
    assert.ok(result.secretsSet.length >= 3, 'access key id, secret key and session token were set secret');
    assert.ok(lastSetSecretIndex(result.stdout) < indexOfLine(result.stdout, 'secret='));
  });

  test('a script file with arguments (quotes kept, nothing evaluated) in a chosen working directory', async () => {
    const cwd = await folder({
      'scripts/show.sh': 'echo "count=$#"\nfor a in "$@"; do echo "arg=[$a]"; done\necho "pwd=$(pwd)"\n',
    });
    const workdir = join(cwd, 'out', 'work');
    const result = await run(
      'AWSShellScript',
      {
        scriptType: 'filePath',
        filePath: join(cwd, 'scripts/show.sh'),
        arguments: `one "two words" 'three $HOME'`,
        disableAutoCwd: 'true',
        workingDirectory: workdir,
        scriptInterpreter: 'sh',
      },
      { cwd },
    );
    assert.equal(result.result, 'Succeeded', result.stdout);
    assert.match(result.stdout, /^count=3$/m);
    assert.match(result.stdout, /^arg=\[one\]$/m);
    assert.match(result.stdout, /^arg=\[two words\]$/m);
    assert.match(result.stdout, /^arg=\[three \$HOME\]$/m);
    assert.match(
      result.stdout,
      new RegExp(`^pwd=${workdir}$`, 'm'),
      'the working directory was created and used',
    );
  });

  test('an unknown scriptType is refused (the toolkit silently ran the inline script)', async () => {
    const result = await run('AWSShellScript', { scriptType: 'file', inlineScript: 'echo should-not-run' });
    assert.equal(result.result, 'Failed');
    assert.match(
      failureText(result),
      /AWSShellScript: the input "scriptType" is "file", which is not one of: filePath, inline\./,
    );
    assert.doesNotMatch(result.stdout, /should-not-run/);
    assert.deepEqual(result.secretsSet, [], 'no credentials were fetched for an invalid step');
  });

  test('a missing script file and a missing pwsh are clear errors naming what to change', async () => {
    const cwd = await folder();
    const missing = await run(
      'AWSShellScript',
      { scriptType: 'filePath', filePath: join(cwd, 'nope.sh') },
      { cwd },
    );
    assert.equal(missing.result, 'Failed');
    assert.match(failureText(missing), /AWSShellScript: the input "filePath": .*nope\.sh does not exist/);
    const pwsh = await run(
      'AWSShellScript',
      { scriptType: 'inline', inlineScript: 'Write-Host hi', scriptInterpreter: 'pwsh' },
      { env: { PATH: cwd } },
    );
    assert.equal(pwsh.result, 'Failed');
    assert.match(failureText(pwsh), /script interpreter pwsh is not installed/);
    assert.match(failureText(pwsh), /Install PowerShell 7/);
  });

  test('a non-zero exit fails the task with the code and the end of stderr', async () => {
    const result = await run('AWSShellScript', {
      scriptType: 'inline',
      inlineScript: 'echo "it broke" >&2\nexit 7',
    });
    assert.equal(result.result, 'Failed');
    assert.match(result.completions[0]!.data, /^The script exited with code 7\./);
    assert.match(failureText(result), /it broke/);
  });

  test('failOnStandardError fails a script that exits 0 but writes to stderr', async () => {
    const inputs = { scriptType: 'inline', inlineScript: 'echo "just a warning" >&2' };
    const lenient = await run('AWSShellScript', inputs);
    assert.equal(lenient.result, 'Succeeded');
    const strict = await run('AWSShellScript', { ...inputs, failOnStandardError: 'true' });
    assert.equal(strict.result, 'Failed');
    assert.match(failureText(strict), /wrote 1 line\(s\) to standard error, and failOnStandardError is true/);
  });

  test('cancelling the job (SIGINT) stops the script and what it started, with one task.complete', async () => {
    const started = Date.now();
    const result = await run(
      'AWSShellScript',
      // Computed texts: task-lib echoes the inline script itself into a debug line.
      {
        scriptType: 'inline',
        inlineScript: 'echo "script $((1 + 1)) started"\nsleep 60\necho "reached $((1 + 2))"',
      },
      { interruptWhen: { text: 'script 2 started', signal: 'SIGINT' } },
    );
    assert.ok(Date.now() - started < 30_000, 'the 60 s sleep did not hold the task');
    assert.equal(result.result, 'Failed');
    assert.match(failureText(result), /The script was cancelled; it was sent SIGINT/);
    assert.match(result.stdout, /^script 2 started$/m);
    assert.doesNotMatch(result.stdout, /^reached 3$/m);
  });

  test('without a connection or AWS.* variables the task says what to set', async () => {
    const result = checked(
      await runTaskSource('AWSShellScript', { inputs: { scriptType: 'inline', inlineScript: 'echo hi' } }),
    );
    assert.equal(result.result, 'Failed');
    assert.match(
      failureText(result),
      /no AWS credentials: the "awsCredentials" input names no service connection/,
    );
  });
});

describe('AWSCLI', () => {
  test('sts get-caller-identity over Azure DevOps OIDC', async (context) => {
    if (!hasAwsCli()) return context.skip('the AWS CLI is not installed');
    const connection: Endpoint = {
      id: t.ids.serviceConnectionId,
      scheme: 'None',
      parameters: { authMode: 'oidcServiceConnection', roleArn: t.ids.adoRoleArn },
    };
    const result = await run(
      'AWSCLI',
      {
        awsCommand: 'sts',
        awsSubCommand: 'get-caller-identity',
        awsArguments: `--endpoint-url ${t.url} --query "Arn" --output text`,
      },
      {
        endpoints: [connection],
        secrets: { 'System.AccessToken': t.ids.systemAccessToken },
        agentMasked: [t.ids.systemAccessToken],
        variables: {
          'System.OidcRequestUri': `${t.url}/contoso/${t.ids.projectId}/_apis/distributedtask/hubs/build/plans/${randomUUID()}/jobs/${randomUUID()}/oidctoken`,
        },
      },
    );
    assert.equal(result.result, 'Succeeded', result.stdout);
    assert.match(result.stdout, /^arn:aws:sts::210987654321:assumed-role\/deploy-ado\/\S+$/m);
    assert.equal(result.completions[0]!.data, 'aws sts get-caller-identity exited with code 0.');
  });

  test('a failing command fails the task with its exit code', async (context) => {
    if (!hasAwsCli()) return context.skip('the AWS CLI is not installed');
    const result = await run('AWSCLI', {
      awsCommand: 's3',
      awsSubCommand: 'ls',
      awsArguments: `s3://keyless-no-such-bucket-${randomBytes(3).toString('hex')} --endpoint-url ${t.url}`,
    });
    assert.equal(result.result, 'Failed');
    assert.match(result.completions[0]!.data, /^aws s3 ls exited with code [1-9]\d*\./);
    assert.match(failureText(result), /NoSuchBucket/);
  });

  test('awsCommand missing, an unterminated quote and a missing AWS CLI are clear errors', async () => {
    const missing = await run('AWSCLI', { awsSubCommand: 'ls' });
    assert.equal(missing.result, 'Failed');
    assert.match(failureText(missing), /AWSCLI: the input "awsCommand" is required but is empty/);
    const quote = await run('AWSCLI', {
      awsCommand: 's3',
      awsSubCommand: 'ls',
      awsArguments: `--prefix 'open`,
    });
    assert.equal(quote.result, 'Failed');
    assert.match(failureText(quote), /AWSCLI: the input "awsArguments" has an unterminated ' quote/);
    const empty = await folder();
    const noCli = await run('AWSCLI', { awsCommand: 's3', awsSubCommand: 'ls' }, { env: { PATH: empty } });
    assert.equal(noCli.result, 'Failed');
    assert.match(failureText(noCli), /the AWS CLI \(aws\) is not installed on this agent/);
    assert.match(failureText(noCli), /install the AWS CLI on the agent/i);
  });
});

describe('S3Upload', () => {
  const s3 = () =>
    new S3Client({
      region: 'us-east-1',
      endpoint: t.url,
      forcePathStyle: true,
      credentials: t.root,
    });

  async function siteFolder(): Promise<string> {
    const files: Record<string, string> = {
      'index.html': '<html>home</html>',
      'css/site.css': 'body{}',
      'js/app.js': 'console.log(1)',
      'js/app.js.map': '{}',
    };
    for (let index = 0; index < 46; index++)
      files[`docs/page-${String(index).padStart(2, '0')}.html`] = `<p>${index}</p>`;
    return folder(files);
  }

  test('a site of 50 files: globs, target folder, content types, cache rule, SSE, new bucket; outputs and summary', async () => {
    const source = await siteFolder();
    const bucket = `keyless-task-${randomBytes(4).toString('hex')}`;
    const result = await run('S3Upload', {
      bucketName: bucket,
      sourceFolder: source,
      globExpressions: '**\n!**/*.map',
      targetFolder: 'site',
      createBucket: 'true',
      cacheControl: '**/*.html=no-cache\n**/*=max-age=31536000, immutable',
      keyManagement: 'awsManaged',
      encryptionAlgorithm: 'AES256',
      concurrency: '8',
    });
    assert.equal(result.result, 'Succeeded', result.stdout);
    assert.match(
      result.completions[0]!.data,
      new RegExp(`^Uploaded 49 file\\(s\\), .* to s3://${bucket}\\.$`),
    );
    assert.equal(result.variables.get('uploadedCount')?.value, '49');
    assert.equal(result.variables.get('uploadedCount')?.output, true);
    const keys = JSON.parse(result.variables.get('uploadedKeys')?.value ?? '[]') as string[];
    assert.equal(keys.length, 49);
    assert.ok(keys.includes('site/index.html') && !keys.includes('site/js/app.js.map'));
    const listed = await s3().send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.deepEqual((listed.Contents ?? []).map((object) => object.Key).sort(), [...keys].sort());
    const expect: Record<string, [string, string]> = {
      'site/index.html': ['text/html', 'no-cache'],
      'site/css/site.css': ['text/css', 'max-age=31536000, immutable'],
      'site/js/app.js': ['application/javascript', 'max-age=31536000, immutable'],
    };
    for (const [key, [contentType, cacheControl]] of Object.entries(expect)) {
      const head = await s3().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal(head.ContentType, contentType, key);
      assert.equal(head.CacheControl, cacheControl, key);
      assert.equal(head.ServerSideEncryption, 'AES256', key);
    }
    assert.equal(result.summaries.length, 1);
    const summary = readFileSync(result.summaries[0]!, 'utf8');
    assert.match(
      summary,
      /49 file\(s\), .* uploaded to `s3:\/\/keyless-task-\w+` \(us-east-1\) .*; the bucket was created\./,
    );
    assert.match(summary, /\| Key \| Size \| Content type \|/);
    assert.match(summary, /\| `site\/css\/site\.css` \| 6 B \| text\/css \|/);
    assert.ok(result.commands.some((command) => command.event === 'setprogress'));
  });

  test('flattenFolders and an SSE-C customer key, which is registered as a secret before anything else', async () => {
    const source = await folder({ 'a/one.txt': 'one', 'b/c/two.txt': 'two' });
    const bucket = `keyless-task-${randomBytes(4).toString('hex')}`;
    const customerKey = randomBytes(32).toString('hex');
    ownSecrets.add(customerKey);
    const result = await run(
      'S3Upload',
      {
        bucketName: bucket,
        sourceFolder: source,
        createBucket: 'true',
        flattenFolders: 'true',
        keyManagement: 'customerManaged',
        // As the help says: customerKey: $(sseKey), a secret variable, which the agent masks in every line.
        customerKey,
      },
      { agentMasked: [customerKey] },
    );
    assert.equal(result.result, 'Succeeded', result.stdout);
    assert.deepEqual(JSON.parse(result.variables.get('uploadedKeys')!.value), ['one.txt', 'two.txt']);
    assert.equal(result.secretsSet[0], customerKey, 'the customer key is the first secret announced');
    const head = await s3().send(
      new HeadObjectCommand({
        Bucket: bucket,
        Key: 'two.txt',
        SSECustomerAlgorithm: 'AES256',
        SSECustomerKey: Buffer.from(customerKey, 'hex').toString('base64'),
      }),
    );
    assert.equal(head.SSECustomerAlgorithm, 'AES256');
  });

  test('wrong inputs fail before any upload, naming the input', async () => {
    const source = await folder({ 'a.txt': 'a' });
    const bucket = `keyless-task-${randomBytes(4).toString('hex')}`;
    const acl = await run('S3Upload', { bucketName: bucket, sourceFolder: source, filesAcl: 'publicread' });
    assert.match(
      failureText(acl),
      /S3Upload: the input "filesAcl" is "publicread", which is not one of: private, public-read/,
    );
    const noKey = await run('S3Upload', {
      bucketName: bucket,
      sourceFolder: source,
      keyManagement: 'customerManaged',
    });
    assert.match(
      failureText(noKey),
      /the input "customerKey" is required when keyManagement is customerManaged/,
    );
    const badKey = 'not-a-hex-key-but-a-secret-nonetheless';
    ownSecrets.add(badKey);
    const malformed = await run(
      'S3Upload',
      {
        bucketName: bucket,
        sourceFolder: source,
        keyManagement: 'customerManaged',
        customerKey: badKey,
      },
      { agentMasked: [badKey] },
    );
    assert.match(failureText(malformed), /customer key must be 64 hexadecimal digits/);
    const cache = await run('S3Upload', {
      bucketName: bucket,
      sourceFolder: source,
      cacheControl: 'no-cache',
    });
    assert.match(failureText(cache), /cache control line "no-cache" is not <glob>=<Cache-Control value>/);
    // Refused before credentials were fetched: nothing but the customer key was ever announced as a secret.
    for (const early of [acl, noKey, cache]) assert.deepEqual(early.secretsSet, []);
    assert.deepEqual(malformed.secretsSet, [badKey]);
    const missingBucket = await run('S3Upload', { bucketName: bucket, sourceFolder: source });
    assert.match(failureText(missingBucket), new RegExp(`The bucket ${bucket} does not exist`));
    for (const failed of [acl, noKey, malformed, cache, missingBucket]) assert.equal(failed.result, 'Failed');
  });

  test("a symlink loop in the source folder is a clear error (the toolkit's #178)", async () => {
    const source = await folder({ 'docs/readme.txt': 'r' });
    await symlink('..', join(source, 'docs', 'loop'));
    const result = await run('S3Upload', {
      bucketName: `keyless-task-${randomBytes(4).toString('hex')}`,
      sourceFolder: source,
      createBucket: 'true',
    });
    assert.equal(result.result, 'Failed');
    assert.match(
      failureText(result),
      /The symlink docs\/loop \(→ \.\.\) points at a folder that contains it/,
    );
    assert.match(failureText(result), /"!docs\/loop"/);
  });

  test('logRequest is accepted for compatibility and says what it does', async () => {
    const source = await folder({ 'a.txt': 'a' });
    const result = await run('S3Upload', {
      bucketName: `keyless-task-${randomBytes(4).toString('hex')}`,
      sourceFolder: source,
      createBucket: 'true',
      logRequest: 'true',
    });
    assert.equal(result.result, 'Succeeded');
    assert.ok(
      result.issues.some(
        (issue) =>
          issue.type === 'warning' &&
          /logRequest: AWS requests and responses are not logged/.test(issue.message),
      ),
    );
  });
});
