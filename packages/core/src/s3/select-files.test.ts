import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { InvalidInputError } from '../errors';
import { contentTypeFor } from './content-types';
import { UploadSourceError } from './errors';
import { GlobRules, selectFiles } from './select-files';
import { objectKeyFor, parseCacheControlRules } from './upload-files';

async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'keyless-select-'));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

test('glob lines apply in order: ! removes, a later line adds back, # is a comment, dotfiles match', () => {
  const rules = new GlobRules(
    ['# site files', '**', '!**/*.map', '!drafts/**', 'drafts/keep.html', ''],
    '/src',
  );
  assert.equal(rules.matches('index.html'), true);
  assert.equal(rules.matches('.well-known/security.txt'), true);
  assert.equal(rules.matches('js/app.js.map'), false);
  assert.equal(rules.matches('drafts/wip.html'), false);
  assert.equal(rules.matches('drafts/keep.html'), true);
  // drafts/ may hold a re-included file, so it is walked; a map file is simply not selected.
  assert.equal(rules.excludes('drafts'), false);
  const pruning = new GlobRules(['**', '!node_modules/**'], '/src');
  assert.equal(pruning.excludes('node_modules'), true);
  assert.equal(pruning.excludes('src'), false);
});

test('patterns are relative to the source folder; ./, absolute paths inside it and braces work', () => {
  const rules = new GlobRules(['./css/*.css', '/src/site/*.{html,txt}'], '/src/site');
  assert.equal(rules.matches('css/a.css'), true);
  assert.equal(rules.matches('index.html'), true);
  assert.equal(rules.matches('robots.txt'), true);
  assert.equal(rules.matches('img/a.png'), false);
  assert.equal(new GlobRules(['*.html'], '/src').matches('sub/index.html'), false, 'no implicit matchBase');
});

test('keys: relative path under the target folder, or the file name when flattening', () => {
  assert.equal(objectKeyFor('css/site.css', undefined, false), 'css/site.css');
  assert.equal(objectKeyFor('css/site.css', 'web/v1/', false), 'web/v1/css/site.css');
  assert.equal(objectKeyFor('css/site.css', 'web\\v1', true), 'web/v1/site.css');
  assert.equal(objectKeyFor('a.txt', './out//x', false), 'out/x/a.txt');
});

test('cache control rules: glob=value split at the first =, malformed lines rejected', () => {
  const rules = parseCacheControlRules(['**/*.html=no-cache', '', ' **/*.js = max-age=3600, public ']);
  assert.deepEqual(
    rules.map(({ glob, value }) => [glob, value]),
    [
      ['**/*.html', 'no-cache'],
      ['**/*.js', 'max-age=3600, public'],
    ],
  );
  assert.equal(rules[1]!.match('app.js'), true);
  for (const bad of ['no-equals', '=max-age=1', '**/*.css=']) {
    assert.throws(
      () => parseCacheControlRules([bad]),
      (error: unknown) => error instanceof InvalidInputError && error.message.includes(`"${bad}"`),
    );
  }
});

test('content types by extension, case-insensitive, octet-stream otherwise', () => {
  assert.equal(contentTypeFor('index.HTML'), 'text/html');
  assert.equal(contentTypeFor('a/b/app.mjs'), 'application/javascript');
  assert.equal(contentTypeFor('logo.svg'), 'image/svg+xml');
  assert.equal(contentTypeFor('font.woff2'), 'font/woff2');
  assert.equal(contentTypeFor('data.bin'), 'application/octet-stream');
  assert.equal(contentTypeFor('Makefile'), 'application/octet-stream');
});

test('selection walks folders in name order and skips what ! patterns prune', async () => {
  const root = await tree({
    'b.txt': 'b',
    'a/z.txt': 'z',
    'a/y.css': 'y',
    'node_modules/x/index.js': 'x',
    '.hidden': 'h',
  });
  try {
    const all = await selectFiles(root, ['**']);
    assert.deepEqual(
      all.map((file) => file.path),
      ['.hidden', 'a/y.css', 'a/z.txt', 'b.txt', 'node_modules/x/index.js'],
    );
    assert.equal(all[0]!.bytes, 1);
    const some = await selectFiles(root, ['**/*.txt', '**/*.js', '!node_modules/**']);
    assert.deepEqual(
      some.map((file) => file.path),
      ['a/z.txt', 'b.txt'],
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('symlinks inside the folder are followed under the link path', async () => {
  const root = await tree({ 'assets/logo.png': 'png', 'index.html': '<html>' });
  try {
    await symlink('assets/logo.png', join(root, 'logo.png'));
    await symlink('assets', join(root, 'static'));
    const files = await selectFiles(root, ['**']);
    assert.deepEqual(
      files.map((file) => file.path),
      ['assets/logo.png', 'index.html', 'logo.png', 'static/logo.png'],
    );
    assert.equal(files.find((file) => file.path === 'logo.png')!.bytes, 3);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a symlink loop, a link leaving the folder and a dangling link are clear errors unless excluded', async () => {
  const outside = await tree({ 'secret.txt': 'not for upload' });
  const cases: Array<[string, (root: string) => Promise<void>, RegExp]> = [
    [
      'loop to an ancestor',
      (root) => symlink('..', join(root, 'sub', 'up')),
      /sub\/up \(→ \.\.\) points at a folder that contains it/,
    ],
    [
      'link cycle',
      async (root) => {
        await symlink('b', join(root, 'a'));
        await symlink('a', join(root, 'b'));
      },
      /symlink loop/,
    ],
    [
      'outside',
      (root) => symlink(join(outside, 'secret.txt'), join(root, 'leak.txt')),
      /leak\.txt .* leads outside the source folder/,
    ],
    [
      'dangling',
      (root) => symlink('missing.txt', join(root, 'gone.txt')),
      /gone\.txt points at missing\.txt, which does not exist/,
    ],
  ];
  try {
    for (const [name, make, message] of cases) {
      const root = await tree({ 'sub/file.txt': 'x' });
      try {
        await make(root);
        await assert.rejects(
          selectFiles(root, ['**']),
          (error: unknown) =>
            error instanceof UploadSourceError && message.test(error.message) && /"!/.test(error.fix ?? ''),
          name,
        );
        // Excluding the bad links makes the folder uploadable.
        const files = await selectFiles(root, ['**', '!sub/up', '!a', '!b', '!leak.txt', '!gone.txt']);
        assert.deepEqual(
          files.map((file) => file.path),
          ['sub/file.txt'],
          name,
        );
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    }
  } finally {
    await rm(outside, { recursive: true, force: true });
  }
});

test('a missing source folder is a clear error', async () => {
  await assert.rejects(
    selectFiles(join(tmpdir(), 'keyless-no-such-folder-xyz'), ['**']),
    (error: unknown) => error instanceof UploadSourceError && /does not exist/.test(error.message),
  );
});

test('a bad link no pattern could select is not followed; one a pattern could select still fails', async () => {
  const outside = await tree({ 'secret.txt': 'not for upload' });
  const root = await tree({ 'index.html': '<html>', 'css/site.css': 'a{}' });
  try {
    await symlink(join(outside, 'secret.txt'), join(root, 'leak.txt'));
    await mkdir(join(root, 'node_modules', '.bin'), { recursive: true });
    await symlink('../missing/cli.js', join(root, 'node_modules', '.bin', 'tool'));
    await symlink(outside, join(root, 'linked'));
    const selected = async (patterns: string[]) =>
      (await selectFiles(root, patterns)).map((file) => file.path);
    assert.deepEqual(await selected(['*.html']), ['index.html']);
    assert.deepEqual(await selected(['*.html', 'css/**']), ['css/site.css', 'index.html']);
    assert.deepEqual(await selected(['css/*.css', '!node_modules/**']), ['css/site.css']);
    // Each bad link is still refused where a line could select it.
    await assert.rejects(selectFiles(root, ['*.txt']), /leak\.txt .* leads outside the source folder/);
    await assert.rejects(selectFiles(root, ['node_modules/**']), /node_modules\/\.bin\/tool points at/);
    await assert.rejects(selectFiles(root, ['linked/*.txt']), /linked .* leads outside the source folder/);
  } finally {
    await rm(root, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  }
});
