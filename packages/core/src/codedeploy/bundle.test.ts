import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { archiveBundleType, bundleWorkspace } from './bundle';
import { BundleError } from './errors';
import { centralHeader, crc32, HashingFileSink, methodStore, ZipWriter } from './zip-writer';

const created: string[] = [];
after(() => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

function tree(files: Record<string, string | Buffer>): string {
  const root = mkdtempSync(join(tmpdir(), 'keyless-bundle-'));
  created.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

function zipinfo(path: string): string[] {
  const result = spawnSync('zipinfo', [path], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.split('\n');
}

function unzipTest(path: string): void {
  const result = spawnSync('unzip', ['-tq', path], { encoding: 'utf8' });
  assert.equal(result.status, 0, `unzip -t failed:\n${result.stdout}${result.stderr}`);
  assert.match(result.stdout, /No errors detected/);
}

function line(info: string[], name: string): string {
  const found = info.find((entry) => entry.endsWith(` ${name}`));
  assert.ok(found, `${name} not in the archive:\n${info.join('\n')}`);
  return found;
}

test('bundles a folder: modes kept, .git left out, compressed types stored, text deflated; unzip -t accepts it', async () => {
  const text = 'const value = 1;\n'.repeat(2000);
  const root = tree({
    'appspec.yml': 'version: 0.0\nos: linux\n',
    'scripts/start.sh': '#!/bin/sh\necho start\n',
    'site/app.js': text,
    'site/logo.png': randomBytes(50_000),
    'data/random.bin': randomBytes(20_000),
    '.git/HEAD': 'ref: refs/heads/main\n',
    'sub/.git': 'gitdir: ../.git/modules/sub\n',
    'empty.txt': '',
  });
  chmodSync(join(root, 'scripts/start.sh'), 0o755);
  mkdirSync(join(root, 'empty-dir'));
  const result = await bundleWorkspace(root);
  try {
    unzipTest(result.path);
    const info = zipinfo(result.path);
    assert.match(line(info, 'scripts/start.sh'), /^-rwxr-xr-x .* unx /);
    assert.match(line(info, 'site/app.js'), /^-rw-r--r-- .* defN /);
    assert.match(line(info, 'site/logo.png'), / stor /);
    // Random bytes do not shrink under deflate, so they are stored whatever their extension.
    assert.match(line(info, 'data/random.bin'), / stor /);
    assert.match(line(info, 'empty-dir/'), /^drwx/);
    assert.ok(!info.some((entry) => entry.includes('.git')), 'nothing named .git is bundled');
    assert.equal(result.files, 6);
    assert.match(result.sha256, /^[0-9a-f]{64}$/);
  } finally {
    await result.cleanup();
  }
});

test('exclude globs: names at any depth, paths, and directory-only patterns', async () => {
  const root = tree({
    'appspec.yml': 'version: 0.0\nos: linux\n',
    'node_modules/a/index.js': 'x',
    'src/node_modules/b.js': 'x',
    'src/keep.js': 'x',
    'logs/today.log': 'x',
    'build/out.map': 'x',
    tmp: 'a file named tmp',
  });
  const result = await bundleWorkspace(root, { excludes: ['node_modules', 'logs/**', '**/*.map', 'tmp/'] });
  try {
    const names = zipinfo(result.path).map((entry) => entry.split(' ').at(-1));
    assert.ok(names.includes('src/keep.js'));
    assert.ok(names.includes('tmp'), 'tmp/ excludes directories only');
    for (const gone of [
      'node_modules/a/index.js',
      'src/node_modules/b.js',
      'logs/today.log',
      'build/out.map',
    ]) {
      assert.ok(!names.includes(gone), `${gone} should be excluded`);
    }
  } finally {
    await result.cleanup();
  }
});

test('symlinks inside the folder are stored as links; outside, looping or ancestor links are refused', async () => {
  const root = tree({ 'appspec.yml': 'version: 0.0\nos: linux\n', 'scripts/run.sh': '#!/bin/sh\n' });
  symlinkSync('scripts/run.sh', join(root, 'run.sh'));
  const result = await bundleWorkspace(root);
  try {
    unzipTest(result.path);
    assert.match(line(zipinfo(result.path), 'run.sh'), /^lrwxrwxrwx/);
  } finally {
    await result.cleanup();
  }

  const outside = tree({ 'appspec.yml': '' });
  symlinkSync('/etc/passwd', join(outside, 'passwd'));
  await assert.rejects(bundleWorkspace(outside), (error: unknown) => {
    assert.ok(error instanceof BundleError);
    assert.match(error.message, /The symlink passwd points outside the bundle folder/);
    return true;
  });

  const loop = tree({ 'appspec.yml': '' });
  symlinkSync('b', join(loop, 'a'));
  symlinkSync('a', join(loop, 'b'));
  await assert.rejects(bundleWorkspace(loop), /symlink loop/);

  const ancestor = tree({ 'appspec.yml': '', 'sub/file': 'x' });
  symlinkSync('..', join(ancestor, 'sub/up'));
  await assert.rejects(bundleWorkspace(ancestor), /points at a directory that contains it/);
});

test('large files are streamed with a data descriptor, and the archive is still valid', async () => {
  const root = tree({
    'appspec.yml': 'version: 0.0\nos: linux\n',
    'big.log': 'line of a large log file\n'.repeat(200_000),
    'big.zip': randomBytes(3_000_000),
  });
  const result = await bundleWorkspace(root, { streamThreshold: 1024 * 1024 });
  try {
    unzipTest(result.path);
    const info = zipinfo(result.path);
    assert.match(line(info, 'big.log'), / defN /);
    assert.match(line(info, 'big.zip'), / stor /);
  } finally {
    await result.cleanup();
  }
});

test('more than 65,535 entries switch the archive to ZIP64; unzip reads every entry', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'keyless-zip64-'));
  created.push(directory);
  const path = join(directory, 'many.zip');
  const handle = await open(path, 'w');
  const sink = new HashingFileSink(handle);
  const writer = new ZipWriter(sink);
  const count = 70_000;
  const mtime = new Date();
  for (let index = 0; index < count; index++) {
    const data = Buffer.from(String(index));
    await writer.add({
      name: `f/${index}.txt`,
      mode: 0o100644,
      mtime,
      method: methodStore,
      crc32: crc32(data),
      size: data.length,
      data,
    });
  }
  const summary = await writer.finish();
  await sink.flush();
  await handle.close();
  assert.equal(summary.zip64, true);
  unzipTest(path);
  const listing = spawnSync('zipinfo', ['-1', path], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(listing.stdout.trim().split('\n').length, count);
});

test('sizes and offsets past 4 GiB go into the ZIP64 extra field of the central header', () => {
  const header = centralHeader({
    meta: { name: 'huge.bin', mode: 0o100644, mtime: new Date() },
    method: methodStore,
    flags: 0,
    crc32: 1,
    compressedSize: 5 * 1024 ** 3,
    size: 5 * 1024 ** 3,
    offset: 6 * 1024 ** 3,
  });
  assert.equal(header.readUInt32LE(20), 0xffffffff);
  assert.equal(header.readUInt32LE(24), 0xffffffff);
  assert.equal(header.readUInt32LE(42), 0xffffffff);
  const extraStart = 46 + 'huge.bin'.length;
  assert.equal(header.readUInt16LE(extraStart), 0x0001);
  assert.equal(header.readUInt16LE(extraStart + 2), 24);
  assert.equal(header.readBigUInt64LE(extraStart + 4), BigInt(5 * 1024 ** 3));
  assert.equal(header.readBigUInt64LE(extraStart + 20), BigInt(6 * 1024 ** 3));
});

test('memory stays bounded: bundling 160 MB grows RSS by far less than the input', async () => {
  const root = mkdtempSync(join(tmpdir(), 'keyless-bundle-memory-'));
  created.push(root);
  const chunk = Buffer.from('export const line = "some javascript source";\n'.repeat(20_000));
  for (let index = 0; index < 160; index++) {
    mkdirSync(join(root, `d${index % 8}`), { recursive: true });
    writeFileSync(
      join(root, `d${index % 8}`, `f${index}.${index % 3 === 0 ? 'png' : 'js'}`),
      index % 3 === 0 ? randomBytes(1_000_000) : chunk.subarray(0, 1_000_000),
    );
  }
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const result = await bundleWorkspace(root);
  clearInterval(sampler);
  await result.cleanup();
  const growthMb = (peak - before) / 1024 / 1024;
  assert.ok(growthMb < 150, `RSS grew by ${growthMb.toFixed(0)} MB while bundling 160 MB`);
});

test('archives keep their bundle type; .tar.gz is tgz', () => {
  assert.equal(archiveBundleType('release.zip'), 'zip');
  assert.equal(archiveBundleType('release.TAR'), 'tar');
  assert.equal(archiveBundleType('release.tar.gz'), 'tgz');
  assert.equal(archiveBundleType('release.tgz'), 'tgz');
  assert.equal(archiveBundleType('release.gz'), undefined);
});
