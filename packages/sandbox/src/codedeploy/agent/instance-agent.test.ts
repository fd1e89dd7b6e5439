import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Clock } from '../../clock';
import { InstanceAgent } from './instance-agent';
import type {
  AgentDeployment,
  BundleType,
  LifecycleEventName,
  LifecycleEventResult,
  RevisionLocation,
} from './types';

const IN_PLACE_EVENTS: LifecycleEventName[] = [
  'ApplicationStop',
  'DownloadBundle',
  'BeforeInstall',
  'Install',
  'AfterInstall',
  'ApplicationStart',
  'ValidateService',
];

interface Sandbox {
  base: string;
  root: string;
  bucketDir: string;
  tracked: number[];
  agent: InstanceAgent;
}

async function sandbox(t: TestContext, timeScale = 1): Promise<Sandbox> {
  const base = await mkdtemp(join(tmpdir(), 'keyless-agent-'));
  const root = join(base, 'instance');
  const bucketDir = join(base, 'buckets');
  await mkdir(root, { recursive: true });
  const tracked: number[] = [];
  t.after(async () => {
    for (const pid of tracked) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await rm(base, { recursive: true, force: true });
  });
  const agent = new InstanceAgent({
    instanceId: 'i-0123456789abcdef0',
    rootDir: root,
    port: 48080,
    clock: new Clock(timeScale),
    fetchObject: async (bucket, key) => {
      const path = join(bucketDir, bucket, key);
      return existsSync(path) ? path : undefined;
    },
    trackProcessGroup: (pid) => {
      tracked.push(pid);
      return () => tracked.splice(tracked.indexOf(pid), 1);
    },
    killGraceMs: 200,
  });
  return { base, root, bucketDir, tracked, agent };
}

type S3Revision = Extract<RevisionLocation, { kind: 's3' }> & { eTag: string };
type RevisionFiles = Record<string, string | { content: string; mode: number }>;

/** Writes a revision directory; scripts (*.sh) are executable unless a mode says otherwise. */
async function writeRevision(dir: string, files: RevisionFiles): Promise<void> {
  for (const [path, spec] of Object.entries(files)) {
    const full = join(dir, path);
    await mkdir(dirname(full), { recursive: true });
    const { content, mode } =
      typeof spec === 'string' ? { content: spec, mode: path.endsWith('.sh') ? 0o755 : 0o644 } : spec;
    await writeFile(full, content);
    await chmod(full, mode);
  }
}

/** Packs a revision with the system tools and puts it in the fake bucket; returns its S3 location. */
async function uploadRevision(
  box: Sandbox,
  name: string,
  files: RevisionFiles,
  bundleType: BundleType = 'zip',
  options: { wrapIn?: string } = {},
): Promise<S3Revision> {
  const source = join(box.base, 'src', name);
  const revisionDir = options.wrapIn ? join(source, options.wrapIn) : source;
  await writeRevision(revisionDir, files);
  const key = `revisions/${name}.${bundleType === 'tgz' ? 'tar.gz' : bundleType}`;
  const target = join(box.bucketDir, 'artifacts', key);
  await mkdir(dirname(target), { recursive: true });
  if (bundleType === 'zip') execFileSync('zip', ['-qr', target, '.'], { cwd: source });
  else execFileSync('tar', [bundleType === 'tgz' ? '-czf' : '-cf', target, '.'], { cwd: source });
  const eTag = createHash('md5')
    .update(await readFile(target))
    .digest('hex');
  return { kind: 's3', bucket: 'artifacts', key, bundleType, eTag: `"${eTag}"` };
}

function deployment(
  deploymentId: string,
  revision: AgentDeployment['revision'],
  overrides: Partial<AgentDeployment> = {},
): AgentDeployment {
  return {
    deploymentId,
    applicationName: 'SampleApp',
    deploymentGroupName: 'SampleGroup',
    deploymentGroupId: '1c2c8ea3-d1ea-4fe9-8bb9-37ea4a6e81df',
    revision,
    fileExistsBehavior: 'DISALLOW',
    ...overrides,
  };
}

/** Runs events in order until one fails, as the service does (the rest would be Skipped). */
async function runLifecycle(
  agent: InstanceAgent,
  dep: AgentDeployment,
  events = IN_PLACE_EVENTS,
): Promise<LifecycleEventResult[]> {
  const results: LifecycleEventResult[] = [];
  for (const event of events) {
    const result = await agent.runEvent(dep, event);
    results.push(result);
    if (result.status !== 'Succeeded') break;
  }
  return results;
}

function last(results: LifecycleEventResult[]): LifecycleEventResult {
  const result = results.at(-1);
  assert.ok(result);
  return result;
}

function assertAllSucceeded(results: LifecycleEventResult[], count = IN_PLACE_EVENTS.length): void {
  assert.deepEqual(
    results.map((r) => `${r.lifecycleEventName}:${r.status}:${r.diagnostics.message}`),
    results.map((r) => `${r.lifecycleEventName}:Succeeded:Succeeded`),
  );
  assert.equal(results.length, count);
}

const appspec = (body: string): string => `version: 0.0\nos: linux\n${body}`;
const webFiles = 'files:\n  - source: site\n    destination: /var/www/html\n';

/** Running, and not a zombie waiting for a slow init to reap it (containers' PID 1 often is). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

async function eventually(check: () => boolean, ms = 3000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return check();
}

test('a zip revision goes through the in-place lifecycle: files re-rooted, modes kept, hooks with the agent env', async (t) => {
  const box = await sandbox(t);
  const revision = await uploadRevision(box, 'v1', {
    'appspec.yml': appspec(
      `${webFiles}  - source: bin/tool\n    destination: /usr/local/bin\nhooks:\n  AfterInstall:\n    - location: scripts/env.sh\n      timeout: 30\n`,
    ),
    'site/index.html': '<h1>v1</h1>',
    'site/css/site.css': 'body{}',
    'bin/tool': { content: '#!/bin/sh\necho tool\n', mode: 0o750 },
    'scripts/env.sh':
      '#!/bin/bash\nenv | sort > "$KEYLESS_INSTANCE_ROOT/tmp-env.txt"\npwd > "$KEYLESS_INSTANCE_ROOT/tmp-cwd.txt"\necho "hello from $LIFECYCLE_EVENT"\necho "to stderr" >&2\n',
  });
  const dep = deployment('d-AAAAAAAA1', revision);
  const results = await runLifecycle(box.agent, dep);
  assertAllSucceeded(results);
  await box.agent.markSucceeded(dep);

  assert.equal(await readFile(join(box.root, 'var/www/html/index.html'), 'utf8'), '<h1>v1</h1>');
  assert.equal(await readFile(join(box.root, 'var/www/html/css/site.css'), 'utf8'), 'body{}');
  assert.equal((await stat(join(box.root, 'usr/local/bin/tool'))).mode & 0o777, 0o750);

  const env = Object.fromEntries(
    (await readFile(join(box.root, 'tmp-env.txt'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  // bash adds PWD, SHLVL and _ itself; everything else is exactly what the agent passes.
  const { PWD: pwd, SHLVL: _shlvl, _: _underscore, ...passed } = env;
  assert.deepEqual(passed, {
    LIFECYCLE_EVENT: 'AfterInstall',
    DEPLOYMENT_ID: 'd-AAAAAAAA1',
    APPLICATION_NAME: 'SampleApp',
    DEPLOYMENT_GROUP_NAME: 'SampleGroup',
    DEPLOYMENT_GROUP_ID: dep.deploymentGroupId,
    BUNDLE_BUCKET: 'artifacts',
    BUNDLE_KEY: 'revisions/v1.zip',
    BUNDLE_ETAG: revision.eTag,
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    KEYLESS_INSTANCE_ROOT: box.root,
    KEYLESS_INSTANCE_PORT: '48080',
    KEYLESS_INSTANCE_ID: 'i-0123456789abcdef0',
  });
  assert.equal(pwd, box.root);
  assert.equal((await readFile(join(box.root, 'tmp-cwd.txt'), 'utf8')).trim(), box.root);

  const afterInstall = results.find((r) => r.lifecycleEventName === 'AfterInstall');
  assert.match(afterInstall?.diagnostics.logTail ?? '', /\[stdout\]hello from AfterInstall\n/);
  assert.match(afterInstall?.diagnostics.logTail ?? '', /\[stderr\]to stderr\n/);

  const deploymentDir = join(
    box.root,
    'opt/codedeploy-agent/deployment-root',
    dep.deploymentGroupId,
    dep.deploymentId,
  );
  assert.ok(existsSync(join(deploymentDir, 'bundle.tar')));
  assert.ok(existsSync(join(deploymentDir, 'deployment-archive/appspec.yml')));
  const scriptsLog = await readFile(join(deploymentDir, 'logs/scripts.log'), 'utf8');
  assert.match(scriptsLog, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d LifecycleEvent - AfterInstall\n/);
  assert.match(scriptsLog, /\d\d:\d\d:\d\d Script - scripts\/env\.sh\n/);
  assert.match(scriptsLog, /\d\d:\d\d:\d\d \[stdout\]hello from AfterInstall\n/);

  const instructions = join(box.root, 'opt/codedeploy-agent/deployment-root/deployment-instructions');
  assert.equal(
    await readFile(join(instructions, `${dep.deploymentGroupId}_last_successful_install`), 'utf8'),
    `/opt/codedeploy-agent/deployment-root/${dep.deploymentGroupId}/d-AAAAAAAA1`,
  );
  const cleanup = (await readFile(join(instructions, `${dep.deploymentGroupId}-cleanup`), 'utf8')).split(
    '\n',
  );
  assert.ok(cleanup.includes('/var/www/html/index.html'));
  assert.ok(cleanup.includes('/var/www/html'));
  assert.ok(cleanup.includes('/usr/local/bin/tool'));
  assert.match(
    await readFile(join(box.root, 'var/log/aws/codedeploy-agent/codedeploy-agent.log'), 'utf8'),
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d INFO {2}\[codedeploy-agent\(\d+\)\]: /m,
  );
});

test('ApplicationStop runs the last successful revision: nothing on the first deployment, the OLD script after', async (t) => {
  const box = await sandbox(t);
  const stopScript = (tag: string): string =>
    `#!/bin/sh\necho "${tag} $DEPLOYMENT_ID" >> "$KEYLESS_INSTANCE_ROOT/stops.txt"\n`;
  const v1 = await uploadRevision(box, 'v1', {
    'appspec.yml': appspec(`${webFiles}hooks:\n  ApplicationStop:\n    - location: stop.sh\n`),
    'site/index.html': 'v1',
    'site/old-only.html': 'old',
    'stop.sh': stopScript('stop-v1'),
  });
  const first = deployment('d-AAAAAAAA1', v1);
  const firstResults = await runLifecycle(box.agent, first);
  assertAllSucceeded(firstResults);
  assert.equal(firstResults[0]?.diagnostics.logTail, '');
  assert.ok(!existsSync(join(box.root, 'stops.txt')));
  await box.agent.markSucceeded(first);

  const v2 = await uploadRevision(box, 'v2', {
    'appspec.yml': appspec(`${webFiles}hooks:\n  ApplicationStop:\n    - location: stop.sh\n`),
    'site/index.html': 'v2',
    'stop.sh': stopScript('stop-v2'),
  });
  const second = deployment('d-AAAAAAAA2', v2);
  // DISALLOW still succeeds: the previous install's files are removed before the copy.
  assertAllSucceeded(await runLifecycle(box.agent, second));
  assert.equal(await readFile(join(box.root, 'stops.txt'), 'utf8'), 'stop-v1 d-AAAAAAAA2\n');
  assert.equal(await readFile(join(box.root, 'var/www/html/index.html'), 'utf8'), 'v2');
  assert.ok(!existsSync(join(box.root, 'var/www/html/old-only.html')), 'cleanup removed the old install');
  // The old deployment's scripts log holds its stop script's run, as on a real instance.
  const oldLog = join(
    box.root,
    'opt/codedeploy-agent/deployment-root',
    first.deploymentGroupId,
    'd-AAAAAAAA1',
  );
  assert.match(await readFile(join(oldLog, 'logs/scripts.log'), 'utf8'), /LifecycleEvent - ApplicationStop/);
});

test('fileExistsBehavior: DISALLOW names the instance path, OVERWRITE replaces, RETAIN keeps, appspec overrides', async (t) => {
  const box = await sandbox(t);
  await mkdir(join(box.root, 'var/www/html'), { recursive: true });
  await writeFile(join(box.root, 'var/www/html/index.html'), 'hand-made');
  const files = { 'site/index.html': 'deployed', 'site/new.html': 'new' };

  const plain = await uploadRevision(box, 'plain', { 'appspec.yml': appspec(webFiles), ...files });
  const disallowed = last(await runLifecycle(box.agent, deployment('d-DISALLOW1', plain)));
  assert.equal(disallowed.lifecycleEventName, 'Install');
  assert.equal(disallowed.status, 'Failed');
  assert.equal(disallowed.diagnostics.errorCode, 'UnknownError');
  assert.equal(
    disallowed.diagnostics.message,
    'The deployment failed because a specified file already exists at this location: /var/www/html/index.html',
  );
  assert.ok(!existsSync(join(box.root, 'var/www/html/new.html')), 'nothing is copied when the plan fails');

  assertAllSucceeded(
    await runLifecycle(box.agent, deployment('d-RETAIN01', plain, { fileExistsBehavior: 'RETAIN' })),
  );
  assert.equal(await readFile(join(box.root, 'var/www/html/index.html'), 'utf8'), 'hand-made');
  assert.equal(await readFile(join(box.root, 'var/www/html/new.html'), 'utf8'), 'new');

  // Cleanup of the RETAIN install removed new.html only; index.html was never ours.
  const overriding = await uploadRevision(box, 'overriding', {
    'appspec.yml': appspec(`${webFiles}file_exists_behavior: OVERWRITE\n`),
    ...files,
  });
  assertAllSucceeded(await runLifecycle(box.agent, deployment('d-OVERWRIT', overriding)));
  assert.equal(await readFile(join(box.root, 'var/www/html/index.html'), 'utf8'), 'deployed');
});

test('a missing appspec fails DownloadBundle with the agent message; a lone wrapping directory is stripped', async (t) => {
  const box = await sandbox(t);
  const none = await uploadRevision(box, 'none', { 'site/index.html': 'x' }, 'zip');
  const dep = deployment('d-NOAPPSPEC', none);
  const failed = last(await runLifecycle(box.agent, dep));
  assert.equal(failed.lifecycleEventName, 'DownloadBundle');
  assert.equal(failed.diagnostics.errorCode, 'UnknownError');
  const archive = `/opt/codedeploy-agent/deployment-root/${dep.deploymentGroupId}/d-NOAPPSPEC/deployment-archive`;
  assert.equal(
    failed.diagnostics.message,
    `The CodeDeploy agent did not find an AppSpec file within the unpacked revision directory at revision-relative path "appspec.yml". The revision was unpacked to directory "${archive}", and the AppSpec file was expected but not found at path "${archive}/appspec.yml". Consult the AWS CodeDeploy Appspec documentation for more information at http://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file.html`,
  );

  const wrapped = await uploadRevision(
    box,
    'wrapped',
    { 'appspec.yml': appspec(webFiles), 'site/index.html': 'wrapped' },
    'tgz',
    { wrapIn: 'myapp-1.0' },
  );
  assertAllSucceeded(await runLifecycle(box.agent, deployment('d-WRAPPED01', wrapped)));
  assert.equal(await readFile(join(box.root, 'var/www/html/index.html'), 'utf8'), 'wrapped');
});

test('tar and tgz revisions unpack with their modes; appspec.yaml is accepted', async (t) => {
  const box = await sandbox(t);
  for (const bundleType of ['tar', 'tgz'] as const) {
    const revision = await uploadRevision(
      box,
      `modes-${bundleType}`,
      {
        'appspec.yaml': appspec(`files:\n  - source: app\n    destination: /srv/${bundleType}\n`),
        'app/run': { content: '#!/bin/sh\n', mode: 0o700 },
        'app/conf': { content: 'x', mode: 0o640 },
      },
      bundleType,
    );
    const dep = deployment(`d-MODES${bundleType.toUpperCase()}`, revision, {
      deploymentGroupId: `group-${bundleType}`,
    });
    assertAllSucceeded(await runLifecycle(box.agent, dep));
    assert.equal((await stat(join(box.root, `srv/${bundleType}/run`))).mode & 0o777, 0o700);
    assert.equal((await stat(join(box.root, `srv/${bundleType}/conf`))).mode & 0o777, 0o640);
  }
});

test('appspec errors fail the first event that reads it: quoted version, unknown hook', async (t) => {
  const box = await sandbox(t);
  const quoted = await uploadRevision(box, 'quoted', {
    'appspec.yml': 'version: "0.0"\nos: linux\n',
  });
  const quotedFailure = last(await runLifecycle(box.agent, deployment('d-QUOTED001', quoted)));
  assert.equal(quotedFailure.lifecycleEventName, 'BeforeInstall');
  assert.equal(quotedFailure.diagnostics.errorCode, 'UnknownError');
  assert.match(
    quotedFailure.diagnostics.message,
    /^The deployment failed because an invalid version value \(0\.0\)/,
  );

  const unknown = await uploadRevision(box, 'unknown', {
    'appspec.yml': appspec('hooks:\n  AfterInstal:\n    - location: x.sh\n'),
  });
  const unknownFailure = last(await runLifecycle(box.agent, deployment('d-UNKNOWN01', unknown)));
  assert.equal(unknownFailure.diagnostics.errorCode, 'UnknownError');
  assert.match(unknownFailure.diagnostics.message, /unknown lifecycle event \(AfterInstal\).*line 4/);
});

test('script failures: ScriptMissing, ScriptFailed with the exit code and stderr in the log tail', async (t) => {
  const box = await sandbox(t);
  const missing = await uploadRevision(box, 'missing', {
    'appspec.yml': appspec('hooks:\n  BeforeInstall:\n    - location: scripts/nope.sh\n'),
  });
  const missingFailure = last(await runLifecycle(box.agent, deployment('d-MISSING01', missing)));
  assert.equal(missingFailure.lifecycleEventName, 'BeforeInstall');
  assert.equal(missingFailure.diagnostics.errorCode, 'ScriptMissing');
  assert.equal(missingFailure.diagnostics.scriptName, 'scripts/nope.sh');
  assert.equal(
    missingFailure.diagnostics.message,
    'Script does not exist at specified location: scripts/nope.sh',
  );

  const failing = await uploadRevision(box, 'failing', {
    'appspec.yml': appspec('hooks:\n  ApplicationStart:\n    - location: start.sh\n      runas: nobody\n'),
    // Not executable in the bundle: the agent makes it so before running it.
    'start.sh': { content: '#!/bin/sh\necho starting\necho "port busy" >&2\nexit 3\n', mode: 0o644 },
  });
  const failure = last(await runLifecycle(box.agent, deployment('d-FAILING01', failing)));
  assert.equal(failure.lifecycleEventName, 'ApplicationStart');
  assert.equal(failure.diagnostics.errorCode, 'ScriptFailed');
  assert.equal(
    failure.diagnostics.message,
    'Script at specified location: start.sh run as user nobody failed with exit code 3',
  );
  assert.match(failure.diagnostics.logTail, /\[stdout\]starting\n/);
  assert.match(failure.diagnostics.logTail, /\[stderr\]port busy\n/);
  assert.match(
    await readFile(join(box.root, 'var/log/aws/codedeploy-agent/codedeploy-agent.log'), 'utf8'),
    /Script start\.sh asks to run as nobody; running it as the agent's user/,
  );
});

test('a timed-out script gets ScriptTimedOut and its whole process group is killed; timeScale shortens the wait', async (t) => {
  // 60 simulated seconds at 120× = 0.5 s real.
  const box = await sandbox(t, 120);
  const revision = await uploadRevision(box, 'slow', {
    'appspec.yml': appspec('hooks:\n  ApplicationStart:\n    - location: slow.sh\n      timeout: 60\n'),
    'slow.sh':
      '#!/bin/sh\nsleep 30 >/dev/null 2>&1 &\necho $! > "$KEYLESS_INSTANCE_ROOT/child.pid"\necho waiting\nsleep 30\n',
  });
  const started = Date.now();
  const failure = last(await runLifecycle(box.agent, deployment('d-TIMEOUT01', revision)));
  const elapsed = Date.now() - started;
  assert.equal(failure.diagnostics.errorCode, 'ScriptTimedOut');
  assert.equal(
    failure.diagnostics.message,
    'Script at specified location: slow.sh failed to complete in 60 seconds',
  );
  assert.match(failure.diagnostics.logTail, /\[stdout\]waiting\n/);
  assert.ok(elapsed < 10_000, `took ${elapsed} ms`);
  const childPid = Number((await readFile(join(box.root, 'child.pid'), 'utf8')).trim());
  assert.ok(await eventually(() => !pidAlive(childPid)), 'the background sleep was killed with the group');
});

test('a daemon holding stdout hangs the hook until its timeout (the agent waits for the pipes)', async (t) => {
  const box = await sandbox(t, 10);
  const revision = await uploadRevision(box, 'leaky', {
    'appspec.yml': appspec('hooks:\n  ApplicationStart:\n    - location: start.sh\n      timeout: 5\n'),
    'start.sh':
      '#!/bin/sh\nsleep 60 &\necho $! > "$KEYLESS_INSTANCE_ROOT/daemon.pid"\necho started\nexit 0\n',
  });
  const started = Date.now();
  const failure = last(await runLifecycle(box.agent, deployment('d-LEAKYOUT1', revision)));
  assert.equal(failure.diagnostics.errorCode, 'ScriptTimedOut');
  assert.equal(
    failure.diagnostics.message,
    'Script at specified location: start.sh failed to complete in 5 seconds',
  );
  assert.ok(Date.now() - started >= 450, 'it waited for the timeout although the script exited at once');
  const daemonPid = Number((await readFile(join(box.root, 'daemon.pid'), 'utf8')).trim());
  assert.ok(await eventually(() => !pidAlive(daemonPid)), 'the daemon died with the hook');
});

test('a daemon with redirected output survives the hook and its process group is tracked', async (t) => {
  const box = await sandbox(t);
  const revision = await uploadRevision(box, 'daemon', {
    'appspec.yml': appspec('hooks:\n  ApplicationStart:\n    - location: start.sh\n      timeout: 30\n'),
    'start.sh':
      '#!/bin/sh\nsleep 60 >/dev/null 2>&1 </dev/null &\necho $! > "$KEYLESS_INSTANCE_ROOT/daemon.pid"\necho $$ > "$KEYLESS_INSTANCE_ROOT/hook.pid"\n',
  });
  const started = Date.now();
  assertAllSucceeded(await runLifecycle(box.agent, deployment('d-DAEMON001', revision)));
  assert.ok(Date.now() - started < 5000);
  const daemonPid = Number((await readFile(join(box.root, 'daemon.pid'), 'utf8')).trim());
  const hookPid = Number((await readFile(join(box.root, 'hook.pid'), 'utf8')).trim());
  assert.ok(pidAlive(daemonPid), 'the daemon outlives its hook');
  assert.deepEqual(box.tracked, [hookPid]);
  // What instance termination does with a tracked group.
  process.kill(-hookPid, 'SIGTERM');
  assert.ok(await eventually(() => !pidAlive(daemonPid)));
});

test("a running hook's process group belongs to the instance while it runs, and is handed back when it ends", async (t) => {
  const box = await sandbox(t);
  const revision = await uploadRevision(box, 'running', {
    'appspec.yml': appspec('hooks:\n  ApplicationStart:\n    - location: wait.sh\n      timeout: 30\n'),
    'wait.sh': '#!/bin/sh\necho $$ > "$KEYLESS_INSTANCE_ROOT/hook.pid"\nsleep 1\n',
  });
  const running = runLifecycle(box.agent, deployment('d-RUNNING01', revision));
  // Terminating the instance mid-hook (a stopped deployment's green fleet) kills what it tracks.
  let hookPid = 0;
  for (let tries = 0; tries < 200 && !hookPid; tries++) {
    hookPid = Number((await readFile(join(box.root, 'hook.pid'), 'utf8').catch(() => '')).trim());
    if (!hookPid) await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.ok(box.tracked.includes(hookPid), `${JSON.stringify(box.tracked)} holds ${hookPid}`);
  assertAllSucceeded(await running);
  assert.deepEqual(box.tracked, [], 'an ended group is not kept (its id may be reused)');
});

test('S3 problems: a missing key and an eTag mismatch are UnknownError; a quoted matching eTag passes', async (t) => {
  const box = await sandbox(t);
  const revision = await uploadRevision(box, 'etag', { 'appspec.yml': appspec('') });
  const missing = last(
    await runLifecycle(box.agent, deployment('d-NOKEY0001', { ...revision, key: 'revisions/absent.zip' })),
  );
  assert.equal(missing.lifecycleEventName, 'DownloadBundle');
  assert.equal(missing.diagnostics.errorCode, 'UnknownError');
  assert.equal(missing.diagnostics.message, 'The specified key does not exist.');

  const mismatch = last(
    await runLifecycle(box.agent, deployment('d-BADETAG01', { ...revision, eTag: '0123456789abcdef' })),
  );
  assert.equal(mismatch.diagnostics.errorCode, 'UnknownError');
  assert.equal(
    mismatch.diagnostics.message,
    `Expected deployment artifact bundle etag 0123456789abcdef but was actually ${revision.eTag}`,
  );
  assertAllSucceeded(await runLifecycle(box.agent, deployment('d-GOODETAG1', revision)));
});

test('ignoreApplicationStopFailures tolerates a failing previous ApplicationStop', async (t) => {
  const box = await sandbox(t);
  const v1 = await uploadRevision(box, 'v1', {
    'appspec.yml': appspec('hooks:\n  ApplicationStop:\n    - location: stop.sh\n'),
    'stop.sh': '#!/bin/sh\necho "cannot stop" >&2\nexit 1\n',
  });
  const first = deployment('d-STOPFAIL1', v1);
  assertAllSucceeded(await runLifecycle(box.agent, first));
  await box.agent.markSucceeded(first);

  const strict = await box.agent.runEvent(deployment('d-STOPFAIL2', v1), 'ApplicationStop');
  assert.equal(strict.status, 'Failed');
  assert.equal(strict.diagnostics.errorCode, 'ScriptFailed');

  const tolerant = await box.agent.runEvent(
    deployment('d-STOPFAIL3', v1, { ignoreApplicationStopFailures: true }),
    'ApplicationStop',
  );
  assert.equal(tolerant.status, 'Succeeded');
  assert.match(
    tolerant.diagnostics.message,
    /ignoreApplicationStopFailures.*Script at specified location: stop\.sh failed with exit code 1/,
  );
  assert.match(tolerant.diagnostics.logTail, /\[stderr\]cannot stop/);
});

test('destinations that climb out of the instance root are refused', async (t) => {
  const box = await sandbox(t);
  const revision = await uploadRevision(box, 'escape', {
    'appspec.yml': appspec('files:\n  - source: evil.txt\n    destination: /var/../../outside\n'),
    'evil.txt': 'x',
  });
  const failure = last(await runLifecycle(box.agent, deployment('d-ESCAPE001', revision)));
  assert.equal(failure.lifecycleEventName, 'Install');
  assert.equal(failure.diagnostics.errorCode, 'UnknownError');
  assert.match(
    failure.diagnostics.message,
    /\/var\/\.\.\/\.\.\/outside, which resolves outside the instance's root/,
  );
  assert.ok(!existsSync(join(box.base, 'outside')));
});

test('permissions set modes on what the install created; traffic events are no-ops', async (t) => {
  const box = await sandbox(t);
  const revision = await uploadRevision(box, 'perms', {
    'appspec.yml': appspec(
      `${webFiles}permissions:\n  - object: /var/www/html\n    pattern: "*.html"\n    except: [keep.html]\n    mode: 600\n    type: [file]\n` +
        '  - object: /var/www/html/app.js\n    owner: keyless-no-such-user\n    mode: 640\n' +
        '  - object: /var/www/html/keep.html\n    owner: "0"\n    group: "0"\n',
    ),
    'site/index.html': 'x',
    'site/keep.html': 'x',
    'site/app.js': 'x',
  });
  const dep = deployment('d-PERMS0001', revision);
  assertAllSucceeded(
    await runLifecycle(box.agent, dep, [
      ...IN_PLACE_EVENTS,
      'BeforeAllowTraffic',
      'AllowTraffic',
      'AfterAllowTraffic',
    ]),
    IN_PLACE_EVENTS.length + 3,
  );
  const mode = async (name: string): Promise<number> =>
    (await stat(join(box.root, 'var/www/html', name))).mode & 0o777;
  assert.equal(await mode('index.html'), 0o600);
  assert.equal(await mode('keep.html'), 0o644);
  assert.equal(await mode('app.js'), 0o640);
  const agentLog = await readFile(
    join(box.root, 'var/log/aws/codedeploy-agent/codedeploy-agent.log'),
    'utf8',
  );
  assert.match(
    agentLog,
    process.getuid?.() === 0
      ? /Not setting owner keyless-no-such-user: on \/var\/www\/html\/app\.js: no such user or group on this host/
      : /Not setting owner keyless-no-such-user: on \/var\/www\/html\/app\.js: the agent is not running as root/,
  );
  if (process.getuid?.() === 0) assert.equal((await stat(join(box.root, 'var/www/html/keep.html'))).uid, 0);
});

test('a directory revision (codedeploy local) installs; only the five newest deployment archives are kept', async (t) => {
  const box = await sandbox(t);
  const source = join(box.base, 'local-revision');
  await writeRevision(source, { 'appspec.yml': appspec(webFiles), 'site/index.html': 'local' });
  const groupDir = join(box.root, 'opt/codedeploy-agent/deployment-root/local-group');
  for (let n = 1; n <= 7; n++) {
    const dep = deployment(
      `d-LOCAL000${n}-local`,
      { kind: 'directory', path: source },
      { deploymentGroupId: 'local-group' },
    );
    assertAllSucceeded(await runLifecycle(box.agent, dep));
    await box.agent.markSucceeded(dep);
    // Distinct mtimes, oldest first, as consecutive real deployments would have.
    const past = new Date(Date.now() - (10 - n) * 60_000);
    await utimes(join(groupDir, dep.deploymentId), past, past);
  }
  assert.equal(await readFile(join(box.root, 'var/www/html/index.html'), 'utf8'), 'local');
  const kept = (await readdir(groupDir)).sort();
  // DownloadBundle of the 7th trimmed to five before unpacking it (the agent counts the new directory too).
  assert.deepEqual(kept, [
    'd-LOCAL0003-local',
    'd-LOCAL0004-local',
    'd-LOCAL0005-local',
    'd-LOCAL0006-local',
    'd-LOCAL0007-local',
  ]);
});
