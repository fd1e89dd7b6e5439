// `npm run bench`: runs every benchmark in bench/ (each measures Keyless and a peer in the same run),
// prints one table, and writes it to bench/results/ as JSON and Markdown. Each benchmark gets two minutes;
// the whole run's duration is printed at the end (the budget is ten minutes on a 2-core machine).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { repoRoot, type BenchResult } from './lib';

const perBenchTimeoutMs = Number(process.env.BENCH_TIMEOUT_MS ?? 120_000);
const benchDir = join(repoRoot, 'bench');
const only = process.argv.slice(2);
const files = readdirSync(benchDir)
  .filter((name) => name.endsWith('.ts') && !['lib.ts', 'run.ts'].includes(name))
  .filter((name) => only.length === 0 || only.some((needle) => name.includes(needle)))
  .sort();

interface Row extends Partial<BenchResult> {
  file: string;
  seconds: number;
  /** Why there is no result (exit code, timeout). */
  failure?: string;
  details?: Record<string, unknown>;
}

/**
 * Runs one benchmark file in its own process group, echoing its output; on timeout the whole group is killed,
 * so a sandbox or moto server it started cannot outlive it (or keep its output pipe open).
 */
async function runBench(
  path: string,
): Promise<{ stdout: string; code: number | null; signal: string | null; timedOut: boolean }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
    // The SDK's "Node 22 soon" notice, once per process, is noise in every benchmark's output.
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    process.stdout.write(chunk);
  });
  let timedOut = false;
  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, perBenchTimeoutMs);
  const closed = once(child, 'close');
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  clearTimeout(timer);
  // Anything the benchmark left running (it should have stopped its servers) goes with it; then the rest of
  // its output is read.
  killGroup();
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5_000))]);
  return { stdout, code, signal, timedOut };
}

const runStarted = performance.now();
const rows: Row[] = [];
for (const file of files) {
  console.log(`\n== ${file}`);
  const started = performance.now();
  const run = await runBench(join(benchDir, file));
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  const last = run.stdout.trim().split('\n').at(-1) ?? '';
  try {
    rows.push({ file, seconds, ...(JSON.parse(last) as BenchResult) });
    console.log(`(${file}: ${seconds} s)`);
  } catch {
    const failure = run.timedOut
      ? `timed out after ${perBenchTimeoutMs / 1000} s`
      : `no result (exit ${run.code}${run.signal ? `, ${run.signal}` : ''})`;
    console.error(`${file}: ${failure}`);
    rows.push({ file, seconds, failure });
  }
}
const totalSeconds = Math.round((performance.now() - runStarted) / 1000);

const cell = (text: string) => text.replaceAll('|', '\\|');
const table = rows.map((r) =>
  r.failure
    ? [r.file, '—', '—', '—', '—', `NO RESULT: ${r.failure}`, `${r.seconds} s`]
    : [
        r.measure!,
        `${r.keyless} ${r.unit}${r.note ? ` (${r.note})` : ''}`,
        `${r.peer} ${r.unit} (${r.peerName}${r.peerNote ? `; ${r.peerNote}` : ''})`,
        `${r.ratio!.toFixed(2)}x`,
        r.target!,
        r.met ? 'met' : 'NOT MET',
        `${r.seconds} s`,
      ],
);
const header = ['measure', 'keyless', 'peer', 'ratio', 'target', 'result', 'bench time'];
const markdown = [
  `| ${header.join(' | ')} |`,
  `|${header.map(() => '---').join('|')}|`,
  ...table.map((row) => `| ${row.map(cell).join(' | ')} |`),
].join('\n');
const summary =
  `${rows.filter((r) => r.met).length} of ${rows.length} targets met; whole run ${totalSeconds} s ` +
  `(${Math.floor(totalSeconds / 60)} min ${totalSeconds % 60} s) on ${availableParallelism()} cores, Node ${process.version}`;
console.log(`\n${markdown}\n\n${summary}`);
mkdirSync(join(benchDir, 'results'), { recursive: true });
writeFileSync(
  join(benchDir, 'results', 'results.json'),
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      cores: availableParallelism(),
      totalSeconds,
      benchmarks: rows,
    },
    null,
    2,
  )}\n`,
);
writeFileSync(join(benchDir, 'results', 'results.md'), `${markdown}\n\n${summary}\n`);
process.exitCode = rows.every((r) => !r.failure) ? 0 : 1;
