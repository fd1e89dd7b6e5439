import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, cp, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentError } from './agent-error';
import { ARCHIVES_TO_RETAIN, deploymentFiles } from './layout';
import type { InstanceLayout } from './layout';
import type { AgentDeployment, BundleType } from './types';

/**
 * DownloadBundle: fetch the revision, unpack it into deployment-archive/ with the system tools the agent uses,
 * strip a lone wrapping directory, and insist on an appspec at the root (command_executor.rb,
 * nested_appspec_handler.rb, platform/linux_util.rb).
 */

/** An object of the sandbox's S3: its bytes on disk, and its ETag when S3 knows it (multipart ETags). */
export interface FetchedObject {
  path: string;
  eTag?: string;
}

/** Resolves undefined when the object does not exist. */
export type FetchObject = (bucket: string, key: string) => Promise<string | FetchedObject | undefined>;

export const APPSPEC_NAMES = ['appspec.yml', 'appspec.yaml'] as const;
/** The agent's app_spec_path; named in its "did not find an AppSpec file" message. */
export const APPSPEC_PATH = 'appspec.yml';

export interface DownloadBundleOptions {
  layout: InstanceLayout;
  deployment: AgentDeployment;
  fetchObject: FetchObject | undefined;
  /** Host path of the group's last successful deployment directory, which cleanup never removes. */
  lastSuccessfulDeploymentDir: string | undefined;
  note: (level: 'info' | 'warn' | 'debug', message: string) => void;
}

export async function downloadBundle(options: DownloadBundleOptions): Promise<void> {
  const { layout, deployment, note } = options;
  const deploymentDir = layout.deploymentDir(deployment.deploymentGroupId, deployment.deploymentId);
  const files = deploymentFiles(deploymentDir);
  await mkdir(deploymentDir, { recursive: true });
  await cleanupOldArchives(layout.groupDir(deployment.deploymentGroupId), [
    deploymentDir,
    options.lastSuccessfulDeploymentDir,
  ]);
  await rm(files.archive, { recursive: true, force: true });

  const revision = deployment.revision;
  switch (revision.kind) {
    case 's3': {
      note(
        'debug',
        `Downloading artifact bundle from bucket '${revision.bucket}' and key '${revision.key}', version '${revision.version ?? ''}', etag '${revision.eTag ?? ''}'`,
      );
      const fetched = options.fetchObject
        ? await options.fetchObject(revision.bucket, revision.key)
        : undefined;
      // S3's NoSuchKey message, which the agent passes through as the event's diagnostics.
      if (fetched === undefined) throw new AgentError('UnknownError', 'The specified key does not exist.');
      const object = typeof fetched === 'string' ? { path: fetched } : fetched;
      await copyFile(object.path, files.bundle);
      if (revision.eTag !== undefined && revision.eTag !== '') {
        const actual = object.eTag ?? `"${await md5Hex(files.bundle)}"`;
        if (stripQuotes(revision.eTag) !== stripQuotes(actual)) {
          // command_executor.rb download_from_s3
          throw new AgentError(
            'UnknownError',
            `Expected deployment artifact bundle etag ${revision.eTag} but was actually ${actual}`,
          );
        }
      }
      note('debug', `Download complete from bucket ${revision.bucket} and key ${revision.key}`);
      await unpack(files.bundle, revision.bundleType, files.archive);
      break;
    }
    case 'archive': {
      if (!existsSync(revision.path)) {
        throw new AgentError('UnknownError', `No such file or directory @ rb_sysopen - ${revision.path}`);
      }
      await copyFile(revision.path, files.bundle);
      await unpack(files.bundle, revision.bundleType, files.archive);
      break;
    }
    case 'directory': {
      if (!(await isDirectory(revision.path))) {
        throw new AgentError('UnknownError', `No such directory - ${revision.path}`);
      }
      // codedeploy-local uses the directory itself as the unpacked revision.
      await cp(revision.path, files.archive, {
        recursive: true,
        preserveTimestamps: true,
        verbatimSymlinks: true,
      });
      break;
    }
  }

  await handleNestedAppSpec(files.archive, files.archiveTemp, note);
  if (findAppSpec(files.archive) === undefined) throw appSpecNotFound(layout, files.archive);
}

/** The appspec of an unpacked revision: appspec.yml, else appspec.yaml. */
export function findAppSpec(archiveDir: string): string | undefined {
  for (const name of APPSPEC_NAMES) {
    const path = join(archiveDir, name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

export async function readAppSpecText(layout: InstanceLayout, archiveDir: string): Promise<string> {
  const path = findAppSpec(archiveDir);
  if (path === undefined) throw appSpecNotFound(layout, archiveDir);
  return readFile(path, 'utf8');
}

/** hook_executor.rb parse_app_spec, in the instance's view of the paths. */
export function appSpecNotFound(layout: InstanceLayout, archiveDir: string): AgentError {
  const archive = layout.instancePath(archiveDir);
  return new AgentError(
    'UnknownError',
    `The CodeDeploy agent did not find an AppSpec file within the unpacked revision directory at revision-relative path "${APPSPEC_PATH}". The revision was unpacked to directory "${archive}", and the AppSpec file was expected but not found at path "${archive}/${APPSPEC_PATH}". Consult the AWS CodeDeploy Appspec documentation for more information at http://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file.html`,
  );
}

async function unpack(bundle: string, bundleType: BundleType, destination: string): Promise<void> {
  await mkdir(destination, { recursive: true });
  // linux_util.rb: the same commands and flags; -s keeps tar from following symlinks out of the archive order.
  const [command, args, okCodes] =
    bundleType === 'zip'
      ? (['unzip', ['-qo', bundle, '-d', destination], [0, 1]] as const)
      : bundleType === 'tgz'
        ? (['tar', ['-zxpsf', bundle, '-C', destination], [0]] as const)
        : (['tar', ['-xpsf', bundle, '-C', destination], [0]] as const);
  const { code, stderr } = await run(command, args);
  // unzip exits 1 for warnings only; the files are there.
  if (!(okCodes as readonly number[]).includes(code)) {
    throw new AgentError(
      'UnknownError',
      `Error extracting ${bundleType} archive: ${command} exited with ${code}: ${stderr.trim()}`,
    );
  }
}

/**
 * nested_appspec_handler.rb: with no appspec at the root and exactly one in a top-level directory, that
 * directory becomes the revision root; anything beside it is dropped (with a warning, as the agent does).
 */
async function handleNestedAppSpec(
  archive: string,
  archiveTemp: string,
  note: DownloadBundleOptions['note'],
): Promise<void> {
  if (findAppSpec(archive) !== undefined) return;
  const entries = await readdir(archive, { withFileTypes: true });
  const nested = entries.filter((entry) => entry.isDirectory() && findAppSpec(join(archive, entry.name)));
  if (nested.length !== 1 || !nested[0]) return;
  note('info', 'Stripping leading directory from archive bundle contents.');
  await rm(archiveTemp, { recursive: true, force: true });
  await rename(archive, archiveTemp);
  await rename(join(archiveTemp, nested[0].name), archive);
  const dropped = (await readdir(archiveTemp)).sort();
  if (dropped.length > 0) {
    note(
      'warn',
      `The following files are outside the directory containing appspec and will be removed: ${dropped.join(';')}`,
    );
  }
  await rm(archiveTemp, { recursive: true, force: true });
}

/** command_executor.rb cleanup_old_archives: keep the newest five, never the last successful one. */
async function cleanupOldArchives(groupDir: string, keep: Array<string | undefined>): Promise<void> {
  const entries = await readdir(groupDir).catch(() => [] as string[]);
  const extra = entries.length - ARCHIVES_TO_RETAIN;
  if (extra <= 0) return;
  const candidates = await Promise.all(
    entries
      .map((name) => join(groupDir, name))
      .filter((path) => !keep.includes(path))
      .map(async (path) => ({ path, mtimeMs: (await stat(path)).mtimeMs })),
  );
  candidates.sort((a, b) => a.mtimeMs - b.mtimeMs);
  for (const { path } of candidates.slice(0, extra)) await rm(path, { recursive: true, force: true });
}

function stripQuotes(eTag: string): string {
  return eTag.replaceAll('"', '');
}

function md5Hex(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('md5');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

function run(command: string, args: readonly string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, [...args], { maxBuffer: 16 * 1024 * 1024 }, (error, _stdout, stderr) => {
      if (!error) return resolve({ code: 0, stderr });
      const code = typeof error.code === 'number' ? error.code : 127;
      resolve({ code, stderr: stderr || error.message });
    });
  });
}
