// Bundling a deployment workspace: Keyless's streaming, parallel zip writer against `zip -qr` of the same
// folder (after one untimed pass that warms the page cache, alternating who goes first, median of 3), plus
// Keyless's peak RSS. The workspace (≥ 20,000 files, ≥ 300 MB: many
// small JS/JSON/text files, some large text files, some already-compressed .png/.zip/.gz made of random
// bytes) is generated once and cached under the system temp directory.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { hasCommand, median, printResult, repoRoot } from './lib';

const RUNS = 3;
const workspace = join(tmpdir(), 'keyless-bench-codedeploy-workspace-v1');
const scratch = join(tmpdir(), 'keyless-bench-codedeploy-out');

/** A small deterministic PRNG: the same workspace on every machine. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generateWorkspace(): { files: number; bytes: number } {
  const marker = join(workspace, '.complete');
  if (existsSync(marker))
    return JSON.parse(String(spawnSync('cat', [marker]).stdout)) as { files: number; bytes: number };
  rmSync(workspace, { recursive: true, force: true });
  const random = prng(20261128);
  const words = Array.from({ length: 4000 }, () =>
    Array.from({ length: 2 + Math.floor(random() * 9) }, () =>
      String.fromCharCode(97 + Math.floor(random() * 26)),
    ).join(''),
  );
  // A 4 MB pool of source-like text; files are slices of it, so they compress like real code (about 3-4x).
  const lines: string[] = [];
  let poolLength = 0;
  while (poolLength < 4 * 1024 * 1024) {
    const indent = '  '.repeat(Math.floor(random() * 4));
    const count = 3 + Math.floor(random() * 10);
    const line = `${indent}${Array.from({ length: count }, () => words[Math.floor(random() * words.length)]).join(random() < 0.3 ? '.' : ' ')};`;
    lines.push(line);
    poolLength += line.length + 1;
  }
  const pool = Buffer.from(lines.join('\n'));
  const slice = (size: number) => {
    const start = Math.floor(random() * (pool.length - size));
    return pool.subarray(start, start + size);
  };
  const randomBytes = (size: number) => {
    const buffer = Buffer.alloc(size);
    for (let index = 0; index < size; index += 4)
      buffer.writeUInt32LE(Math.floor(random() * 4294967296), Math.min(index, size - 4));
    return buffer;
  };
  let files = 0;
  let bytes = 0;
  const write = (path: string, data: Buffer) => {
    mkdirSync(join(workspace, path, '..'), { recursive: true });
    writeFileSync(join(workspace, path), data);
    files++;
    bytes += data.length;
  };
  write(
    'appspec.yml',
    Buffer.from('version: 0.0\nos: linux\nfiles:\n  - source: /\n    destination: /var/www\n'),
  );
  const extensions = ['.js', '.js', '.ts', '.json', '.css', '.html', '.md', '.txt'];
  for (let index = 0; index < 19_000; index++) {
    const directory = `node_modules/pkg-${index % 400}/lib/${Math.floor(index / 400) % 6}`;
    const size = 200 + Math.floor(random() * 7800);
    write(`${directory}/file-${index}${extensions[index % extensions.length]}`, slice(size));
  }
  for (let index = 0; index < 150; index++)
    write(`dist/bundle-${index}.js`, slice(400_000 + Math.floor(random() * 400_000)));
  const binary = ['.png', '.zip', '.gz', '.jpg', '.woff2'];
  for (let index = 0; index < 1_500; index++) {
    write(
      `assets/${index % 20}/asset-${index}${binary[index % binary.length]}`,
      randomBytes(20_000 + Math.floor(random() * 100_000)),
    );
  }
  for (let index = 0; index < 4; index++) write(`vendor/archive-${index}.zip`, randomBytes(12 * 1024 * 1024));
  for (let index = 0; index < 2; index++) write(`data/large-${index}.log`, slice(3 * 1024 * 1024));
  writeFileSync(marker, JSON.stringify({ files, bytes }));
  return { files, bytes };
}

/** The bundler as a standalone script (what a pipeline step runs), so its start-up and memory are real. */
async function buildChild(): Promise<string> {
  mkdirSync(scratch, { recursive: true });
  const source = join(scratch, 'bundle-child.ts');
  writeFileSync(
    source,
    [
      `import { bundleWorkspace } from ${JSON.stringify(join(repoRoot, 'packages/core/src/codedeploy/bundle.ts'))};`,
      'const [dir, out] = process.argv.slice(2);',
      'const started = performance.now();',
      'const tuning = JSON.parse(process.env.KEYLESS_BENCH_BUNDLE_OPTIONS ?? "{}");',
      'const result = await bundleWorkspace(dir, { ...tuning, outputPath: out });',
      'const ms = performance.now() - started;',
      'console.log(JSON.stringify({ ms, bytes: result.bytes, entries: result.entries, stored: result.stored, deflated: result.deflated, maxRssKb: process.resourceUsage().maxRSS }));',
    ].join('\n'),
  );
  const outfile = join(scratch, 'bundle-child.mjs');
  await build({
    entryPoints: [source],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
  });
  return outfile;
}

function timed(command: string, args: string[], cwd?: string): { ms: number; stdout: string } {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 20 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0)
    throw new Error(`${command} failed (${result.status}): ${result.stderr.slice(-500)}`);
  return { ms, stdout: result.stdout };
}

async function main(): Promise<void> {
  if (!hasCommand('zip'))
    throw new Error('zip is not installed; it is the peer this benchmark compares with');
  const generated = generateWorkspace();
  const child = await buildChild();
  const keylessOut = join(scratch, 'keyless.zip');
  const zipOut = join(scratch, 'zip.zip');
  const keylessTimes: number[] = [];
  const zipTimes: number[] = [];
  let peakRssKb = 0;
  let last: { bytes: number; entries: number; stored: number; deflated: number; ms: number } | undefined;
  const runKeyless = () => {
    rmSync(keylessOut, { force: true });
    const keyless = timed(process.execPath, [child, workspace, keylessOut]);
    last = JSON.parse(keyless.stdout.trim().split('\n').at(-1)!) as typeof last & { maxRssKb: number };
    peakRssKb = Math.max(peakRssKb, (last as unknown as { maxRssKb: number }).maxRssKb);
    return keyless.ms;
  };
  const runZip = () => {
    rmSync(zipOut, { force: true });
    // zip -r follows symlinks and stores .git; the generated workspace has neither, so the work is equal.
    return timed('zip', ['-qr', zipOut, '.'], workspace).ms;
  };
  // One untimed pass first: whoever went first would otherwise read 328 MB from disk for both (the other
  // benchmarks push the workspace out of the page cache); then alternate who goes first.
  runKeyless();
  for (let run = 0; run < RUNS; run++) {
    if (run % 2 === 0) {
      keylessTimes.push(runKeyless());
      zipTimes.push(runZip());
    } else {
      zipTimes.push(runZip());
      keylessTimes.push(runKeyless());
    }
  }
  const check = spawnSync('unzip', ['-tq', keylessOut], { encoding: 'utf8' });
  if (check.status !== 0)
    throw new Error(`unzip -t rejected Keyless's archive: ${check.stdout}${check.stderr}`);
  const keylessMs = Math.round(median(keylessTimes));
  const zipMs = Math.round(median(zipTimes));
  const ratio = zipMs / keylessMs;
  const peakMb = Math.round(peakRssKb / 1024);
  printResult(
    {
      measure: `bundle ${generated.files.toLocaleString('en-US')} files / ${Math.round(generated.bytes / 1e6)} MB`,
      keyless: keylessMs,
      peer: zipMs,
      peerName: 'zip -qr',
      unit: 'ms',
      ratio,
      target: '>= 2x faster, peak RSS < 200 MB',
      met: ratio >= 2 && peakMb < 200,
      note: `peak RSS ${peakMb} MB`,
    },
    {
      keylessRunsMs: keylessTimes.map(Math.round),
      zipRunsMs: zipTimes.map(Math.round),
      keylessPeakRssMb: peakMb,
      keylessZipBytes: last?.bytes,
      zipZipBytes: statSync(zipOut).size,
      entries: last?.entries,
      stored: last?.stored,
      deflated: last?.deflated,
      cores: (await import('node:os')).availableParallelism(),
    },
  );
}

await main();
