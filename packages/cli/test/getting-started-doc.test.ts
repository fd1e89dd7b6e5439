// docs/getting-started.md's commands are tested, not hand-copied. Every ```sh block marked
// `<!-- tested: aws-cli -->` runs here, command by command, with the AWS CLI against a sandbox. The JSON files
// those commands read come from the blocks marked `<!-- file: NAME -->`, and the placeholders come from a table
// of values this test controls. The test then proves the result works: for each role the page creates, a token
// with the documented issuer, audience and subject is accepted and one with another subject is refused. The
// page's deployment then runs with that role, and its clean-up leaves nothing behind.
//
// Markers (an HTML comment line before a fenced block, blank lines allowed in between):
//   <!-- tested: aws-cli -->        ```sh: only `aws …` commands (`\` continuations, quotes, placeholders)
//   <!-- untested: needs Azure -->  ```sh: `az` commands; the page says plainly that they are not run
//   <!-- file: NAME -->             ```json: written to the commands' working folder as NAME
//   <!-- same-as: PATH -->          ```yaml: must equal the repository file PATH
// Tested blocks run in three phases, by the heading they sit under: "Validate" blocks run after the deployment,
// "Clean up" blocks run last, and every other block runs first, in page order.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import {
  cleanEnv,
  hasAwsCli,
  leakedSecrets,
  runCli,
  runProcess,
  startTestSandbox,
  type CliResult,
  type TestSandbox,
} from './support';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const docPath = 'docs/getting-started.md';
const docText = readFileSync(join(repoRoot, docPath), 'utf8');

// --- Reading the page -----------------------------------------------------------------------------------------

type Marker =
  | { kind: 'tested' }
  | { kind: 'untested' }
  | { kind: 'file'; name: string }
  | { kind: 'same-as'; path: string };

interface Block {
  marker: Marker | undefined;
  lang: string;
  body: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The nearest heading above the block. */
  section: string;
}

function parseMarker(text: string, line: number): Marker {
  if (text === 'tested: aws-cli') return { kind: 'tested' };
  if (text === 'untested: needs Azure') return { kind: 'untested' };
  const file = /^file: ([\w.-]+)$/.exec(text);
  if (file) return { kind: 'file', name: file[1]! };
  const same = /^same-as: ([\w./-]+)$/.exec(text);
  if (same) return { kind: 'same-as', path: same[1]! };
  throw new Error(`${docPath}:${line}: unknown marker <!-- ${text} -->`);
}

function parseDoc(text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let section = '';
  let pending: { marker: Marker; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = /^```(\w*)\s*$/.exec(line);
    if (fence) {
      const start = i + 1;
      const body: string[] = [];
      for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]!);
      if (i >= lines.length) throw new Error(`${docPath}:${start}: the code block is never closed`);
      blocks.push({ marker: pending?.marker, lang: fence[1]!, body: body.join('\n'), line: start, section });
      pending = undefined;
      continue;
    }
    const comment = /^<!--\s*(.*?)\s*-->\s*$/.exec(line);
    if (comment) {
      pending = { marker: parseMarker(comment[1]!, i + 1), line: i + 1 };
      continue;
    }
    if (pending && line.trim() !== '')
      throw new Error(`${docPath}:${pending.line}: a marker must come right before a code block`);
    const heading = /^#{1,6}\s+(.+)$/.exec(line);
    if (heading) section = heading[1]!.trim();
  }
  return blocks;
}

const blocks = parseDoc(docText);
const tested = blocks.filter((block) => block.marker?.kind === 'tested');
const fileBlocks = blocks.filter(
  (block): block is Block & { marker: { kind: 'file'; name: string } } => block.marker?.kind === 'file',
);

type Phase = 'setup' | 'validate' | 'teardown';
function phaseOf(block: Block): Phase {
  if (/^clean up\b/i.test(block.section)) return 'teardown';
  if (/^validate\b/i.test(block.section)) return 'validate';
  return 'setup';
}

// --- Placeholders ---------------------------------------------------------------------------------------------

const PLACEHOLDER = /<([a-z][a-z0-9]*(?:-[a-z0-9]+)*)>/g;

/** Every placeholder the test can fill in. Values are set once the sandbox runs (deployment-id after step 9). */
const KNOWN_PLACEHOLDERS = [
  'account-id',
  'tenant-id',
  'app-id-uri',
  'identity-object-id',
  'artifact-bucket',
  'organization',
  'organization-id',
  'project',
  'service-connection',
  'github-repo',
  'gitlab-host',
  'gitlab-project-path',
  'deployment-id',
] as const;
type PlaceholderName = (typeof KNOWN_PLACEHOLDERS)[number];
const values = new Map<PlaceholderName, string>();

function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((match) => match[1]!);
}

function fill(text: string, where: string): string {
  const unknown = placeholdersIn(text).filter(
    (name) => !(KNOWN_PLACEHOLDERS as readonly string[]).includes(name),
  );
  if (unknown.length > 0)
    throw new Error(
      `${where}: placeholder(s) the test does not know: ${unknown.map((n) => `<${n}>`).join(', ')}`,
    );
  return text.replace(PLACEHOLDER, (_, name: PlaceholderName) => {
    const value = values.get(name);
    if (value === undefined)
      throw new Error(`${where}: <${name}> has no value yet at this point of the test`);
    return value;
  });
}

/** The placeholders the page's table documents (first column of rows that start with a `<…>` code span). */
function documentedPlaceholders(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const row = /^\|\s*(`<[^|]+)\|/.exec(line);
    if (row) for (const name of placeholdersIn(row[1]!)) names.add(name);
  }
  return names;
}

// --- Commands -------------------------------------------------------------------------------------------------

/** The logical command lines of a block: `\` continuations joined, blank lines and `#` comments skipped. */
function commandLines(block: Block): string[] {
  const commands: string[] = [];
  let current = '';
  for (const raw of block.body.split('\n')) {
    if (current === '' && (raw.trim() === '' || raw.trim().startsWith('#'))) continue;
    if (raw.endsWith('\\')) {
      current += `${raw.slice(0, -1)} `;
      continue;
    }
    commands.push((current + raw).trim());
    current = '';
  }
  if (current !== '') throw new Error(`${docPath}:${block.line}: the last command ends with a continuation`);
  return commands;
}

/**
 * Splits a command line into words the way a POSIX shell would for the plain commands the page may contain:
 * quotes and backslashes, nothing else. Anything that would make the shell do more (expansions, pipes,
 * redirections, lists, substitutions) is refused, so the words run here are the words a reader runs.
 */
function shellWords(line: string, where: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === ' ' || c === '\t') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (c === '#' && !inWord) {
      break;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`${where}: unterminated ' quote`);
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      inWord = true;
      for (i++; i < line.length && line[i] !== '"'; i++) {
        const d = line[i]!;
        if (d === '$' || d === '`')
          throw new Error(`${where}: ${d} inside "…" would be expanded by the shell`);
        if (d === '\\' && /["\\$`]/.test(line[i + 1] ?? '')) word += line[++i];
        else word += d;
      }
      if (i >= line.length) throw new Error(`${where}: unterminated " quote`);
    } else if (c === '\\') {
      word += line[++i] ?? '';
      inWord = true;
    } else if ('|&;<>()$`*?[]{}~'.includes(c)) {
      throw new Error(`${where}: unquoted ${c} — the page's AWS CLI blocks hold plain commands only`);
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** What the page's blocks do that the sandbox has not implemented yet: `aws <service> <command>` → API name. */
const SANDBOX_GAPS: Record<string, string> = {
  'iam put-role-policy': 'PutRolePolicy',
  'iam delete-role-policy': 'DeleteRolePolicy',
};

/** AWS CLI versions that read AWS_ENDPOINT_URL (v1 got it in mid-2023; older ones get --endpoint-url). */
function honoursEndpointEnv(versionText: string): boolean {
  const match = /aws-cli\/(\d+)\.(\d+)\./.exec(versionText);
  if (!match) return false;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return major === 1 ? minor >= 30 : major === 2 ? minor >= 14 : major > 2;
}

// --- The page's shape (no sandbox needed) ---------------------------------------------------------------------

describe(`${docPath}: every command block is marked, and what it refers to exists`, () => {
  test('markers sit on code blocks of the right language', () => {
    const expected = { tested: 'sh', untested: 'sh', file: 'json', 'same-as': 'yaml' } as const;
    for (const block of blocks) {
      if (!block.marker) continue;
      assert.equal(
        block.lang,
        expected[block.marker.kind],
        `${docPath}:${block.line}: ${block.marker.kind} block`,
      );
    }
    assert.ok(tested.length >= 8, `found only ${tested.length} tested blocks`);
  });

  test('every AWS CLI block is tested and every az block is marked untested', () => {
    for (const block of blocks.filter((b) => b.lang === 'sh' || b.lang === 'bash' || b.lang === '')) {
      const lines = block.body.split('\n').map((line) => line.trim());
      const where = `${docPath}:${block.line}`;
      if (lines.some((line) => /^aws\s/.test(line)))
        assert.equal(
          block.marker?.kind,
          'tested',
          `${where}: an AWS CLI block must be marked <!-- tested: aws-cli -->`,
        );
      if (lines.some((line) => /(^|\$\()az\s/.test(line)))
        assert.equal(
          block.marker?.kind,
          'untested',
          `${where}: an az block must be marked <!-- untested: needs Azure -->`,
        );
    }
    for (const block of tested) {
      for (const command of commandLines(block)) {
        const words = shellWords(command.replace(PLACEHOLDER, 'x'), `${docPath}:${block.line}`);
        assert.equal(words[0], 'aws', `${docPath}:${block.line}: a tested block runs aws commands only`);
      }
    }
    assert.match(
      docText,
      /not run by the test suite/,
      'the page says plainly that the az blocks are not run',
    );
  });

  test('the placeholders of tested blocks and files are documented on the page and known to this test', () => {
    const documented = documentedPlaceholders(docText);
    for (const block of [...tested, ...fileBlocks]) {
      for (const name of placeholdersIn(block.body)) {
        assert.ok(
          documented.has(name),
          `${docPath}:${block.line}: <${name}> is not in the page's placeholder table`,
        );
        assert.ok(
          (KNOWN_PLACEHOLDERS as readonly string[]).includes(name),
          `${docPath}:${block.line}: <${name}> is unknown to this test`,
        );
      }
    }
  });

  test('every file:// a command reads is a file block of the page, and every file block is read', () => {
    const read = new Set(
      tested.flatMap((block) => [...block.body.matchAll(/file:\/\/([\w.-]+)/g)].map((m) => m[1]!)),
    );
    const given = new Set(fileBlocks.map((block) => block.marker.name));
    assert.deepEqual([...read].sort(), [...given].sort());
  });

  test("the permissions policy is the one examples/sample-app/sandbox.yml gives the sample's roles", () => {
    const sandbox = parseYaml(readFileSync(join(repoRoot, 'examples/sample-app/sandbox.yml'), 'utf8')) as {
      account: { id: string };
      s3: { buckets: Array<{ name: string }> };
      iam: { roles: Array<{ name: string; policies?: Array<{ document: unknown }> }> };
    };
    const bucket = sandbox.s3.buckets[0]!.name;
    const generalise = (value: unknown): unknown =>
      typeof value === 'string'
        ? value.replaceAll(bucket, '<artifact-bucket>').replaceAll(sandbox.account.id, '<account-id>')
        : Array.isArray(value)
          ? value.map(generalise)
          : value !== null && typeof value === 'object'
            ? Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, generalise(inner)]))
            : value;
    const block = fileBlocks.find((b) => b.marker.name === 'deploy-permissions.json');
    assert.ok(block, 'the page has a deploy-permissions.json block');
    const onPage = JSON.parse(block.body) as unknown;
    const roles = sandbox.iam.roles.filter((role) => role.policies?.length);
    assert.ok(roles.length > 0);
    for (const role of roles) assert.deepEqual(onPage, generalise(role.policies![0]!.document), role.name);
  });

  test('every same-as block equals its file', () => {
    const same = blocks.filter((b) => b.marker?.kind === 'same-as');
    assert.ok(same.length > 0);
    for (const block of same) {
      const path = (block.marker as { path: string }).path;
      assert.equal(
        `${block.body}\n`,
        readFileSync(join(repoRoot, path), 'utf8'),
        `${docPath}:${block.line} vs ${path}`,
      );
    }
  });
});

// --- The page's commands, run against a sandbox ---------------------------------------------------------------

describe(
  `${docPath}: the AWS CLI blocks run as written, and the roles they make admit exactly the documented tokens`,
  { skip: !hasAwsCli() && 'the AWS CLI is not installed', timeout: 300_000 },
  () => {
    let t: TestSandbox;
    let work: string;
    let account: string;
    let awsEnv: NodeJS.ProcessEnv;
    let endpointArgs: string[] = [];
    const outputs: string[] = [];
    const ran: Array<{ command: string; result: CliResult }> = [];

    const roleArn = (name: string) => `arn:aws:iam::${account}:role/${name}`;

    function aws(args: string[]): Promise<CliResult> {
      return runProcess('aws', [...args, ...endpointArgs], { env: awsEnv, cwd: work, timeoutMs: 180_000 });
    }

    /** Runs the phase's blocks, command by command; returns the sandbox gaps it met (reported, not failed). */
    async function runBlocks(phase: Phase): Promise<string[]> {
      const gapsHit: string[] = [];
      const phaseBlocks = tested.filter((block) => phaseOf(block) === phase);
      assert.ok(phaseBlocks.length > 0, `the page has ${phase} blocks`);
      for (const block of phaseBlocks) {
        for (const line of commandLines(block)) {
          const where = `${docPath}:${block.line}`;
          const words = shellWords(fill(line, where), where);
          const result = await aws(words.slice(1));
          outputs.push(result.stdout, result.stderr);
          ran.push({ command: words.join(' '), result });
          const gap = SANDBOX_GAPS[`${words[1]} ${words[2]}`];
          if (result.code !== 0 && gap && result.stderr.includes(`Could not find operation ${gap}`)) {
            // The CLI parsed the command, read its files and sent the request; only the sandbox cannot answer.
            gapsHit.push(`${where}: ${words.slice(0, 3).join(' ')} (the sandbox has no ${gap})`);
            continue;
          }
          assert.equal(result.code, 0, `${where}: ${words.join(' ')}\n${result.stderr}`);
        }
      }
      return gapsHit;
    }

    function credentials(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
      return runCli(['credentials', ...args, '--endpoint-url', t.url, '--region', 'us-east-1'], {
        env: cleanEnv(env),
      }).then((result) => {
        outputs.push(result.stdout, result.stderr);
        return result;
      });
    }

    function managedIdentity(role: string): string[] {
      return [
        '--provider',
        'azure-managed-identity',
        '--audience',
        t.ids.audience,
        '--client-id',
        t.ids.clientId,
        '--azure-imds-endpoint',
        t.url,
        '--role-arn',
        roleArn(role),
      ];
    }

    async function tokenFile(issuer: string, claims: Record<string, unknown>): Promise<string> {
      const path = join(work, `token-${randomBytes(4).toString('hex')}.jwt`);
      await writeFile(path, await t.sandbox.control.mintToken(issuer, claims), { mode: 0o600 });
      return path;
    }

    function assertAccepted(result: CliResult, role: string): void {
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stdout,
        new RegExp(`Assumed identity arn:aws:sts::${account}:assumed-role/${role}/`),
      );
    }

    function assertRefused(result: CliResult, sub: string): void {
      assert.equal(result.code, 1, `expected a refusal, got:\n${result.stdout}${result.stderr}`);
      assert.match(result.stderr, /AccessDenied|not authorized/i);
      assert.ok(result.stderr.includes(sub), `the refusal names the token's sub ${sub}:\n${result.stderr}`);
    }

    /** The same trust checked twice with a token file: the documented sub passes, any other is refused. */
    async function onlyDocumentedSub(
      issuer: string,
      role: string,
      claims: Record<string, unknown>,
      sub: string,
    ) {
      const other = `${sub}-other`;
      const args = (file: string) => [
        '--provider',
        'token-file',
        '--token-file',
        file,
        '--role-arn',
        roleArn(role),
      ];
      assertAccepted(await credentials(args(await tokenFile(issuer, { ...claims, sub }))), role);
      assertRefused(await credentials(args(await tokenFile(issuer, { ...claims, sub: other }))), other);
    }

    before(async () => {
      t = await startTestSandbox({ timeScale: 60, providerDelaySeconds: 0 });
      work = await mkdtemp(join(tmpdir(), 'keyless-getting-started-'));
      account = t.ids.roleArn.split(':')[4]!;
      const version = await runProcess('aws', ['--version'], { env: cleanEnv() });
      const viaEnv = honoursEndpointEnv(version.stdout + version.stderr);
      endpointArgs = viaEnv ? [] : ['--endpoint-url', t.url];
      awsEnv = cleanEnv({
        AWS_ACCESS_KEY_ID: t.root.accessKeyId,
        AWS_SECRET_ACCESS_KEY: t.root.secretAccessKey,
        AWS_DEFAULT_REGION: 'us-east-1',
        ...(viaEnv ? { AWS_ENDPOINT_URL: t.url } : {}),
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_PAGER: '',
        // Loopback only: a request the endpoint setting missed fails at a closed proxy port instead of leaving.
        HTTP_PROXY: 'http://127.0.0.1:9',
        HTTPS_PROXY: 'http://127.0.0.1:9',
        NO_PROXY: '127.0.0.1,localhost',
      });

      // startTestSandbox seeds an OIDC provider per issuer; the page starts from an account that has none.
      const listed = await aws(['iam', 'list-open-id-connect-providers', '--output', 'json']);
      assert.equal(listed.code, 0, listed.stderr);
      const arns = (
        JSON.parse(listed.stdout) as { OpenIDConnectProviderList: Array<{ Arn: string }> }
      ).OpenIDConnectProviderList.map((provider) => provider.Arn);
      const deleted = await Promise.all(
        arns.map((arn) =>
          aws(['iam', 'delete-open-id-connect-provider', '--open-id-connect-provider-arn', arn]),
        ),
      );
      for (const result of deleted) assert.equal(result.code, 0, result.stderr);
      const organizationId = /vstoken\.dev\.azure\.com\/([0-9a-f-]{36})$/.exec(
        arns.find((a) => a.includes('vstoken'))!,
      )![1]!;

      // The names below are the ones startTestSandbox gives its Azure DevOps, GitHub and GitLab identities.
      values.set('account-id', account);
      values.set('tenant-id', t.ids.tenantId);
      values.set('app-id-uri', t.ids.audience);
      values.set('identity-object-id', t.ids.objectId);
      values.set('artifact-bucket', `keyless-doc-artifacts-${randomBytes(4).toString('hex')}`);
      values.set('organization', 'contoso');
      values.set('organization-id', organizationId);
      values.set('project', 'web');
      values.set('service-connection', 'aws-prod');
      values.set('github-repo', 'contoso/web');
      values.set('gitlab-host', 'gitlab.example.com');
      values.set('gitlab-project-path', 'contoso/web');

      for (const block of fileBlocks) {
        const text = fill(block.body, `${docPath}:${block.line}`);
        JSON.parse(text);
        await writeFile(join(work, block.marker.name), text);
      }
    });

    after(async () => {
      await t?.sandbox.close();
      if (work) await rm(work, { recursive: true, force: true });
    });

    test('steps 4–6, the bucket and the GitHub and GitLab sections run as written', async (context) => {
      const gaps = await runBlocks('setup');
      const roles = [
        'azure-pipelines-deploy',
        'azure-devops-deploy',
        'github-actions-deploy',
        'gitlab-ci-deploy',
      ];
      const [bucket, ...got] = await Promise.all([
        aws(['s3api', 'head-bucket', '--bucket', values.get('artifact-bucket')!]),
        ...roles.map((role) =>
          aws(['iam', 'get-role', '--role-name', role, '--query', 'Role.Arn', '--output', 'text']),
        ),
      ]);
      assert.equal(bucket!.code, 0, bucket!.stderr);
      roles.forEach((role, i) =>
        assert.equal(got[i]!.stdout.trim(), roleArn(role), `the page creates the role ${role}`),
      );
      for (const gap of gaps) context.diagnostic(`not checked by the sandbox: ${gap}`);
    });

    test("the VM identity's role: its IMDS token is accepted, a token with another sub is refused", async () => {
      assertAccepted(await credentials(managedIdentity('azure-pipelines-deploy')), 'azure-pipelines-deploy');
      const claims = { aud: t.ids.audience, tid: t.ids.tenantId };
      await onlyDocumentedSub('entra', 'azure-pipelines-deploy', claims, t.ids.objectId);
      // Another identity of the same tenant asking for the same audience: what pinning sub keeps out.
      const someoneElse = randomUUID();
      const file = await tokenFile('entra', { ...claims, sub: someoneElse, oid: someoneElse });
      const args = [
        '--provider',
        'token-file',
        '--token-file',
        file,
        '--role-arn',
        roleArn('azure-pipelines-deploy'),
      ];
      assertRefused(await credentials(args), someoneElse);
    });

    test("the service connection's role: its Azure DevOps token is accepted, another connection's is refused", async () => {
      const env = {
        SYSTEM_OIDCREQUESTURI: `${t.url}/contoso/${t.ids.projectId}/_apis/distributedtask/hubs/build/plans/${randomUUID()}/jobs/${randomUUID()}/oidctoken`,
        SYSTEM_ACCESSTOKEN: t.ids.systemAccessToken,
        BUILD_BUILDID: '42',
      };
      const args = ['--provider', 'azure-devops', '--service-connection-id', t.ids.serviceConnectionId];
      assertAccepted(
        await credentials([...args, '--role-arn', roleArn('azure-devops-deploy')], env),
        'azure-devops-deploy',
      );
      const claims = { aud: 'api://AzureADTokenExchange' };
      await onlyDocumentedSub('ado', 'azure-devops-deploy', claims, 'sc://contoso/web/aws-prod');
    });

    test("GitHub's and GitLab's roles: the documented repository and branch only", async () => {
      const github = {
        ACTIONS_ID_TOKEN_REQUEST_URL: `${t.url}/_github/idtoken?api-version=2.0`,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: t.ids.githubRequestToken,
      };
      const role = roleArn('github-actions-deploy');
      assertAccepted(
        await credentials(['--provider', 'github', '--role-arn', role], github),
        'github-actions-deploy',
      );
      const aud = { aud: 'sts.amazonaws.com' };
      await onlyDocumentedSub('github', 'github-actions-deploy', aud, 'repo:contoso/web:ref:refs/heads/main');

      const sub = 'project_path:contoso/web:ref_type:branch:ref:main';
      const token = await t.sandbox.control.mintToken('gitlab', { ...aud, sub, project_path: 'contoso/web' });
      const gitlab = await credentials(['--provider', 'gitlab', '--role-arn', roleArn('gitlab-ci-deploy')], {
        GITLAB_OIDC_TOKEN: token,
      });
      assertAccepted(gitlab, 'gitlab-ci-deploy');
      await onlyDocumentedSub('gitlab', 'gitlab-ci-deploy', aud, sub);
    });

    test('step 9 with the documented role: the stack, a blue/green release, then the Validate block', async () => {
      const sample = join(repoRoot, 'examples/sample-app');
      const credentialArgs = [
        ...managedIdentity('azure-pipelines-deploy'),
        '--endpoint-url',
        t.url,
        '--region',
        'us-east-1',
      ];
      const stack = await runCli(
        [
          'cloudformation',
          'deploy',
          '--stack-name',
          'aws-sample-app',
          '--template-file',
          join(sample, 'infrastructure.yml'),
          '--capabilities',
          'CAPABILITY_IAM',
          ...credentialArgs,
        ],
        { env: cleanEnv(), timeoutMs: 120_000 },
      );
      outputs.push(stack.stdout, stack.stderr);
      assert.equal(stack.code, 0, stack.stderr);
      const release = await runCli(
        [
          'codedeploy',
          'deploy',
          '--application',
          'aws-toolkit-for-azure-devops',
          '--deployment-group',
          'my-sample-bg-deployment-group',
          '--bundle',
          join(sample, 'site'),
          '--bucket',
          values.get('artifact-bucket')!,
          '--file-exists-behavior',
          'OVERWRITE',
          ...credentialArgs,
        ],
        { env: cleanEnv(), timeoutMs: 120_000 },
      );
      outputs.push(release.stdout, release.stderr);
      assert.equal(release.code, 0, release.stderr);
      const deploymentId = /^deploymentId=(d-[A-Z0-9]+)$/m.exec(release.stdout)?.[1];
      assert.ok(deploymentId, release.stdout);
      values.set('deployment-id', deploymentId);

      await runBlocks('validate');
      const url = ran.at(-1)!.result.stdout.trim();
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/, 'the Validate block prints the WebsiteURL output');
      const response = await fetch(`${url}/version`);
      assert.equal(response.status, 200, 'the site answers at the printed URL');
    });

    test('step 10: the Clean up blocks leave no stack, instance, bucket, role or provider', async (context) => {
      const deploymentId = values.get('deployment-id')!;
      for (const gap of await runBlocks('teardown')) context.diagnostic(`not checked by the sandbox: ${gap}`);
      const listing = ran.find((entry) => entry.command.includes('describe-auto-scaling-groups'));
      assert.ok(listing?.result.stdout.includes(`CodeDeploy_my-sample-bg-deployment-group_${deploymentId}`));

      const [stack, running, bucket, providers, ...roles] = await Promise.all([
        aws(['cloudformation', 'describe-stacks', '--stack-name', 'aws-sample-app']),
        aws([
          'ec2',
          'describe-instances',
          '--filters',
          'Name=instance-state-name,Values=pending,running',
          '--query',
          'Reservations[].Instances[].InstanceId',
          '--output',
          'text',
        ]),
        aws(['s3api', 'head-bucket', '--bucket', values.get('artifact-bucket')!]),
        aws(['iam', 'list-open-id-connect-providers', '--output', 'text']),
        aws(['iam', 'get-role', '--role-name', 'azure-pipelines-deploy']),
        aws(['iam', 'get-role', '--role-name', 'azure-devops-deploy']),
      ]);
      assert.match(stack!.stderr, /does not exist/, 'the stack is gone');
      assert.equal(running!.code, 0, running!.stderr);
      assert.equal(running!.stdout.trim(), '', 'no instance is left running');
      assert.notEqual(bucket!.code, 0, 'the bucket is gone');
      assert.doesNotMatch(
        providers!.stdout,
        /sts\.windows\.net|vstoken\.dev\.azure\.com/,
        'the providers are gone',
      );
      for (const role of roles) assert.match(role.stderr, /NoSuchEntity/, 'the roles are gone');
      const after = await credentials(managedIdentity('azure-pipelines-deploy'));
      assert.notEqual(after.code, 0, 'the VM identity can no longer get AWS credentials');
    });

    test('no secret the sandbox minted reached any output', () => {
      assert.deepEqual(leakedSecrets(outputs, t.secrets), []);
    });
  },
);
