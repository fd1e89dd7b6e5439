import type { Stats } from 'node:fs';
import { lstat, readdir, readlink, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import { UploadSourceError } from './errors';

export interface SelectedFile {
  /** Relative to the source folder, '/'-separated (through symlinks, the link's path, not its target's). */
  path: string;
  absolute: string;
  bytes: number;
}

/**
 * Glob patterns as the AWS Toolkit applied them (task-lib's match): one per line, relative to the source
 * folder, dotfiles included; `!pattern` removes what earlier lines added and a later line can add it back;
 * `#` starts a comment. Braces expand (`*.{js,css}`).
 */
export class GlobRules {
  private readonly rules: Array<{ negate: boolean; pattern: string; match: (path: string) => boolean }>;

  constructor(patterns: string[], sourceFolder: string) {
    this.rules = [];
    for (const line of patterns) {
      let pattern = line.trim();
      if (pattern === '' || pattern.startsWith('#')) continue;
      let negate = false;
      while (pattern.startsWith('!')) {
        negate = !negate;
        pattern = pattern.slice(1).trim();
      }
      if (process.platform === 'win32') pattern = pattern.replace(/\\/g, '/');
      if (isAbsolute(pattern)) {
        // task-lib roots relative patterns at the folder; an absolute one inside it means the same files.
        const inside = relative(sourceFolder, pattern);
        if (!inside.startsWith('..') && !isAbsolute(inside)) pattern = inside.split(sep).join('/') || '**';
      }
      pattern = pattern.replace(/^(\.\/)+/, '');
      this.rules.push({
        negate,
        pattern,
        match: picomatch(pattern, { dot: true, nocase: process.platform === 'win32' }),
      });
    }
  }

  /** Whether the patterns select this path (evaluated in order, the last matching line deciding). */
  matches(path: string): boolean {
    let selected = false;
    for (const rule of this.rules) if (selected === rule.negate && rule.match(path)) selected = !rule.negate;
    return selected;
  }

  /**
   * Whether some line could select a file below the folder `path`: each of its segments matches the folder's
   * segment at the same depth (or is `**`), with a segment left over for what lies below. A brace holding a
   * "/" defeats the segment split, so such a pattern is taken to match.
   */
  mayMatchBelow(path: string): boolean {
    const folders = path.split('/');
    return this.rules.some(({ negate, pattern }) => {
      if (negate) return false;
      if (/\{[^}]*\/[^}]*\}/.test(pattern)) return true;
      const segments = pattern.split('/');
      for (let depth = 0; depth < folders.length; depth++) {
        const segment = segments[depth];
        if (segment === undefined) return false;
        if (segment === '**') return true;
        if (!picomatch(segment, { dot: true, nocase: process.platform === 'win32' })(folders[depth]!))
          return false;
      }
      return segments.length > folders.length;
    });
  }

  /**
   * Whether a `!` line removes this path with nothing after it adding anything back: such a folder is not
   * walked at all and such a symlink is not followed (so a bad link the user excluded cannot fail the
   * upload).
   */
  excludes(path: string): boolean {
    let lastNegation = -1;
    this.rules.forEach((rule, index) => {
      if (rule.negate && rule.match(path)) lastNegation = index;
    });
    return lastNegation !== -1 && !this.rules.slice(lastNegation + 1).some((rule) => !rule.negate);
  }
}

interface Directory {
  absolute: string;
  prefix: string;
  /**
   * Real paths of this folder and every folder above it on the way down: a link back to one of them loops.
   */
  ancestors: Set<string>;
}

/**
 * The files under `sourceFolder` the patterns select, sorted by path. Symlinks are followed, as the toolkit
 * meant to (#178), but safely: a link that leaves the source folder, dangles, or loops back to a folder
 * containing it is an error naming the link, unless a `!` pattern excludes it or no pattern could select it.
 */
export async function selectFiles(sourceFolder: string, patterns: string[]): Promise<SelectedFile[]> {
  const root = resolve(sourceFolder);
  const rootInfo = await stat(root).catch(() => undefined);
  if (!rootInfo?.isDirectory()) {
    throw new UploadSourceError(
      `The source folder ${root} ${rootInfo ? 'is not a folder' : 'does not exist'}.`,
      'Give the folder that holds the files to upload (relative to the repository root, or absolute).',
    );
  }
  const realRoot = await realpath(root);
  const rules = new GlobRules(patterns, root);
  const files: SelectedFile[] = [];
  const stack: Directory[] = [{ absolute: root, prefix: '', ancestors: new Set([realRoot]) }];
  while (stack.length > 0) {
    const directory = stack.pop()!;
    const names = (await readdir(directory.absolute)).sort();
    const subdirectories: Directory[] = [];
    for (const name of names) {
      const absolute = join(directory.absolute, name);
      const path = directory.prefix + name;
      const info = await lstat(absolute);
      if (info.isSymbolicLink()) {
        if (rules.excludes(path)) continue;
        // A link no line could select is never followed: a bad link nobody asked for (a node_modules/.bin
        // entry, a link to /etc) must not fail an upload of other files. Its kind (not its content) decides.
        const kind = await stat(absolute).then(
          (target) => (target.isDirectory() ? 'folder' : target.isFile() ? 'file' : 'other'),
          () => 'broken',
        );
        const wanted =
          kind === 'file'
            ? rules.matches(path)
            : kind === 'folder'
              ? rules.mayMatchBelow(path)
              : kind === 'broken' && (rules.matches(path) || rules.mayMatchBelow(path));
        if (!wanted) continue;
        const target = await followLink(absolute, path, realRoot);
        if (target.info.isDirectory()) {
          if (directory.ancestors.has(target.real)) {
            throw new UploadSourceError(
              `The symlink ${path} (→ ${await readlink(absolute)}) points at a folder that contains it: following it would loop forever.`,
              `Remove the link, or exclude it with a pattern line "!${path}".`,
            );
          }
          subdirectories.push({
            absolute,
            prefix: `${path}/`,
            ancestors: new Set([...directory.ancestors, target.real]),
          });
        } else if (target.info.isFile() && rules.matches(path)) {
          files.push({ path, absolute, bytes: target.info.size });
        }
      } else if (info.isDirectory()) {
        if (rules.excludes(path)) continue;
        const real = await realpath(absolute);
        subdirectories.push({
          absolute,
          prefix: `${path}/`,
          ancestors: new Set([...directory.ancestors, real]),
        });
      } else if (info.isFile() && rules.matches(path)) {
        files.push({ path, absolute, bytes: info.size });
      }
      // Sockets, FIFOs and devices have no content to upload; they are skipped like empty folders.
    }
    stack.push(...subdirectories);
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function followLink(
  absolute: string,
  path: string,
  realRoot: string,
): Promise<{ real: string; info: Stats }> {
  const target = await readlink(absolute);
  let real: string;
  try {
    real = await realpath(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') {
      throw new UploadSourceError(
        `The symlink ${path} (→ ${target}) is part of a symlink loop: following it never reaches a file.`,
        `Fix or remove the link, or exclude it with a pattern line "!${path}".`,
      );
    }
    throw new UploadSourceError(
      `The symlink ${path} points at ${target}, which does not exist.`,
      `Fix or remove the link, or exclude it with a pattern line "!${path}".`,
    );
  }
  const inside = relative(realRoot, real);
  if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    throw new UploadSourceError(
      `The symlink ${path} (→ ${target}) leads outside the source folder, to ${real}.`,
      `Copy what it points to into the source folder, or exclude the link with a pattern line "!${path}".`,
    );
  }
  return { real, info: await stat(absolute) };
}
