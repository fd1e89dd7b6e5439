// Upload of a 300 MB deployment bundle to the sandbox's S3: Keyless's own upload path (uploadBundle from
// packages/core/src/codedeploy/upload.ts, through the S3 client the CodeDeploy engine builds: bundleS3Client,
// requestChecksumCalculation WHEN_REQUIRED, its part size and queue size) against `aws s3 cp` of the same file
// to the same sandbox, alternating runs, median of 3.
// Also reports the sandbox process's peak RSS: uploads stream to disk, so it must stay far below the file size.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { buildClientConfig } from '../packages/core/src/aws/client-config';
import { bundleS3Client } from '../packages/core/src/codedeploy/context';
import { uploadBundle } from '../packages/core/src/codedeploy/upload';
import { hasCommand, median, printResult, repoRoot, timeCommand } from './lib';

const FILE_BYTES = 300 * 1024 * 1024;
const RUNS = 3;
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
  const bundle = join(dir, 'bundle.zip');
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
  const sdkSeconds: number[] = [];
  const cliSeconds: number[] = [];
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (let run = 0; run < RUNS; run++) {
      const started = performance.now();
      // An exact key and a fresh SHA each run, so the "already uploaded" shortcut never applies.
      const uploaded = await uploadBundle(
        s3,
        { path: bundle, sha256: `${run}`.padStart(64, '0'), bytes: FILE_BYTES, bundleType: 'zip' },
        { bucket, key: `sdk/bundle-${run}.zip`, application: 'bench' },
      );
      if (!uploaded.uploaded) throw new Error('uploadBundle skipped the upload');
      sdkSeconds.push((performance.now() - started) / 1000);

      const cliMs = timeCommand(
        'aws',
        [
          '--endpoint-url',
          sandbox.url,
          's3',
          'cp',
          '--only-show-errors',
          bundle,
          `s3://${bucket}/cli/bundle-${run}.zip`,
        ],
        cliEnv,
      );
      cliSeconds.push(cliMs / 1000);
    }
    for (const key of ['sdk/bundle-0.zip', 'cli/bundle-0.zip']) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      if (head.ContentLength !== FILE_BYTES)
        throw new Error(`${key} has ${head.ContentLength} bytes, not ${FILE_BYTES}`);
    }
    const memory = await memoryOf(pid);
    const keyless = Number(median(sdkSeconds).toFixed(2));
    const peer = Number(median(cliSeconds).toFixed(2));
    const ratio = peer / keyless;
    printResult(
      {
        measure: 'upload 300 MB to sandbox S3',
        keyless,
        peer,
        peerName: 'aws s3 cp',
        unit: 's',
        ratio,
        target: '>= 1x aws s3 cp',
        met: ratio >= 1,
      },
      {
        sdkRunsSeconds: sdkSeconds.map((s) => Number(s.toFixed(2))),
        cliRunsSeconds: cliSeconds.map((s) => Number(s.toFixed(2))),
        sandboxPeakRssMb: memory.peakMb,
        sandboxBaselineRssMb: baseline.currentMb,
        path: 'uploadBundle (defaults)',
      },
    );
  } finally {
    s3.destroy();
    await sandbox.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
