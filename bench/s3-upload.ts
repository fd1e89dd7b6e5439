// Upload of a 300 MB deployment bundle to the sandbox's S3: Keyless's own upload paths against `aws s3 cp` of the
// same file to the same sandbox, in rotating order, median of 3 each:
//  - uploadBundle (packages/core/src/codedeploy/upload.ts) through the S3 client the CodeDeploy engine builds
//    (bundleS3Client: requestChecksumCalculation WHEN_REQUIRED), its default part size and parts in flight — the
//    headline figure, what CodeDeployDeployApplication and `keyless codedeploy deploy` do;
//  - uploadFiles (packages/core/src/s3/upload-files.ts) of a folder holding only that file — the S3Upload task.
// Wall time is what the table shows; CPU seconds of each uploader (and of the sandbox while serving it) are in the
// details, since on a shared 2-core machine they say more than wall time about which side costs what.
// Also reports the sandbox process's peak RSS: uploads stream to disk, so it must stay far below the file size.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { buildClientConfig } from '../packages/core/src/aws/client-config';
import { bundleS3Client } from '../packages/core/src/codedeploy/context';
import { uploadBundle } from '../packages/core/src/codedeploy/upload';
import { uploadFiles } from '../packages/core/src/s3/upload-files';
import { MemoryReporter } from '../packages/core/src/index';
import { hasCommand, median, printResult, repoRoot } from './lib';

const FILE_BYTES = 300 * 1024 * 1024;
const RUNS = 3;
const hasTime = existsSync('/usr/bin/time');
const KEYS = {
  accessKeyId: 'AKIAIOSFODNN7BENCHS3',
  secretAccessKey: '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',
};

/** The sandbox from source (no build needed), in its own process so its memory is measured alone. */
async function startSandbox(
  configPath: string,
): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repoRoot, 'packages/cli/src/cli.ts'),
      'sandbox',
      '--port',
      '0',
      '--config',
      configPath,
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`sandbox exited early (${code}): ${output}`)));
  });
  return {
    url,
    child,
    async stop() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

function cpuSeconds(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1e6;
}

/** User + system CPU seconds a process has used so far (Linux /proc). */
function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function memoryOf(pid: number): Promise<{ peakMb: number; currentMb: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { peakMb: Math.round(kb('VmHWM') / 1024), currentMb: Math.round(kb('VmRSS') / 1024) };
}

/** Half random (incompressible) and half repetitive text, in 1 MiB stripes, like a zipped app plus its assets. */
async function writeBundle(path: string): Promise<void> {
  const out = createWriteStream(path);
  const text = Buffer.alloc(1024 * 1024, 'const answer = 42; // keyless bundle filler\n');
  for (let written = 0; written < FILE_BYTES; written += 1024 * 1024) {
    const stripe = (written / (1024 * 1024)) % 2 === 0 ? randomBytes(1024 * 1024) : text;
    if (!out.write(stripe)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function main(): Promise<void> {
  if (!hasCommand('aws')) {
    console.log('upload 300 MB to sandbox S3: skipped (the AWS CLI `aws` is not installed)');
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'keyless-bench-s3-'));
  const configPath = join(dir, 'sandbox.json');
  await writeFile(configPath, JSON.stringify({ rootCredentials: [KEYS] }));
  // In a folder of its own, so uploadFiles can upload exactly this file.
  await mkdir(join(dir, 'site'));
  const bundle = join(dir, 'site', 'bundle.zip');
  await writeBundle(bundle);
  const sandbox = await startSandbox(configPath);
  const pid = sandbox.child.pid!;
  const baseline = await memoryOf(pid);
  // The client the CodeDeploy engine builds for bundles (createCodeDeployEngine), against the sandbox.
  const s3 = bundleS3Client(
    buildClientConfig('s3', {
      region: 'us-east-1',
      endpoints: { s3: sandbox.url },
      env: {},
      credentials: async () => KEYS,
      requestTimeoutMs: 300_000,
    }),
    true,
  );
  const bucket = 'bench-bundles';
  const cliEnv = {
    ...process.env,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_ACCESS_KEY_ID: KEYS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: KEYS.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  type Side = 'uploadBundle' | 'uploadFiles' | 'aws s3 cp';
  const sides: Side[] = ['uploadBundle', 'uploadFiles', 'aws s3 cp'];
  const runs = new Map<Side, Array<{ seconds: number; cpu: number; sandboxCpu: number }>>(
    sides.map((side) => [side, []]),
  );
  const upload = async (side: Side, run: number): Promise<number> => {
    if (side === 'uploadBundle') {
      const before = process.cpuUsage();
      // An exact key and a fresh SHA each run, so the "already uploaded" shortcut never applies.
      const uploaded = await uploadBundle(
        s3,
        { path: bundle, sha256: `${run}`.padStart(64, '0'), bytes: FILE_BYTES, bundleType: 'zip' },
        { bucket, key: `bundle/${run}.zip`, application: 'bench' },
      );
      if (!uploaded.uploaded) throw new Error('uploadBundle skipped the upload');
      return cpuSeconds(process.cpuUsage(before));
    }
    if (side === 'uploadFiles') {
      const before = process.cpuUsage();
      const result = await uploadFiles(
        { bucket, sourceFolder: join(dir, 'site'), targetFolder: `files/${run}` },
        {
          credentials: { region: 'us-east-1', provider: async () => KEYS, endpoints: { s3: sandbox.url } },
          env: {},
          reporter: new MemoryReporter(),
        },
      );
      if (result.totalBytes !== FILE_BYTES) throw new Error(`uploadFiles sent ${result.totalBytes} bytes`);
      return cpuSeconds(process.cpuUsage(before));
    }
    const args = [
      '--endpoint-url',
      sandbox.url,
      's3',
      'cp',
      '--only-show-errors',
      bundle,
      `s3://${bucket}/cli/${run}.zip`,
    ];
    // GNU time for the CPU figure when it is there; the wall time is the same either way.
    const cli = hasTime
      ? spawnSync('/usr/bin/time', ['-f', 'cpu %U %S', 'aws', ...args], { env: cliEnv, encoding: 'utf8' })
      : spawnSync('aws', args, { env: cliEnv, encoding: 'utf8' });
    if (cli.status !== 0) throw new Error(`aws s3 cp failed (${cli.status}): ${cli.stderr.slice(-500)}`);
    const [user, system] = (/cpu (\S+) (\S+)/.exec(cli.stderr) ?? []).slice(1).map(Number);
    return (user ?? NaN) + (system ?? NaN);
  };
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (let run = 0; run < RUNS; run++) {
      // Rotate the order, so no side always goes first (cold caches) or last.
      for (let turn = 0; turn < sides.length; turn++) {
        const side = sides[(run + turn) % sides.length]!;
        const sandboxBefore = processCpuSeconds(pid);
        const started = performance.now();
        const cpu = await upload(side, run);
        runs.get(side)!.push({
          seconds: (performance.now() - started) / 1000,
          cpu,
          sandboxCpu: processCpuSeconds(pid) - sandboxBefore,
        });
      }
    }
    for (const key of ['bundle/0.zip', 'files/0/bundle.zip', 'cli/0.zip']) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      if (head.ContentLength !== FILE_BYTES)
        throw new Error(`${key} has ${head.ContentLength} bytes, not ${FILE_BYTES}`);
    }
    const memory = await memoryOf(pid);
    const summary = (side: Side) => {
      const list = runs.get(side)!;
      return {
        seconds: Number(median(list.map((r) => r.seconds)).toFixed(2)),
        cpuSeconds: Number(median(list.map((r) => r.cpu)).toFixed(2)),
        sandboxCpuSeconds: Number(median(list.map((r) => r.sandboxCpu)).toFixed(2)),
        runsSeconds: list.map((r) => Number(r.seconds.toFixed(2))),
      };
    };
    const bundleSide = summary('uploadBundle');
    const filesSide = summary('uploadFiles');
    const cliSide = summary('aws s3 cp');
    const ratio = cliSide.seconds / bundleSide.seconds;
    printResult(
      {
        measure: 'upload 300 MB to sandbox S3 (uploadBundle)',
        keyless: bundleSide.seconds,
        peer: cliSide.seconds,
        peerName: 'aws s3 cp',
        unit: 's',
        ratio,
        target: '>= 1x aws s3 cp',
        met: ratio >= 1,
        note: `${bundleSide.cpuSeconds} s CPU; uploadFiles ${filesSide.seconds} s, ${filesSide.cpuSeconds} s CPU`,
        peerNote: `${cliSide.cpuSeconds} s CPU`,
      },
      {
        uploadBundle: bundleSide,
        uploadFiles: filesSide,
        awsS3Cp: cliSide,
        uploadFilesRatio: Number((cliSide.seconds / filesSide.seconds).toFixed(2)),
        sandboxPeakRssMb: memory.peakMb,
        sandboxBaselineRssMb: baseline.currentMb,
      },
    );
  } finally {
    s3.destroy();
    await sandbox.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
