import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from '../errors';
import { ExecutableNotFoundError } from './errors';
import { findExecutable } from './executables';
import { prepareScript } from './script';

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'keyless-script-test-'));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('an inline script goes to a private temporary file (CRLF made LF) that cleanup removes', () =>
  withDir(async (dir) => {
    const script = await prepareScript({
      interpreter: 'bash',
      source: { inline: 'echo one\r\necho two' },
      args: ['a b', 'c'],
      env: { PATH: process.env.PATH },
      tempDirectory: dir,
    });
    assert.equal(script.command, findExecutable('bash', process.env));
    assert.deepEqual(script.args, [script.scriptPath, 'a b', 'c']);
    assert.ok(script.scriptPath.startsWith(dir) && script.scriptPath.endsWith('.sh'));
    assert.equal((await stat(script.scriptPath)).mode & 0o777, 0o700);
    assert.equal(await readFile(script.scriptPath, 'utf8'), 'echo one\necho two\n');
    await script.cleanup();
    assert.equal(existsSync(script.scriptPath), false);
  }));

test('a script file resolves against cwd and must exist; the error names the input', () =>
  withDir(async (dir) => {
    await writeFile(join(dir, 'deploy.sh'), 'exit 0\n');
    const script = await prepareScript({
      interpreter: 'sh',
      source: { file: 'deploy.sh' },
      env: { PATH: process.env.PATH },
      cwd: dir,
    });
    assert.deepEqual(script.args, [join(dir, 'deploy.sh')]);
    await script.cleanup();
    assert.ok(existsSync(join(dir, 'deploy.sh')), 'cleanup never removes a script file');
    await assert.rejects(
      prepareScript({
        interpreter: 'sh',
        source: { file: 'missing.sh' },
        env: { PATH: process.env.PATH },
        cwd: dir,
        fileLabel: 'AWSShellScript: the input "filePath"',
      }),
      (error: unknown) =>
        error instanceof InvalidInputError &&
        error.message === `AWSShellScript: the input "filePath": ${join(dir, 'missing.sh')} does not exist.`,
    );
  }));

test('pwsh that is not installed is a clear error; when present it runs the file non-interactively', () =>
  withDir(async (dir) => {
    await assert.rejects(
      prepareScript({ interpreter: 'pwsh', source: { inline: 'Write-Host hi' }, env: { PATH: dir } }),
      (error: unknown) =>
        error instanceof ExecutableNotFoundError &&
        /interpreter pwsh is not installed/.test(error.message) &&
        /Install PowerShell 7/.test(error.fix ?? ''),
    );
    const fake = join(dir, 'pwsh');
    await writeFile(fake, '#!/bin/sh\nexit 0\n');
    await chmod(fake, 0o755);
    const script = await prepareScript({
      interpreter: 'pwsh',
      source: { inline: 'aws --version' },
      env: { PATH: dir },
      tempDirectory: dir,
    });
    assert.equal(script.command, fake);
    assert.deepEqual(script.args.slice(0, 4), ['-NoLogo', '-NoProfile', '-NonInteractive', '-File']);
    assert.ok(script.scriptPath.endsWith('.ps1'));
    const text = await readFile(script.scriptPath, 'utf8');
    assert.match(text, /^\$ErrorActionPreference = 'Stop'\naws --version\n/);
    assert.match(text, /exit \$LASTEXITCODE/);
    await script.cleanup();
  }));
