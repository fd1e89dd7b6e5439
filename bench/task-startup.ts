// Task start-up (issue 5): the Azure DevOps extension's task bundles (packages/azure-pipelines/dist/tasks/<Name>/
// index.js, what the agent's Node handler runs) from process spawn to the first AWS request, which arrives at a
// loopback HTTP server standing in for AWS (AWS_ENDPOINT_URL); the child is killed there. Each task gets an
// agent-like environment: AGENT_TEMPDIRECTORY, SYSTEM_DEFAULTWORKINGDIRECTORY, INPUT_* inputs that make it call
// AWS at once, and keys as the public AWS.AccessKeyID / AWS.SecretAccessKey pipeline variables (no token exchange,
// except for AWSCredentials, whose first request is the exchange). Peak memory: the same spawn under
// `/usr/bin/time -f %M`. Peer, in the same run and the same way: a bare `node -e ""` (spawn to exit).
// Alternating runs, medians. Run: node --import tsx bench/task-startup.ts
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasCommand, median, printResult, repoRoot } from './lib';

const runs = Number(process.env.BENCH_RUNS ?? 15);
const limitMs = 150;
const limitMb = 100;
const timeBinary = '/usr/bin/time';
const tasksDir = join(repoRoot, 'packages/azure-pipelines/dist/tasks');

interface TaskCase {
  name: string;
  /** What the task's first request is, for the printed lines. */
  first: string;
  inputs: Record<string, string>;
}

function bundlePath(task: string): string {
  return join(tasksDir, task, 'index.js');
}

function casesFor(dir: string): TaskCase[] {
  return [
    {
      name: 'CloudFormationCreateOrUpdateStack',
      first: 'CloudFormation ValidateTemplate',
      inputs: {
        stackName: 'bench-startup',
        templateSource: 'file',
        templateFile: join(dir, 'template.yml'),
        regionName: 'us-east-1',
      },
    },
    {
      // An existing S3 revision: the workspace source would first zip and upload, which is work, not start-up.
      name: 'CodeDeployDeployApplication',
      first: 'CodeDeploy GetApplication',
      inputs: {
        applicationName: 'bench-app',
        deploymentGroupName: 'bench-group',
        deploymentRevisionSource: 's3',
        bucketName: 'bench-bucket',
        bundleKey: 'bench-app.zip',
        regionName: 'us-east-1',
      },
    },
    {
      // A token file: the token is read locally, so the first request is STS AssumeRoleWithWebIdentity.
      name: 'AWSCredentials',
      first: 'STS AssumeRoleWithWebIdentity',
      inputs: {
        authMode: 'tokenFile',
        tokenFile: join(dir, 'token.jwt'),
        roleArn: 'arn:aws:iam::111122223333:role/bench-startup',
        regionName: 'us-east-1',
      },
    },
  ];
}

/** The environment the agent gives a task step (the parts these tasks read), with AWS pointed at the stub. */
function agentEnv(dir: string, endpoint: string, inputs: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    AGENT_TEMPDIRECTORY: dir,
    SYSTEM_DEFAULTWORKINGDIRECTORY: dir,
    BUILD_SOURCESDIRECTORY: dir,
    BUILD_BUILDID: '42',
    // Public pipeline variables, as the blog's script sets them (credentials.ts reads these from the env).
    AWS_ACCESSKEYID: 'AKIAIOSFODNN7BENCHTS',
    AWS_SECRETACCESSKEY: 'bench/task/startup/secret/key/for/stub0000',
    AWS_ENDPOINT_URL: endpoint,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  return env;
}

interface Stub {
  /** A fresh endpoint URL (its path names the run) and when the first request to it arrives. */
  next(): { endpoint: string; arrived: Promise<bigint> };
  close(): Promise<void>;
}

/**
 * Stands in for AWS: tells the waiting run that its first request arrived (and when) and answers every request
 * with an AWS-shaped error. Each run's endpoint has its own path, so a request a killed task had already sent
 * cannot count for the next run.
 */
function startStub(): Promise<Stub> {
  let run = 0;
  let waiting: { path: string; resolve(at: bigint): void } | undefined;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const at = process.hrtime.bigint();
    if (waiting && req.url?.startsWith(waiting.path)) {
      waiting.resolve(at);
      waiting = undefined;
    }
    req.resume();
    res.setHeader('connection', 'close');
    if (req.headers['x-amz-target']) {
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
      res.end('{"__type":"ApplicationDoesNotExistException","message":"bench stub"}');
    } else {
      res.writeHead(400, { 'content-type': 'text/xml' });
      res.end(
        '<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>bench stub</Message>' +
          '</Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>',
      );
    }
  });
  return new Promise((resolveStart) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolveStart({
        next() {
          const path = `/run-${++run}/`;
          const arrived = new Promise<bigint>((resolve) => (waiting = { path, resolve }));
          return { endpoint: `http://127.0.0.1:${port}${path.slice(0, -1)}`, arrived };
        },
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
      });
    });
  });
}

/** Keeps the last few KiB a child printed, for the error if it never reaches AWS. */
function tail(child: ChildProcess): () => string {
  let text = '';
  const keep = (chunk: Buffer) => (text = (text + chunk.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => text;
}

/** The pid of the process /usr/bin/time started (its only child). */
function childPidOf(pid: number): number | undefined {
  try {
    const pids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
    return pids[0] ? Number(pids[0]) : undefined;
  } catch {
    return undefined;
  }
}

interface Run {
  ms: number;
  /** Max RSS in MB, when run under /usr/bin/time. */
  mb?: number;
}

/**
 * Spawns a task bundle and returns the time from spawn to its first request at the stub; under /usr/bin/time it
 * also returns the peak RSS (the task is killed at its first request, so this is start-up's peak).
 */
async function runTask(task: TaskCase, dir: string, stub: Stub, rssFile?: string): Promise<Run> {
  const args = [bundlePath(task.name)];
  const { endpoint, arrived } = stub.next();
  const env = agentEnv(dir, endpoint, task.inputs);
  const started = process.hrtime.bigint();
  const child = rssFile
    ? spawn(timeBinary, ['-o', rssFile, '-f', '%M', process.execPath, ...args], { env })
    : spawn(process.execPath, args, { env });
  const output = tail(child);
  const exited = once(child, 'exit');
  const at = await Promise.race([
    arrived,
    exited.then(() => {
      throw new Error(`${task.name} exited before calling AWS:\n${output()}`);
    }),
    new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`${task.name} made no request in 20 s:\n${output()}`)),
        20_000,
      ).unref(),
    ),
  ]).catch((error: unknown) => {
    const inner = rssFile ? childPidOf(child.pid!) : undefined;
    if (inner !== undefined) process.kill(inner, 'SIGKILL');
    child.kill('SIGKILL');
    throw error;
  });
  const ms = Number(at - started) / 1e6;
  // Under /usr/bin/time, kill the task itself so time still reports its rusage.
  const target = rssFile ? childPidOf(child.pid!) : child.pid;
  if (target !== undefined) process.kill(target, 'SIGKILL');
  await exited;
  return rssFile ? { ms, mb: await readRss(rssFile) } : { ms };
}

/** `node -e ""`: spawn to exit, and under /usr/bin/time its peak RSS. */
async function runBareNode(env: NodeJS.ProcessEnv, rssFile?: string): Promise<Run> {
  const args = ['-e', ''];
  const started = process.hrtime.bigint();
  const child = rssFile
    ? spawn(timeBinary, ['-o', rssFile, '-f', '%M', process.execPath, ...args], { env, stdio: 'ignore' })
    : spawn(process.execPath, args, { env, stdio: 'ignore' });
  const [code] = (await once(child, 'exit')) as [number | null];
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (code !== 0) throw new Error(`node -e "" exited with ${code}`);
  return rssFile ? { ms, mb: await readRss(rssFile) } : { ms };
}

/** GNU time's %M (KiB), the last line of its output file (a killed command adds a line before it). */
async function readRss(file: string): Promise<number> {
  const lines = (await readFile(file, 'utf8')).trim().split('\n');
  const kib = Number(lines.at(-1));
  if (!Number.isFinite(kib)) throw new Error(`unexpected /usr/bin/time output: ${lines.join(' | ')}`);
  return kib / 1024;
}

function ensureBundles(tasks: TaskCase[]): void {
  if (tasks.every((task) => existsSync(bundlePath(task.name)))) return;
  console.log('building the task bundles (node scripts/build.mjs)');
  const build = spawnSync(process.execPath, [join(repoRoot, 'scripts/build.mjs')], {
    cwd: repoRoot,
    stdio: 'inherit',
  });
  if (build.status !== 0) throw new Error(`node scripts/build.mjs failed (${build.status})`);
}

if (!hasCommand(timeBinary)) {
  console.error(
    `bench/task-startup: ${timeBinary} is not installed, so peak memory cannot be measured; skipping.`,
  );
  process.exit(0);
}

const dir = await mkdtemp(join(tmpdir(), 'keyless-task-startup-'));
const stub = await startStub();
try {
  const tasks = casesFor(dir);
  ensureBundles(tasks);
  await writeFile(
    join(dir, 'template.yml'),
    'Resources:\n  Parameter:\n    Type: AWS::SSM::Parameter\n    Properties:\n      Type: String\n      Value: bench\n',
  );
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const claims = { iss: 'https://issuer.example', aud: 'sts.amazonaws.com', sub: 'bench', exp: 4102444800 };
  await writeFile(join(dir, 'token.jwt'), `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims)}.c2lnbmF0dXJl`);
  const rssFile = join(dir, 'rss.txt');
  const bareEnv = { PATH: process.env.PATH, HOME: dir };

  // Warm the file-system cache once, then alternate so drift hits every task and the peer alike.
  for (const task of tasks) await runTask(task, dir, stub);
  await runBareNode(bareEnv);
  const times = new Map<string, number[]>(tasks.map((task) => [task.name, []]));
  const peaks = new Map<string, number[]>(tasks.map((task) => [task.name, []]));
  const bareTimes: number[] = [];
  const barePeaks: number[] = [];
  for (let i = 0; i < runs; i++) {
    for (const task of tasks) {
      times.get(task.name)!.push((await runTask(task, dir, stub)).ms);
      peaks.get(task.name)!.push((await runTask(task, dir, stub, rssFile)).mb!);
    }
    bareTimes.push((await runBareNode(bareEnv)).ms);
    barePeaks.push((await runBareNode(bareEnv, rssFile)).mb!);
  }

  const round1 = (value: number) => Math.round(value * 10) / 10;
  const perTask = tasks.map((task) => ({
    task: task.name,
    firstRequest: task.first,
    medianMs: Math.round(median(times.get(task.name)!)),
    minMs: Math.round(Math.min(...times.get(task.name)!)),
    maxMs: Math.round(Math.max(...times.get(task.name)!)),
    peakRssMb: round1(Math.max(...peaks.get(task.name)!)),
    bundleKiB: Math.round(readFileSync(bundlePath(task.name)).length / 1024),
  }));
  const bare = {
    medianMs: Math.round(median(bareTimes)),
    peakRssMb: round1(Math.max(...barePeaks)),
  };
  for (const row of perTask) {
    console.log(
      `${row.task}: spawn -> first request (${row.firstRequest}) median ${row.medianMs} ms ` +
        `(${row.minMs}-${row.maxMs}), peak RSS ${row.peakRssMb} MB, bundle ${row.bundleKiB} KiB`,
    );
  }
  console.log(`node -e "": spawn -> exit median ${bare.medianMs} ms, peak RSS ${bare.peakRssMb} MB`);

  const slowest = perTask.reduce((a, b) => (b.medianMs > a.medianMs ? b : a));
  const peakMb = Math.max(...perTask.map((row) => row.peakRssMb));
  printResult(
    {
      measure: `task start-up to first AWS request, slowest of ${tasks.length} tasks (${slowest.task}, median of ${runs})`,
      keyless: slowest.medianMs,
      peer: bare.medianMs,
      peerName: 'node -e ""',
      unit: 'ms',
      ratio: bare.medianMs / slowest.medianMs,
      target: `< ${limitMs} ms and < ${limitMb} MB`,
      met: perTask.every((row) => row.medianMs < limitMs) && peakMb < limitMb,
      note: `peak RSS ${peakMb} MB`,
      peerNote: `peak RSS ${bare.peakRssMb} MB`,
    },
    {
      node: process.version,
      peakRssMb: peakMb,
      tasks: perTask,
      bareNode: bare,
      runsMs: Object.fromEntries([...times].map(([name, values]) => [name, values.map(Math.round)])),
      bareNodeRunsMs: bareTimes.map(Math.round),
    },
  );
} finally {
  await stub.close();
  await rm(dir, { recursive: true, force: true });
}
