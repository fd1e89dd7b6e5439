// `npm run bench`: runs every benchmark in bench/ (each measures Keyless and a peer in the same run),
// prints one table, and writes it to bench/results/ as JSON and Markdown.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, type BenchResult } from './lib';

const benchDir = join(repoRoot, 'bench');
const only = process.argv.slice(2);
const files = readdirSync(benchDir)
  .filter((name) => name.endsWith('.ts') && !['lib.ts', 'run.ts'].includes(name))
  .filter((name) => only.length === 0 || only.some((needle) => name.includes(needle)))
  .sort();

const results: BenchResult[] = [];
for (const file of files) {
  console.log(`\n== ${file}`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(benchDir, file)], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 240_000,
  });
  process.stdout.write(run.stdout);
  const last = run.stdout.trim().split('\n').at(-1) ?? '';
  try {
    results.push(JSON.parse(last) as BenchResult);
  } catch {
    console.error(`${file} produced no result (exit ${run.status}${run.signal ? `, ${run.signal}` : ''})`);
  }
}

const rows = results.map((r) => [
  r.measure,
  `${r.keyless} ${r.unit}`,
  `${r.peer} ${r.unit} (${r.peerName})`,
  `${r.ratio.toFixed(2)}x`,
  r.target,
  r.met ? 'met' : 'NOT MET',
]);
const header = ['measure', 'keyless', 'peer', 'ratio', 'target', 'result'];
const markdown = [
  `| ${header.join(' | ')} |`,
  `|${header.map(() => '---').join('|')}|`,
  ...rows.map((row) => `| ${row.join(' | ')} |`),
].join('\n');
console.log(`\n${markdown}`);
mkdirSync(join(benchDir, 'results'), { recursive: true });
writeFileSync(join(benchDir, 'results', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(benchDir, 'results', 'results.md'), `${markdown}\n`);
process.exitCode = results.length === files.length ? 0 : 1;
