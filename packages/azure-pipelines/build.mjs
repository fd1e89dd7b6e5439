// Builds the Azure DevOps extension's tasks: one minified CommonJS bundle per task (dist/tasks/<Name>/), and
// the staging root tfx packages (dist/extension/). Run by the root build; on its own:
//   node packages/azure-pipelines/build.mjs [--out-dir DIR] [--tasks-dir DIR] [--require-all]
import { build } from 'esbuild';
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isDeepStrictEqual, parseArgs } from 'node:util';

const packageDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(packageDir, '../..');

/** The permanent identity of each task: agents and YAML may refer to a task by this GUID, so it never changes. */
export const TASK_IDS = {
  AWSCredentials: 'bf3e2d7a-4a1c-4fc7-9db8-357e842a4fd4',
  CloudFormationCreateOrUpdateStack: 'd44f3567-08b2-498f-9aeb-a11a32de729f',
  CloudFormationDeleteStack: '71a3e226-b724-4c96-b6dd-dc0c97679dec',
  CloudFormationExecuteChangeSet: 'ed40b44c-b53d-4e6c-92ae-d34ab7a51d38',
  CodeDeployDeployApplication: '62d42cc4-97e7-4269-9e46-64d9963b392a',
  AWSShellScript: '5e72508d-17bd-4570-9d02-b0d997235fe1',
  AWSCLI: '28b332cc-e50a-4e04-9043-eea4e38f7bf8',
  S3Upload: '435b0e38-bf1c-4486-bd21-b6a408c61be4',
};

/** The handlers every task.json must declare, verbatim; the build checks rather than rewrites them. */
export const EXECUTION = { Node20_1: { target: 'index.js' }, Node24: { target: 'index.js' } };

const TASK_TYPE = 'ms.vss-distributed-task.task';

export class BuildError extends Error {}

/**
 * Builds every task under tasksDir into outDir. Tasks whose folder lacks task.json or index.ts are skipped
 * with a warning (they are being written), unless requireAll is set. Returns what was built.
 */
export async function buildExtension({
  tasksDir = join(packageDir, 'tasks'),
  outDir = join(packageDir, 'dist'),
  requireAll = false,
  log = (line) => console.log(line),
} = {}) {
  const started = Date.now();
  const version = await releaseVersion();
  const manifest = JSON.parse(await readFile(join(packageDir, 'vss-extension.json'), 'utf8'));
  const declared = manifest.contributions
    .filter((contribution) => contribution.type === TASK_TYPE)
    .map((contribution) => basename(contribution.properties.name));
  const validateTaskManifest = await loadValidator();

  const found = existsSync(tasksDir)
    ? (await readdir(tasksDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name)
    : [];
  const undeclared = found.filter((name) => !declared.includes(name));
  if (undeclared.length > 0) {
    throw new BuildError(
      `tasks/${undeclared.join(', tasks/')} ${undeclared.length === 1 ? 'is' : 'are'} not declared in ` +
        'vss-extension.json: add a task contribution and a files entry for each, or remove the folder.',
    );
  }
  const ready = [];
  const missing = [];
  for (const name of declared) {
    const dir = join(tasksDir, name);
    const lacking = ['task.json', 'index.ts'].filter((file) => !existsSync(join(dir, file)));
    if (lacking.length === 0) ready.push(name);
    else missing.push(`${name} (no ${lacking.join(', no ')})`);
  }
  if (missing.length > 0) {
    if (requireAll) throw new BuildError(`Tasks not ready: ${missing.join('; ')}.`);
    log(`warning: skipping tasks not written yet: ${missing.join('; ')}`);
  }

  const tasks = await Promise.all(
    ready.map((name) => readTaskManifest(name, join(tasksDir, name), version, validateTaskManifest)),
  );
  const ids = new Map();
  for (const task of tasks) {
    const other = ids.get(task.json.id.toLowerCase());
    if (other) throw new BuildError(`tasks/${task.name} and tasks/${other} share the id ${task.json.id}.`);
    ids.set(task.json.id.toLowerCase(), task.name);
  }

  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  // dist/ sits inside an ESM package ("type": "module"), which would make Node load the CommonJS bundles as
  // ESM when the local runner starts them; an agent has no package.json above the task folder. Not packaged.
  await writeFile(join(outDir, 'package.json'), '{ "type": "commonjs" }\n');
  const results = await bundleTasks(tasks, join(outDir, 'tasks'));
  await writeFile(join(outDir, 'build-report.json'), JSON.stringify(buildReport(results), null, 2) + '\n');
  await stageExtension(manifest, version, tasks, outDir);

  const total = results.reduce((sum, result) => sum + result.bytes, 0);
  log(
    `azure-pipelines: built ${results.length} task(s), ${(total / 1048576).toFixed(1)} MiB of bundles, ` +
      `version ${version.text}, in ${Date.now() - started} ms`,
  );
  return { version: version.text, outDir, tasks: results.map((r) => r.name), skipped: missing };
}

async function releaseVersion() {
  const { version } = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8'));
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(version ?? '');
  if (!match)
    throw new BuildError(`packages/azure-pipelines/package.json version "${version}" is not x.y.z.`);
  const [Major, Minor, Patch] = match.slice(1).map(Number);
  // Pipelines reference the tasks as `Name@1`; another Major would silently strand every pipeline.
  if (Major !== 1)
    throw new BuildError(`The release version must stay 1.x.y (tasks are @1), not ${version}.`);
  return { text: version, task: { Major, Minor, Patch } };
}

// The validator is TypeScript shared with the tests; compile it in memory so this script stays plain Node.
async function loadValidator() {
  const compiled = await build({
    entryPoints: [join(packageDir, 'src/manifest/validate.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    logLevel: 'error',
  });
  const code = compiled.outputFiles[0].text;
  const module = await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
  return module.validateTaskManifest;
}

async function readTaskManifest(name, dir, version, validateTaskManifest) {
  const file = relative(repoRoot, join(dir, 'task.json'));
  let json;
  try {
    json = JSON.parse(await readFile(join(dir, 'task.json'), 'utf8'));
  } catch (error) {
    throw new BuildError(`${file} is not valid JSON: ${error.message}`);
  }
  const problems = validateTaskManifest(json, file);
  if (json.name !== name) problems.push(`${file}: name: "${json.name}" must equal its folder name "${name}"`);
  if (TASK_IDS[name] && String(json.id).toLowerCase() !== TASK_IDS[name])
    problems.push(`${file}: id: must stay ${TASK_IDS[name]} (a task's GUID never changes)`);
  if (!isDeepStrictEqual(json.execution, EXECUTION))
    problems.push(`${file}: execution: must be exactly ${JSON.stringify(EXECUTION)}`);
  if (json.version?.Major !== version.task.Major)
    problems.push(`${file}: version.Major: must be ${version.task.Major} (the build stamps Minor and Patch)`);
  if (problems.length > 0) throw new BuildError(`Invalid task manifest:\n  ${problems.join('\n  ')}`);
  return { name, dir, json: { ...json, version: version.task } };
}

// Bundling hazards, checked against the installed versions:
// - shelljs used `require('./src/' + cmd)`, which a bundler cannot follow (the AWS toolkit patched it). shelljs
//   0.10 requires its commands statically, and task-lib 5.x no longer imports shelljs at all; shelljs's exec()
//   would still need src/exec-child.js on disk beside __dirname, so the bundle is refused if shelljs shows up.
// - task-lib 5.x embeds its own messages (lib-resource.js) instead of reading lib.json at run time; lib.json is
//   still shipped beside the bundle for older task-lib code paths. Its only dynamic require is
//   `require(resourceFile)` for a task's own setResourcePath(path.join(__dirname, 'task.json')): left to Node's
//   require at run time, and __dirname is the task folder in a CommonJS bundle, so the path is right.
// - task-lib keeps process-wide state (input vault, known variables) in module scope: two copies would split
//   it, so the metafile must show exactly one task.js.
// - A CommonJS bundle has no import.meta; define import.meta.url from __filename so ESM sources still work.
// Start-up (issue 5, bench/task-startup.ts): every task is a new process, and on Node 20 (no compile cache) most
// of its start-up is V8 compiling and running the bundle, so a bundle holds only what its task can use and
// loads nothing it does not need:
// - mainFields puts "module" first, so the AWS SDK's ES builds (dist-es, "sideEffects": false) are tree-shaken
//   to the commands and schemas core uses. Their CommonJS builds (dist-cjs, esbuild's default for platform
//   node) are one module per client holding every command of the service, all evaluated at load.
// - The SDK's default credential chain is left out (withoutSdkDefaultCredentialChain below).
// - import() of what stays external (node:http, which the SDK loads only for an http:// endpoint such as the
//   sandbox's) becomes require(): a real import() first starts Node's ES module loader, ~7 ms.
// With core's template.ts no longer calling toLocaleString (ICU, ~15 ms): 7.2 -> 4.6 MiB of bundles, and
// CloudFormationCreateOrUpdateStack's spawn to first request 180 -> 115 ms on an idle 2-core machine.
async function bundleTasks(tasks, tasksOutDir) {
  if (tasks.length === 0) return [];
  // One esbuild run with an entry point per task: each output is still a self-contained bundle, but the
  // shared code (SDK, core, task-lib) is parsed once instead of once per task.
  const result = await build({
    entryPoints: Object.fromEntries(tasks.map((task) => [`${task.name}/index`, join(task.dir, 'index.ts')])),
    outdir: tasksOutDir,
    bundle: true,
    splitting: false,
    platform: 'node',
    mainFields: ['module', 'main'],
    plugins: [withoutSdkDefaultCredentialChain],
    format: 'cjs',
    target: 'node20',
    supported: { 'dynamic-import': false },
    minify: true,
    legalComments: 'none',
    sourcemap: false,
    metafile: true,
    // Metafile paths relative to the repository (packages/core/src/…, node_modules/…) whatever the cwd.
    absWorkingDir: repoRoot,
    logLevel: 'warning',
    define: { 'import.meta.url': '__keylessImportMetaUrl' },
    banner: { js: 'var __keylessImportMetaUrl=require("url").pathToFileURL(__filename).href;' },
  }).catch((error) => {
    // esbuild has already printed the located errors (with the task's file names).
    throw new BuildError(`Bundling the tasks failed (${error.errors?.length ?? 1} error(s) above).`);
  });
  const outputs = new Map(
    Object.entries(result.metafile.outputs).map(([path, output]) => [resolve(repoRoot, path), output]),
  );
  return Promise.all(
    tasks.map(async (task) => {
      const outDir = join(tasksOutDir, task.name);
      const output = outputs.get(join(outDir, 'index.js'));
      if (!output) throw new BuildError(`tasks/${task.name}: esbuild wrote no index.js.`);
      const taskLib = checkBundleInputs(task.name, Object.keys(output.inputs));
      await copyTaskFiles(task, outDir, join(repoRoot, dirname(taskLib), 'lib.json'));
      return { name: task.name, bytes: (await stat(join(outDir, 'index.js'))).size, inputs: output.inputs };
    }),
  );
}

/**
 * The SDK's default credential chain (environment, ~/.aws files, SSO, credential_process, web identity, IMDS,
 * with SSO, OIDC and STS clients of its own: ~125 KB of every bundle) is imported by each client's runtimeConfig
 * but never runs: core passes `credentials` to every client (noAmbientCredentials where a call needs none) and
 * never lets the SDK guess. In its place, a provider that fails saying so, should a client ever lack them.
 */
const withoutSdkDefaultCredentialChain = {
  name: 'keyless-without-sdk-default-credential-chain',
  setup(build) {
    build.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, () => ({
      path: 'sdk-default-credential-chain',
      namespace: 'keyless',
    }));
    build.onLoad({ filter: /.*/, namespace: 'keyless' }, () => ({
      loader: 'js',
      contents: `export const defaultProvider = () => async () => {
  throw new Error("The AWS SDK's default credential chain is not part of the Keyless tasks: every AWS client gets the task's credentials. This is a Keyless bug; please report it.");
};`,
    }));
  },
};

function checkBundleInputs(name, inputs) {
  const taskLibCopies = inputs.filter((path) => /(^|\/)azure-pipelines-task-lib\/task\.js$/.test(path));
  if (taskLibCopies.length !== 1) {
    throw new BuildError(
      `tasks/${name}: the bundle must hold exactly one azure-pipelines-task-lib, found ` +
        `${taskLibCopies.length}${taskLibCopies.length ? ` (${taskLibCopies.join(', ')})` : ''}. ` +
        'Import it only through src/task-lib.ts and dedupe node_modules.',
    );
  }
  const shelljs = inputs.filter((path) => /(^|\/)node_modules\/shelljs\//.test(path));
  if (shelljs.length > 0) {
    throw new BuildError(
      `tasks/${name}: shelljs was bundled (via ${shelljs[0]}); its exec() loads src/exec-child.js from ` +
        'disk, which a single-file bundle lacks. Use node:child_process or task-lib instead.',
    );
  }
  return taskLibCopies[0];
}

// lib.json comes from the very task-lib copy that was bundled, so its messages match its code.
async function copyTaskFiles(task, outDir, libJson) {
  await writeFile(join(outDir, 'task.json'), JSON.stringify(task.json, null, 2) + '\n');
  await cp(libJson, join(outDir, 'lib.json'));
  const icon = existsSync(join(task.dir, 'icon.png'))
    ? join(task.dir, 'icon.png')
    : join(packageDir, 'images/icon.png');
  await cp(icon, join(outDir, 'icon.png'));
  // A task's own localisation, if it has any: task-lib looks for Strings/ beside the task.json it is given.
  for (const extra of ['task.loc.json', 'Strings']) {
    if (existsSync(join(task.dir, extra)))
      await cp(join(task.dir, extra), join(outDir, extra), { recursive: true });
  }
}

function buildReport(results) {
  const tasks = {};
  for (const result of results) {
    const packages = {};
    const inputs = Object.entries(result.inputs)
      .map(([path, { bytesInOutput }]) => [path, bytesInOutput])
      .sort((a, b) => b[1] - a[1]);
    for (const [path, bytes] of inputs) packages[packageOf(path)] = (packages[packageOf(path)] ?? 0) + bytes;
    tasks[result.name] = {
      bundleBytes: result.bytes,
      packages: Object.fromEntries(Object.entries(packages).sort((a, b) => b[1] - a[1])),
      inputs: Object.fromEntries(inputs),
    };
  }
  return { note: 'bytesInOutput per bundle input, from the esbuild metafile', tasks };
}

function packageOf(path) {
  const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path.split(sep).join('/'));
  if (match) return match[1];
  return path.split('/').slice(0, 2).join('/');
}

async function stageExtension(manifest, version, tasks, outDir) {
  const stage = join(outDir, 'extension');
  const built = new Set(tasks.map((task) => `tasks/${task.name}`));
  // Tasks still being written are left out of the manifest, or tfx would fail on their missing folders.
  const stamped = {
    ...manifest,
    version: version.text,
    files: manifest.files.filter((file) => !file.path.startsWith('tasks/') || built.has(file.path)),
    contributions: manifest.contributions.filter(
      (contribution) => contribution.type !== TASK_TYPE || built.has(contribution.properties.name),
    ),
  };
  await mkdir(join(stage, 'tasks'), { recursive: true });
  await writeFile(join(stage, 'vss-extension.json'), JSON.stringify(stamped, null, 2) + '\n');
  await cp(join(packageDir, 'images'), join(stage, 'images'), { recursive: true });
  for (const task of tasks) {
    await cp(join(outDir, 'tasks', task.name), join(stage, 'tasks', task.name), { recursive: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      'out-dir': { type: 'string' },
      'tasks-dir': { type: 'string' },
      'require-all': { type: 'boolean', default: false },
    },
  });
  try {
    await buildExtension({
      outDir: values['out-dir'] && resolve(values['out-dir']),
      tasksDir: values['tasks-dir'] && resolve(values['tasks-dir']),
      requireAll: values['require-all'],
    });
  } catch (error) {
    if (!(error instanceof BuildError)) throw error;
    console.error(`error: ${error.message}`);
    process.exitCode = 1;
  }
}
