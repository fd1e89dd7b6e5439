// `npm run test:node24`: the whole test suite again on Node 24, the other runtime the tasks declare
// (handler Node24) and the CLI supports, on a machine that only has Node 20 installed. Node's own binaries
// are published to the npm registry as node-<platform>-<arch>, so the one npm already reaches is enough: the
// package is fetched once into .keyless/node24/ and put first on PATH, so every process the tests start
// (CLI, task bundles, the sandbox) runs on it too.
// Usage: node scripts/test-node24.mjs [substring filters…]   Env: KEYLESS_NODE24_VERSION (default 24).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { root } from './test-files.mjs';

const spec = `node-${process.platform}-${process.arch}@${process.env.KEYLESS_NODE24_VERSION ?? '24'}`;
const home = join(root, '.keyless', 'node24');
const bin = join(home, 'package', 'bin');

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) {
    console.error(`test:node24: \`${command} ${args.join(' ')}\` failed (exit ${result.status}).`);
    process.exit(1);
  }
}

if (!existsSync(join(bin, 'node'))) {
  mkdirSync(home, { recursive: true });
  console.error(`test:node24: fetching ${spec} from the npm registry…`);
  run('npm', ['pack', spec, '--silent'], { cwd: home, stdio: ['ignore', 'ignore', 'inherit'] });
  const archive = readdirSync(home).find((name) => name.endsWith('.tgz'));
  if (!archive) {
    console.error(`test:node24: npm pack ${spec} left no archive in ${home}.`);
    process.exit(1);
  }
  run('tar', ['xzf', archive], { cwd: home });
}

const version = spawnSync(join(bin, 'node'), ['--version'], { encoding: 'utf8' }).stdout.trim();
if (!version.startsWith('v24.')) {
  console.error(
    `test:node24: ${join(bin, 'node')} is ${version || 'not runnable'}; remove ${home} and retry.`,
  );
  process.exit(1);
}
console.error(`test:node24: running the tests on Node ${version}`);
const child = spawn(join(bin, 'node'), [join(root, 'scripts', 'run-tests.mjs'), ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` },
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
