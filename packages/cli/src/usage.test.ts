import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandListFlags, splitList } from './usage';

const lists = new Set(['parameter-overrides', 'exclude']);

test('list options take several values, AWS CLI style; other options and everything after -- are untouched', () => {
  assert.deepEqual(
    expandListFlags(['--parameter-overrides', 'A=1', 'B=2', '--stack-name', 's', '--exclude=x', 'y'], lists),
    ['--parameter-overrides', 'A=1', '--parameter-overrides', 'B=2', '--stack-name', 's', '--exclude=x', 'y'],
  );
  assert.deepEqual(expandListFlags(['--exclude', 'a', '--', 'b', 'c'], lists), [
    '--exclude',
    'a',
    '--',
    'b',
    'c',
  ]);
});

test('repeated and comma-separated values read the same', () => {
  assert.deepEqual(splitList(['a,b', ' c ', '']), ['a', 'b', 'c']);
  assert.deepEqual(splitList(undefined), []);
});
