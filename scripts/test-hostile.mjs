// `npm run test:hostile`: the hostile suite in its full form — 20 faulted runs of the sample pipeline, the
// multi-minute session-expiry deployment, interruption, the sandbox's own security, the bad-input catalogue —
// then the whole-suite secret scan, then the counts and node's test summary (the last lines, for CI).
// `npm test` runs the same files in their short form (2 runs, no long case), each scanning its own outputs.
// Usage: node scripts/test-hostile.mjs [substring filters…]
// Env: KEYLESS_HOSTILE_RUNS (default 20), KEYLESS_HOSTILE_LONG (default 1), KEYLESS_HOSTILE_SEED (replay),
//      KEYLESS_HOSTILE_CONCURRENCY (default 3), KEYLESS_HOSTILE_ARTIFACTS (default a fresh temp folder,
//      removed after a passing run).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, testFiles } from './test-files.mjs';

const filters = process.argv.slice(2);
const started = Date.now();

/** Hostile files, plus the bad-input catalogue (its own file name, from before the suite existed). */
const catalogue = 'packages/cli/test/errors-catalogue.test.ts';
const all = [...testFiles('.hostile.test.ts'), ...(existsSync(join(root, catalogue)) ? [catalogue] : [])]
  .filter((file) => filters.length === 0 || filters.some((needle) => file.includes(needle)))
  .sort();
const scan = all.filter((file) => file.endsWith('secrets.hostile.test.ts'));
const first = all.filter((file) => !scan.includes(file));
if (all.length === 0) {
  console.error(`No hostile test files match ${filters.join(' ')}`);
  process.exit(1);
}

const ownArtifacts = !process.env.KEYLESS_HOSTILE_ARTIFACTS;
const artifacts =
  process.env.KEYLESS_HOSTILE_ARTIFACTS || (await mkdtemp(join(tmpdir(), 'keyless-hostile-')));
await mkdir(artifacts, { recursive: true });
const env = {
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  KEYLESS_HOSTILE_RUNS: '20',
  KEYLESS_HOSTILE_LONG: '1',
  ...process.env,
  KEYLESS_HOSTILE_ARTIFACTS: artifacts,
};
const concurrency = process.env.KEYLESS_HOSTILE_CONCURRENCY ?? '3';

/** Runs test files with node's runner: the spec report on stdout, a TAP copy to read the totals from. */
function runTests(files, phase) {
  const tap = join(artifacts, `${phase}.tap`);
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--test',
        `--test-concurrency=${concurrency}`,
        '--test-reporter=spec',
        '--test-reporter-destination=stdout',
        '--test-reporter=tap',
        `--test-reporter-destination=${tap}`,
        ...files,
      ],
      { cwd: root, stdio: 'inherit', env },
    );
    child.on('exit', async (code, signal) => {
      const text = await readFile(tap, 'utf8').catch(() => '');
      const totals = {};
      for (const match of text.matchAll(
        /^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ([\d.]+)$/gm,
      ))
        totals[match[1]] = Number(match[2]);
      resolve({ ok: code === 0 && !signal, totals });
    });
  });
}

console.log(
  `Hostile suite: ${first.length} files (${env.KEYLESS_HOSTILE_RUNS} faulted runs, long case ${env.KEYLESS_HOSTILE_LONG === '1' ? 'on' : 'off'}, ${concurrency} at a time), then the secret scan; artifacts in ${artifacts}\n`,
);
const phases = [];
if (first.length > 0) phases.push(await runTests(first, 'hostile'));
if (scan.length > 0) phases.push(await runTests(scan, 'secrets'));

// The counts each file handed in.
const readJson = async (name) => JSON.parse(await readFile(join(artifacts, name), 'utf8'));
let faults = 0;
let requests = 0;
let runs = 0;
for (const name of await readdir(artifacts)) {
  if (!name.endsWith('.report.json')) continue;
  const { counts = {} } = await readJson(name);
  faults += counts.faultsInjected ?? 0;
  requests += counts.awsRequests ?? 0;
  runs += counts.runsCompleted ?? 0;
}
const badInputs = await readJson('bad-inputs.json').catch(() => undefined);
const secretScan = await readJson('secrets-scan.json').catch(() => undefined);

const totals = {};
for (const key of ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo'])
  totals[key] = phases.reduce((sum, phase) => sum + (phase.totals[key] ?? 0), 0);
totals.duration_ms = Date.now() - started;
const ok = phases.every((phase) => phase.ok);

console.log('\nHostile suite counts');
console.log(`  faults injected   ${faults}${requests ? ` (into ${requests} AWS requests)` : ''}`);
console.log(`  runs completed    ${runs}`);
console.log(`  bad inputs tried  ${badInputs?.tried ?? 'not run (no bad-inputs.json)'}`);
console.log(
  `  secrets scanned   ${
    secretScan
      ? `${secretScan.secrets} secrets in ${secretScan.texts} texts (${(secretScan.bytes / 1e6).toFixed(1)} MB): ${secretScan.hits} hits`
      : 'not scanned'
  }`,
);
if (ownArtifacts && ok) await rm(artifacts, { recursive: true, force: true });
else console.log(`  artifacts         ${artifacts}`);
console.log('');
for (const [key, value] of Object.entries(totals)) console.log(`ℹ ${key} ${value}`);
process.exit(ok ? 0 : 1);
