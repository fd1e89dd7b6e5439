import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandListFlags, integerOption, parseCommandLine, splitList } from './usage';

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

test('a negative number is read as the value it is, and the option says what is wrong with it', () => {
  const options = { timeout: { type: 'string' }, verbose: { type: 'boolean' } } as const;
  const { values } = parseCommandLine('x', ['--timeout', '-5', '--verbose'], options);
  assert.equal(values.timeout, '-5');
  assert.equal(values.verbose, true);
  assert.throws(
    () => integerOption('x', 'timeout', values.timeout, { min: 1, max: 10_080 }),
    /--timeout must be between 1 and 10080, got -5\./,
  );
  assert.throws(() => integerOption('x', 'duration', '-1'), /--duration must be 0 or more, got -1\./);
  assert.throws(
    () => integerOption('x', 'duration', '1.5'),
    /--duration must be a whole number, got "1\.5"\./,
  );
  // A dash that is not a number is still an option.
  assert.throws(() => parseCommandLine('x', ['--timeout', '--verbose'], options), /--timeout/);
});
