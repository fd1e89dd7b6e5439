// Runs every package's tests with node's own test runner (TypeScript through tsx).
// Usage: node scripts/run-tests.mjs [substring filters…]
import { spawn } from 'node:child_process';
import { root, testFiles } from './test-files.mjs';

const filters = process.argv.slice(2);

const files = testFiles('.test.ts').filter(
  (f) => filters.length === 0 || filters.some((needle) => f.includes(needle)),
);
if (files.length === 0) {
  console.error(`No test files match ${filters.join(' ')}`);
  process.exit(1);
}
// Test files are mostly I/O bound (servers, child processes), so run more of them than there are cores.
const concurrency = process.env.KEYLESS_TEST_CONCURRENCY ?? '6';
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  // The SDK warns about its future Node support on every client under Node 20; it is noise in test logs.
  {
    cwd: root,
    stdio: 'inherit',
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...process.env },
  },
);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
