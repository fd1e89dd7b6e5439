// Packages the staged extension (dist/extension, written by build.mjs) into a .vsix with the local tfx.
//   node packages/azure-pipelines/package.mjs [--dist-dir DIR]
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, realpath, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const packageDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(packageDir, '../..');

/** The Marketplace and Azure DevOps Server reject larger packages (25 MiB). */
export const MAX_VSIX_BYTES = 26_214_400;
const TFX_TIMEOUT_MS = 60_000;

export class PackageError extends Error {}

/** Runs `tfx extension create` on distDir/extension and returns the .vsix written into distDir. */
export async function packageExtension({ distDir = join(packageDir, 'dist') } = {}) {
  const root = join(distDir, 'extension');
  if (!existsSync(join(root, 'vss-extension.json'))) {
    throw new PackageError(`${relative(process.cwd(), root)} is not staged: run \`npm run build\` first.`);
  }
  for (const entry of await readdir(distDir)) {
    if (entry.endsWith('.vsix')) await rm(join(distDir, entry));
  }
  const tfx = await realpath(join(repoRoot, 'node_modules/.bin/tfx'));
  const args = ['extension', 'create', '--root', root, '--manifest-globs', 'vss-extension.json'];
  // --no-prompt: fail instead of waiting for input; --json: a parseable result. TFX_BYPASS_CACHE keeps it from
  // reading a cached login (`extension create` needs no service). It makes no network call, and the timeout
  // guards against that ever changing.
  args.push('--output-path', distDir, '--no-prompt', '--no-color', '--json');
  const { code, stdout, stderr, timedOut } = await run(process.execPath, [tfx, ...args], {
    cwd: repoRoot,
    env: { ...process.env, TFX_BYPASS_CACHE: '1', NO_UPDATE_NOTIFIER: '1' },
  });
  if (timedOut) throw new PackageError(`tfx did not finish within ${TFX_TIMEOUT_MS / 1000} s.`);
  if (code !== 0) throw new PackageError(`tfx extension create failed (exit ${code}):\n${stderr || stdout}`);
  // tfx only warns about an invalid task.json ("in the future, this warning will be treated as an error").
  const warnings = stdout
    .split('\n')
    .filter((line) => line.startsWith('warning: '))
    .map((line) => line.slice('warning: '.length));
  if (warnings.length > 0) throw new PackageError(`tfx rejected the extension:\n  ${warnings.join('\n  ')}`);
  const jsonStart = stdout.indexOf('{');
  const result = JSON.parse(stdout.slice(jsonStart));
  const bytes = (await stat(result.path)).size;
  if (bytes > MAX_VSIX_BYTES) {
    throw new PackageError(
      `${result.path} is ${bytes} bytes; the Marketplace limit is ${MAX_VSIX_BYTES}. See dist/build-report.json.`,
    );
  }
  return { path: result.path, bytes, version: result.version };
}

function run(command, args, options) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, TFX_TIMEOUT_MS);
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr, timedOut });
    });
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { 'dist-dir': { type: 'string' } } });
  try {
    const vsix = await packageExtension({ distDir: values['dist-dir'] && resolve(values['dist-dir']) });
    console.log(
      `${relative(process.cwd(), vsix.path)} (${(vsix.bytes / 1048576).toFixed(2)} MiB, ${vsix.bytes} bytes)`,
    );
  } catch (error) {
    if (!(error instanceof PackageError)) throw error;
    console.error(`error: ${error.message}`);
    process.exitCode = 1;
  }
}
