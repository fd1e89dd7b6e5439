import { lstatSync, readdirSync } from 'node:fs';
import { mkdtemp, open, readlink, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { deflateRaw as deflateRawCallback } from 'node:zlib';
import picomatch from 'picomatch';
import { CompressPool } from './compress-pool';
import { BundleError } from './errors';
import {
  crc32,
  HashingFileSink,
  methodDeflate,
  methodStore,
  ZipWriter,
  type PreparedZipEntry,
  type ZipMethod,
} from './zip-writer';

const deflateRaw = promisify(deflateRawCallback);

/** The three archive types the EC2 agent unpacks. */
export type BundleType = 'zip' | 'tar' | 'tgz';

/**
 * An existing archive's bundleType from its name; undefined for anything else. `.tar.gz` is `tgz` (the
 * toolkit took the last extension and sent the invalid "gz").
 */
export function archiveBundleType(path: string): BundleType | undefined {
  const lower = path.toLowerCase();
  if (lower.endsWith('.zip')) return 'zip';
  if (lower.endsWith('.tar')) return 'tar';
  if (lower.endsWith('.tar.gz') || lower.endsWith('.tgz')) return 'tgz';
  return undefined;
}

/** Types that are compressed already: deflating them again costs CPU and saves nothing. */
const storedExtensions = new Set([
  '.zip',
  '.gz',
  '.tgz',
  '.bz2',
  '.xz',
  '.zst',
  '.7z',
  '.rar',
  '.jar',
  '.war',
  '.ear',
  '.whl',
  '.nupkg',
  '.jpg',
  '.jpeg',
  '.png',
  '.gif',
  '.webp',
  '.avif',
  '.heic',
  '.ico',
  '.mp3',
  '.mp4',
  '.m4a',
  '.m4v',
  '.mov',
  '.webm',
  '.ogg',
  '.mkv',
  '.woff',
  '.woff2',
  '.br',
  '.pdf',
  '.docx',
  '.xlsx',
  '.pptx',
  '.apk',
]);

/** Always left out, at any depth: version-control data is never part of a deployment. */
export const defaultExcludes = ['.git'];

export interface BundleOptions {
  /** Globs (picomatch, dotfiles included) of paths to leave out; a pattern without `/` matches a name at any depth. */
  excludes?: string[];
  /** Where to write the archive (default: a fresh temporary directory). */
  outputPath?: string;
  /** Deflate level 1-9 (default 6, the same as `zip`). */
  level?: number;
  /** Entries compressed ahead of the one being written (default 1024; maxBytesAhead bounds memory). */
  maxEntriesAhead?: number;
  /** Input bytes held in memory ahead of the writer (default 24 MiB): the bound on memory use. */
  maxBytesAhead?: number;
  /** Compression worker threads (default: the number of cores). */
  workers?: number;
  /** Files at least this large are streamed through deflate instead of being read whole (default 8 MiB). */
  streamThreshold?: number;
}

export interface BundleResult {
  path: string;
  /** Removes the archive (and its temporary directory when Keyless chose it). */
  cleanup(): Promise<void>;
  sha256: string;
  bytes: number;
  entries: number;
  files: number;
  inputBytes: number;
  stored: number;
  deflated: number;
  zip64: boolean;
}

/** Whether a path (relative, '/'-separated) is left out. Directories excluded take their contents with them. */
export type Excluder = (path: string, isDirectory: boolean) => boolean;

export function createExcluder(excludes: string[] = []): Excluder {
  const patterns = [...defaultExcludes, ...excludes]
    .map((pattern) => pattern.trim())
    .filter(Boolean)
    .map((pattern) => ({
      directoryOnly: pattern.endsWith('/'),
      glob: pattern.replace(/^\.\//, '').replace(/\/+$/, ''),
    }));
  const matchers = patterns.map(({ directoryOnly, glob }) => ({
    directoryOnly,
    match: picomatch(glob, { dot: true, basename: !glob.includes('/') }),
  }));
  return (path, isDirectory) =>
    matchers.some(({ directoryOnly, match }) => (!directoryOnly || isDirectory) && match(path));
}

interface WalkEntry {
  /** Relative, '/'-separated. */
  path: string;
  absolute: string;
  kind: 'file' | 'directory' | 'symlink';
  mode: number;
  mtime: Date;
  size: number;
  linkTarget?: string;
}

/**
 * The workspace's entries in a stable order (directory, then its contents, names sorted), exclusions
 * applied. Symlinks are never followed: each is stored as a link, after checking it stays in the workspace
 * and does not loop.
 */
async function* walkWorkspace(root: string, isExcluded: Excluder): AsyncGenerator<WalkEntry[]> {
  const realRoot = await realpath(root);
  // Listing and lstat are synchronous, one directory at a time: on Node 20 the callback/promise forms cost
  // ~50 µs of CPU per call (a thread-pool round trip, a request object, a promise): 1.2 s for 24,000
  // entries against 0.15 s synchronously, CPU that deflate needs. A directory's lstat calls hit the inode
  // cache readdir just warmed, so the main thread is blocked for milliseconds at a time. Entries come in
  // arrays, and depth is an explicit stack, not nested generators: a promise per entry per level adds up.
  // Paths are built by concatenation (names never contain a separator, and `root` is resolved): path.join
  // and path.relative per entry allocated ~5 KB each, the main thread's largest source of garbage, and
  // garbage is what makes V8 grow the young generation (RSS).
  const list = (directory: string, prefix: string) => {
    const base = directory.endsWith(sep) ? directory : directory + sep;
    return {
      index: 0,
      prefix,
      infos: readdirSync(directory)
        .sort()
        .map((name) => {
          const absolute = base + name;
          return { name, absolute, info: lstatSync(absolute) };
        }),
    };
  };
  const stack = [list(root, '')];
  let out: WalkEntry[] = [];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    if (top.index >= top.infos.length) {
      stack.pop();
      continue;
    }
    const { name, absolute, info } = top.infos[top.index++]!;
    const path = top.prefix + name;
    const isDirectory = info.isDirectory();
    if (isExcluded(path, isDirectory)) continue;
    const base = { path, absolute, mode: info.mode, mtime: info.mtime };
    if (isDirectory) {
      out.push({ ...base, kind: 'directory', size: 0 });
      stack.push(list(absolute, `${path}/`));
    } else if (info.isFile()) {
      out.push({ ...base, kind: 'file', size: info.size });
    } else if (info.isSymbolicLink()) {
      const linkTarget = await checkedLinkTarget(root, realRoot, absolute, path);
      out.push({ ...base, kind: 'symlink', size: Buffer.byteLength(linkTarget), linkTarget });
    } else {
      throw new BundleError(
        `${path} in ${root} is neither a file, a directory nor a symlink (a socket, FIFO or device), so it cannot be bundled.`,
        `Remove it or exclude it (--exclude ${path}).`,
      );
    }
    if (out.length >= 256) {
      yield out;
      out = [];
    }
  }
  if (out.length) yield out;
}

async function checkedLinkTarget(
  root: string,
  realRoot: string,
  absolute: string,
  path: string,
): Promise<string> {
  const target = await readlink(absolute);
  const lexical = resolve(dirname(absolute), target);
  const outside = (candidate: string, base: string) => {
    const rel = relative(base, candidate);
    return (
      rel === '..' ||
      rel.startsWith(`..${sep}`) ||
      resolve(base, rel) !== candidate ||
      /^[a-zA-Z]:|^\//.test(rel)
    );
  };
  if (outside(lexical, root)) {
    throw new BundleError(
      `The symlink ${path} points outside the bundle folder (to ${target}); the instance would not have that path.`,
      `Copy what it points to into the folder, or exclude the link (--exclude ${path}).`,
    );
  }
  let real: string | undefined;
  try {
    real = await realpath(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') {
      throw new BundleError(
        `The symlink ${path} (→ ${target}) is part of a symlink loop: following it never reaches a file.`,
        `Fix or remove the link, or exclude it (--exclude ${path}).`,
      );
    }
    // A dangling link inside the folder is kept as it is, as zip -y would.
    return target;
  }
  if (outside(real, realRoot)) {
    throw new BundleError(
      `The symlink ${path} (→ ${target}) resolves outside the bundle folder (to ${real}) through another link.`,
      `Copy what it points to into the folder, or exclude the link (--exclude ${path}).`,
    );
  }
  const linkDirectory = await realpath(dirname(absolute));
  const info = await stat(real);
  if (info.isDirectory() && (linkDirectory === real || linkDirectory.startsWith(real + sep))) {
    throw new BundleError(
      `The symlink ${path} (→ ${target}) points at a directory that contains it: anything that copies the bundle recursively would loop.`,
      `Remove the link or exclude it (--exclude ${path}).`,
    );
  }
  return target;
}

function storedByType(path: string): boolean {
  return storedExtensions.has(extname(path).toLowerCase());
}

/** An entry on its way to the writer: held in memory (compressed ahead) or streamed when its turn comes. */
type Job =
  | {
      kind: 'prepared';
      entry: WalkEntry;
      weight: number;
      ready: Promise<PreparedZipEntry & { release?: () => void }>;
    }
  | { kind: 'streamed'; entry: WalkEntry; weight: number };

const noData = Buffer.alloc(0);

// Not async, and no object spreads: this runs once per entry, and its garbage (an async frame, copied
// objects) was the largest share of the main thread's allocations after the walk's.
function prepare(
  entry: WalkEntry,
  level: number,
  pool: CompressPool,
): Promise<PreparedZipEntry & { release?: () => void }> {
  const { mode, mtime } = entry;
  if (entry.kind === 'directory') {
    const name = `${entry.path}/`;
    return Promise.resolve({ name, mode, mtime, method: methodStore, crc32: 0, size: 0, data: noData });
  }
  const name = entry.path;
  if (entry.kind === 'symlink') {
    const target = Buffer.from(entry.linkTarget ?? '', 'utf8');
    return Promise.resolve({
      name,
      mode,
      mtime,
      method: methodStore,
      crc32: crc32(target),
      size: target.length,
      data: target,
    });
  }
  return pool.compress(entry.absolute, entry.size, storedByType(entry.path), level).then(
    (compressed) => ({
      name,
      mode,
      mtime,
      method: compressed.method,
      crc32: compressed.crc32,
      size: compressed.size,
      data: compressed.data,
      release: compressed.release,
    }),
    (error: unknown) => {
      throw unreadable(entry, error);
    },
  );
}

function unreadable(entry: WalkEntry, error: unknown): BundleError {
  return new BundleError(
    `${entry.path} could not be read while bundling: ${(error as Error).message}`,
    'Check the file is readable and not being deleted by another step, then re-run.',
  );
}

/** For a streamed file of unknown type: does deflate shrink its first 256 KiB meaningfully? */
async function worthDeflating(entry: WalkEntry, level: number): Promise<boolean> {
  const handle = await open(entry.absolute, 'r');
  try {
    const sample = Buffer.alloc(Math.min(entry.size, 256 * 1024));
    const { bytesRead } = await handle.read(sample, 0, sample.length, 0);
    const compressed = await deflateRaw(sample.subarray(0, bytesRead), { level });
    return compressed.length < bytesRead * 0.95;
  } finally {
    await handle.close();
  }
}

/**
 * A file's contents as successive views of one reused buffer. A read stream allocated a fresh 1 MiB buffer
 * per chunk, and the dead ones waited for a garbage collection: tens of MB of RSS while large files were
 * streamed. The writer consumes each chunk before asking for the next (ZipWriter.addStream).
 */
async function* readChunks(path: string, buffer: Buffer): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r');
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/**
 * Zips a workspace folder into a file, streaming: entries are read and deflated ahead on the libuv thread
 * pool (several at once, so every core works), written strictly in order, and the memory held is bounded by
 * `maxBytesAhead` whatever the workspace's size. Already-compressed types, and anything deflate does not
 * shrink, are stored. `.git` is always left out. The archive's SHA-256 is computed as it is written.
 */
export async function bundleWorkspace(workspace: string, options: BundleOptions = {}): Promise<BundleResult> {
  const root = resolve(workspace);
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new BundleError(
      `The bundle folder ${root} does not exist or is not a directory.`,
      'Check the --bundle path.',
    );
  }
  const level = options.level ?? 6;
  const maxAhead = options.maxEntriesAhead ?? 1024;
  const maxBytesAhead = options.maxBytesAhead ?? 24 * 1024 * 1024;
  const streamThreshold = Math.min(options.streamThreshold ?? 8 * 1024 * 1024, maxBytesAhead);
  const isExcluded = createExcluder(options.excludes);

  const ownDirectory = options.outputPath ? undefined : await mkdtemp(join(tmpdir(), 'keyless-bundle-'));
  const path = options.outputPath ?? join(ownDirectory!, 'bundle.zip');
  const cleanup = async () => {
    await rm(ownDirectory ?? path, { recursive: true, force: true });
  };
  const handle = await open(path, 'w');
  const sink = new HashingFileSink(handle);
  const writer = new ZipWriter(sink);
  const pool = new CompressPool(options.workers);
  const counts = { files: 0, inputBytes: 0, stored: 0, deflated: 0 };
  const queue: Job[] = [];
  let bytesAhead = 0;
  // Streamed files are written one at a time, so one read buffer serves them all (see readChunks).
  const streamBuffer = Buffer.allocUnsafeSlow(1024 * 1024);

  const writeHead = async () => {
    const job = queue.shift()!;
    try {
      if (job.kind === 'prepared') {
        const entry = await job.ready;
        if (entry.method === methodStore) counts.stored++;
        else counts.deflated++;
        await writer.add(entry);
        // The sink has copied the data: its buffer can go back to the worker that filled it.
        entry.release?.();
      } else {
        const { entry } = job;
        const method: ZipMethod =
          storedByType(entry.path) || !(await worthDeflating(entry, level)) ? methodStore : methodDeflate;
        if (method === methodStore) counts.stored++;
        else counts.deflated++;
        const source = readChunks(entry.absolute, streamBuffer);
        await writer
          .addStream(
            { name: entry.path, mode: entry.mode, mtime: entry.mtime },
            method,
            entry.size,
            source,
            level,
          )
          .catch((error: unknown) => {
            throw error instanceof BundleError ? error : unreadable(entry, error);
          });
      }
    } finally {
      bytesAhead -= job.weight;
    }
  };

  const walker = walkWorkspace(root, isExcluded);

  try {
    for await (const entries of walker)
      for (const entry of entries) {
        if (entry.kind === 'file') {
          counts.files++;
          counts.inputBytes += entry.size;
        }
        const streamed = entry.kind === 'file' && entry.size >= streamThreshold;
        const weight = streamed ? 0 : entry.size;
        while (queue.length >= maxAhead || (queue.length > 0 && bytesAhead + weight > maxBytesAhead))
          await writeHead();
        if (streamed) queue.push({ kind: 'streamed', entry, weight });
        else {
          const ready = prepare(entry, level, pool);
          // Awaited in order by writeHead; until then a failure must not count as unhandled.
          ready.catch(() => undefined);
          queue.push({ kind: 'prepared', entry, weight, ready });
        }
        bytesAhead += weight;
      }
    while (queue.length) await writeHead();
    const summary = await writer.finish();
    const sha256 = await sink.digest();
    await handle.close();
    await pool.close();
    return {
      path,
      cleanup,
      sha256,
      bytes: summary.bytes,
      entries: summary.entries,
      zip64: summary.zip64,
      ...counts,
    };
  } catch (error) {
    // Let in-flight reads finish before deleting what they read into.
    await Promise.allSettled(queue.map((job) => (job.kind === 'prepared' ? job.ready : undefined)));
    await handle.close().catch(() => undefined);
    await pool.close();
    await cleanup();
    throw error;
  }
}
