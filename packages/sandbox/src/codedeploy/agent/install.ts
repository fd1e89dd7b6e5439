import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  appendFile,
  chmod,
  chown,
  copyFile,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  rm,
  rmdir,
  stat,
  symlink,
  unlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { posix, join } from 'node:path';
import { AgentError } from './agent-error';
import { PathEscapesRootError } from './layout';
import type { InstanceLayout } from './layout';
import type { AppSpec, AppSpecPermission, FileExistsBehavior } from './appspec';

/**
 * Install: undo the previous install of the group, plan the copies of the appspec's files section (and its
 * permissions) exactly as installer.rb generates its instructions, then execute them while recording each
 * created path in the group's cleanup file. Destinations are instance paths, re-rooted under the instance's
 * root directory.
 */

export interface InstallOptions {
  layout: InstanceLayout;
  deploymentGroupId: string;
  /** Host path of the unpacked revision. */
  archiveDir: string;
  appSpec: AppSpec;
  fileExistsBehavior: FileExistsBehavior;
  note: (level: 'info' | 'warn' | 'debug', message: string) => void;
}

/** One planned step; paths are the instance's ("/var/www/…") except `source`, a host path in the archive. */
type Instruction =
  | { type: 'mkdir'; directory: string }
  | { type: 'copy'; source: string; destination: string }
  | { type: 'chmod'; file: string; mode: number }
  | { type: 'chown'; file: string; owner?: string; group?: string };

export async function installRevision(options: InstallOptions): Promise<void> {
  const { layout, deploymentGroupId, note } = options;
  await mkdir(layout.instructionsDir(), { recursive: true });
  const cleanupFile = layout.cleanupFile(deploymentGroupId);
  if (existsSync(cleanupFile)) {
    await removePreviousInstall(layout, await readFile(cleanupFile, 'utf8'), note);
    await rm(cleanupFile, { force: true });
  }

  const behavior = options.appSpec.fileExistsBehavior ?? options.fileExistsBehavior;
  const plan = new InstallPlan(layout, options.archiveDir, behavior);
  for (const file of options.appSpec.files) await plan.addFileMapping(file.source, file.destination);
  for (const permission of options.appSpec.permissions) await plan.addPermission(permission, note);

  await writeFile(layout.installFile(deploymentGroupId), JSON.stringify({ instructions: plan.instructions }));
  await writeFile(cleanupFile, '');
  for (const instruction of plan.instructions) {
    await execute(layout, instruction, note);
    if (instruction.type === 'mkdir') await appendFile(cleanupFile, `${instruction.directory}\n`);
    if (instruction.type === 'copy') await appendFile(cleanupFile, `${instruction.destination}\n`);
  }
}

/** install_instruction.rb RemoveCommand, newest first: files go, directories only once empty. */
async function removePreviousInstall(
  layout: InstanceLayout,
  cleanupList: string,
  note: InstallOptions['note'],
): Promise<void> {
  const paths = cleanupList.split(/\r?\n/).filter((line) => line.trim() !== '');
  for (const instancePath of paths.reverse()) {
    let host: string;
    try {
      host = layout.hostPath(instancePath);
    } catch {
      note('warn', `Ignoring cleanup entry outside the instance root: ${instancePath}`);
      continue;
    }
    const stats = await lstat(host).catch(() => undefined);
    if (!stats) continue;
    if (stats.isDirectory()) {
      // Someone put files in it since: leave it, as the agent does.
      await rmdir(host).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
      });
    } else {
      await unlink(host);
    }
  }
}

class InstallPlan {
  readonly instructions: Instruction[] = [];
  private readonly copyTargets = new Map<string, string>();
  private readonly mkdirTargets = new Set<string>();

  constructor(
    private readonly layout: InstanceLayout,
    private readonly archiveDir: string,
    private readonly behavior: FileExistsBehavior,
  ) {}

  async addFileMapping(source: string, destination: string): Promise<void> {
    // File.join(deployment_archive_dir, source): "/" is the whole revision.
    const absoluteSource = join(this.archiveDir, source);
    const destinationPath = this.instanceDestination(destination);
    const sourceStats = await lstat(absoluteSource).catch(() => undefined);
    if (sourceStats?.isDirectory()) {
      await this.fillInMissingAncestors(destinationPath);
      await this.addDirectoryCopy(absoluteSource, destinationPath);
    } else {
      // A file goes into the destination directory.
      const fileDestination = posix.join(destinationPath, posix.basename(absoluteSource));
      await this.fillInMissingAncestors(fileDestination);
      await this.addNormalCopy(absoluteSource, fileDestination);
    }
  }

  async addPermission(permission: AppSpecPermission, note: InstallOptions['note']): Promise<void> {
    const object = this.instanceDestination(permission.object);
    if (this.copyTargets.has(object)) {
      if (permission.type.includes('file')) this.addPermissionSteps(object, permission, note);
      return;
    }
    if (!this.mkdirTargets.has(object) && !(await isDirectory(this.layout.hostPath(object)))) return;
    // Only what this install creates is touched (installer.rb find_matches).
    const prefix = object === '/' ? '/' : `${object}/`;
    const candidates: Array<[string, 'file' | 'directory']> = [
      ...[...this.mkdirTargets].map((path): [string, 'directory'] => [path, 'directory']),
      ...[...this.copyTargets.keys()].map((path): [string, 'file'] => [path, 'file']),
    ];
    for (const [path, type] of candidates) {
      if (!path.startsWith(prefix) || !permission.type.includes(type)) continue;
      const relativeName = path.slice(prefix.length);
      if (
        permission.pattern !== '**' &&
        (relativeName.includes('/') || !globMatch(permission.pattern, relativeName))
      )
        continue;
      if (permission.except.some((glob) => globMatch(glob, posix.basename(path)))) continue;
      this.addPermissionSteps(path, permission, note);
    }
  }

  private addPermissionSteps(
    file: string,
    permission: AppSpecPermission,
    note: InstallOptions['note'],
  ): void {
    if (permission.mode !== undefined) this.instructions.push({ type: 'chmod', file, mode: permission.mode });
    if (permission.owner === undefined && permission.group === undefined) return;
    if (process.getuid?.() === 0) {
      this.instructions.push({ type: 'chown', file, owner: permission.owner, group: permission.group });
    } else {
      // Only root can give files away; without it the request is recorded, not applied.
      note(
        'warn',
        `Not setting owner ${permission.owner ?? ''}:${permission.group ?? ''} on ${file}: the agent is not running as root`,
      );
    }
  }

  private async addDirectoryCopy(absoluteSource: string, destination: string): Promise<void> {
    if (!(await isDirectory(this.layout.hostPath(destination)))) this.addMkdir(destination);
    const entries = (await readdir(absoluteSource)).sort();
    for (const entry of entries) {
      const entrySource = join(absoluteSource, entry);
      const entryDestination = posix.join(destination, entry);
      const stats = await lstat(entrySource);
      if (stats.isDirectory()) await this.addDirectoryCopy(entrySource, entryDestination);
      else await this.addNormalCopy(entrySource, entryDestination);
    }
  }

  private async addNormalCopy(absoluteSource: string, destination: string): Promise<void> {
    if (await exists(this.layout.hostPath(destination))) {
      switch (this.behavior) {
        case 'DISALLOW':
          throw new AgentError(
            'UnknownError',
            `The deployment failed because a specified file already exists at this location: ${destination}`,
          );
        case 'OVERWRITE':
          break;
        case 'RETAIN':
          return;
      }
    }
    const previous = this.copyTargets.get(destination);
    if (previous !== undefined) {
      // install_instruction.rb CommandBuilder#copy
      throw new AgentError(
        'UnknownError',
        `The deployment failed because the application specification file specifies two source files named ${previous} and ${absoluteSource} for the same destination (${destination}). Remove one of the source file paths from the files section of the AppSpec file, and then try again.`,
      );
    }
    this.copyTargets.set(destination, absoluteSource);
    this.instructions.push({ type: 'copy', source: absoluteSource, destination });
  }

  private addMkdir(directory: string): void {
    if (this.mkdirTargets.has(directory)) return;
    this.mkdirTargets.add(directory);
    this.instructions.push({ type: 'mkdir', directory });
  }

  private async fillInMissingAncestors(destination: string): Promise<void> {
    const missing: string[] = [];
    let parent = posix.dirname(destination);
    while (parent !== '/' && parent !== '.' && !(await exists(this.layout.hostPath(parent)))) {
      missing.unshift(parent);
      parent = posix.dirname(parent);
    }
    for (const directory of missing) this.addMkdir(directory);
  }

  /** Normalized instance path; one that climbs out of the root is refused before anything is touched. */
  private instanceDestination(path: string): string {
    try {
      return this.layout.instancePath(this.layout.hostPath(path));
    } catch (error) {
      if (!(error instanceof PathEscapesRootError)) throw error;
      throw new AgentError(
        'UnknownError',
        `The deployment failed because the application specification file specifies the path ${path}, which resolves outside the instance's root directory (/). Update the AppSpec file, and then try again.`,
      );
    }
  }
}

async function execute(
  layout: InstanceLayout,
  instruction: Instruction,
  note: InstallOptions['note'],
): Promise<void> {
  switch (instruction.type) {
    case 'mkdir':
      await mkdir(layout.hostPath(instruction.directory));
      return;
    case 'copy': {
      const destination = layout.hostPath(instruction.destination);
      const stats = await lstat(instruction.source);
      if (stats.isSymbolicLink()) {
        await rm(destination, { force: true });
        await symlink(await readlink(instruction.source), destination);
        return;
      }
      // OVERWRITE of a symlink replaces the link, never writes through it.
      if ((await lstat(destination).catch(() => undefined))?.isSymbolicLink()) await unlink(destination);
      // FileUtils.copy(:preserve => true): contents, mode and times.
      await copyFile(instruction.source, destination);
      await chmod(destination, stats.mode & 0o7777);
      await utimes(destination, stats.atime, stats.mtime);
      return;
    }
    case 'chmod':
      await chmod(layout.hostPath(instruction.file), instruction.mode);
      return;
    case 'chown': {
      const uid = instruction.owner === undefined ? -1 : await lookupId('-u', instruction.owner);
      const gid = instruction.group === undefined ? -1 : await lookupId('-g', instruction.group);
      if (uid === undefined || gid === undefined) {
        // The sandbox host lacks the AMI's users (ec2-user, apache…); say so rather than fail the deployment.
        note(
          'warn',
          `Not setting owner ${instruction.owner ?? ''}:${instruction.group ?? ''} on ${instruction.file}: no such user or group on this host`,
        );
        return;
      }
      await chown(layout.hostPath(instruction.file), uid, gid);
      return;
    }
  }
}

function lookupId(flag: '-u' | '-g', name: string): Promise<number | undefined> {
  if (/^\d+$/.test(name)) return Promise.resolve(Number(name));
  const [command, args] = flag === '-u' ? ['id', ['-u', name]] : ['getent', ['group', name]];
  return new Promise((resolve) => {
    execFile(command, args, (error, stdout) => {
      if (error) return resolve(undefined);
      const value = flag === '-u' ? stdout.trim() : stdout.split(':')[2];
      resolve(value !== undefined && /^\d+$/.test(value.trim()) ? Number(value.trim()) : undefined);
    });
  });
}

/** The appspec's simple globs: `*` and `?` within one name. */
function globMatch(glob: string, name: string): boolean {
  const pattern = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${pattern}$`).test(name);
}

async function exists(path: string): Promise<boolean> {
  // File.exist? follows symlinks; a dangling link counts as absent there too.
  return (await stat(path).catch(() => undefined)) !== undefined;
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}
