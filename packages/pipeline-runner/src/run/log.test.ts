import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Masker } from '../logging/masker';
import { RunLog } from './log';

test('parallel jobs stay contiguous: the oldest streams, the others are held back', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'keyless-log-'));
  try {
    const seen: string[] = [];
    const masker = new Masker();
    const log = new RunLog(join(dir, 'run.log'), (line) => seen.push(line), masker);
    log.write('header');
    const a = log.channel();
    const b = log.channel();
    a.write('a1');
    b.write('b1');
    assert.deepEqual(seen, ['header', 'a1']);
    b.write('b2');
    b.close();
    a.write('a2');
    a.close();
    const c = log.channel();
    c.write('c1');
    log.close();
    assert.deepEqual(seen, ['header', 'a1', 'a2', 'b1', 'b2', 'c1']);
    assert.equal(await readFile(join(dir, 'run.log'), 'utf8'), `${seen.join('\n')}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('lines are masked when they are emitted, in the sink and the file alike', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'keyless-log-'));
  try {
    const seen: string[] = [];
    const masker = new Masker();
    const log = new RunLog(join(dir, 'run.log'), (line) => seen.push(line), masker);
    const a = log.channel();
    const b = log.channel();
    b.write('token is s3cr3t-value');
    // Registered after b wrote its line but before the line was emitted: still masked.
    masker.add('s3cr3t-value');
    a.write('echo s3cr3t-value');
    a.close();
    log.close();
    const file = await readFile(join(dir, 'run.log'), 'utf8');
    assert.ok(!file.includes('s3cr3t-value'), file);
    assert.ok(!seen.some((line) => line.includes('s3cr3t-value')));
    assert.deepEqual(seen, ['echo ***', 'token is ***']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
