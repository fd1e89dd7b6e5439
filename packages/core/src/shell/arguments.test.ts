import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../errors';
import { splitArguments } from './arguments';

test('whitespace separates; runs of it and leading/trailing blanks make no empty arguments', () => {
  assert.deepEqual(splitArguments('  --bucket  my-bucket\t--recursive\n'), [
    '--bucket',
    'my-bucket',
    '--recursive',
  ]);
  assert.deepEqual(splitArguments(''), []);
  assert.deepEqual(splitArguments('   '), []);
});

test('quotes keep spaces, join with adjacent text, and may be empty', () => {
  assert.deepEqual(splitArguments(`--query 'Stacks[0].Outputs[?OutputKey=="Url"]' --name="my app" ""`), [
    '--query',
    'Stacks[0].Outputs[?OutputKey=="Url"]',
    '--name=my app',
    '',
  ]);
  assert.deepEqual(splitArguments(`"it's" 'say "hi"'`), ["it's", 'say "hi"']);
});

test('backslashes escape whitespace, quotes and backslashes; other backslashes (Windows paths) stay', () => {
  assert.deepEqual(splitArguments('my\\ file.txt \\"x\\" C:\\work\\out "a\\"b" "c\\\\d"'), [
    'my file.txt',
    '"x"',
    'C:\\work\\out',
    'a"b',
    'c\\d',
  ]);
  assert.deepEqual(splitArguments('one \\\ntwo'), ['one', 'two']);
});

test('nothing is evaluated: variables, globs and substitutions stay literal', () => {
  assert.deepEqual(splitArguments('$HOME *.txt $(whoami) `id` ; rm -rf /'), [
    '$HOME',
    '*.txt',
    '$(whoami)',
    '`id`',
    ';',
    'rm',
    '-rf',
    '/',
  ]);
});

test('an unterminated quote is an input error naming the input', () => {
  assert.throws(
    () => splitArguments(`--name 'unfinished`, 'AWSCLI: the input "awsArguments"'),
    (error: unknown) =>
      error instanceof InvalidInputError &&
      /the input "awsArguments" has an unterminated ' quote/.test(error.message) &&
      /Close the quote/.test(error.fix ?? ''),
  );
  assert.throws(() => splitArguments('"abc'), /unterminated " quote/);
});
