// Shared helpers for benchmarks: each benchmark measures Keyless and a peer in the same run and prints a ratio.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));
export const cliBundle = join(repoRoot, 'packages/cli/dist/keyless.mjs');

export interface BenchResult {
  measure: string;
  keyless: number;
  peer: number;
  peerName: string;
  unit: string;
  /** How many times better Keyless is (peer/keyless for times, keyless/peer for rates). */
  ratio: number;
  target: string;
  met: boolean;
  /** A short second figure shown next to Keyless's (e.g. peak memory, calls per minute). */
  note?: string;
  /** The same for the peer. */
  peerNote?: string;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Wall time of one command run to completion, in milliseconds; throws if it fails. */
export function timeCommand(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { env, encoding: 'utf8' });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr.slice(-500)}`);
  }
  return elapsed;
}

export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

/** Starts `keyless sandbox --port 0` in its own process and returns its URL. */
export async function startSandboxProcess(
  args: string[] = [],
): Promise<{ url: string; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, [cliBundle, 'sandbox', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
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
    async stop() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

export function printResult(result: BenchResult, details: Record<string, unknown> = {}): void {
  console.log(
    `${result.measure}: keyless ${result.keyless} ${result.unit}, ${result.peerName} ${result.peer} ${result.unit}, ` +
      `ratio ${result.ratio.toFixed(2)}x (target ${result.target}) ${result.met ? 'MET' : 'NOT MET'}`,
  );
  // Last line: machine-readable, collected by bench/run.ts.
  console.log(JSON.stringify({ ...result, details }));
}
