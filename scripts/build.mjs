// Bundles the CLI so `keyless` starts fast: no TypeScript compile at run time, and ESM code splitting so
// each command loads only its own code (the sandbox's code is not parsed by `keyless credentials`).
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'packages/cli/dist');

await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: { keyless: join(root, 'packages/cli/src/cli.ts') },
  outdir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Some CommonJS dependencies call require() for Node built-ins; give the ESM bundle one.
  banner: {
    js: "import { createRequire as __keylessCreateRequire } from 'node:module'; const require = __keylessCreateRequire(import.meta.url);",
  },
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
});

// The Azure DevOps extension's task bundles and tfx staging root (packages/azure-pipelines/dist).
const { buildExtension, BuildError } = await import('../packages/azure-pipelines/build.mjs');
try {
  await buildExtension();
} catch (error) {
  if (!(error instanceof BuildError)) throw error;
  console.error(`error: ${error.message}`);
  process.exit(1);
}
