import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeCommandData } from './command';
import { Masker } from './masker';

function masker(...secrets: string[]): Masker {
  const m = new Masker();
  for (const secret of secrets) m.add(secret);
  return m;
}

test('a registered value is masked wherever it appears, and nothing else changes', () => {
  const m = masker('s3cr3t-value');
  assert.equal(m.mask('token=s3cr3t-value; again s3cr3t-value.'), 'token=***; again ***.');
  assert.equal(m.mask('nothing to see'), 'nothing to see');
  assert.equal(m.mask(''), '');
  assert.deepEqual([...m.values], ['s3cr3t-value']);
});

test('each encoded variant of a secret is masked', () => {
  const secret = 'p@ss "wörd"\\/%;\t!*';
  const m = masker(secret);
  const variants = {
    raw: secret,
    escapedData: escapeCommandData(`${secret}\n`).replace(/%0A$/, ''),
    base64: Buffer.from(secret, 'utf8').toString('base64'),
    json: JSON.stringify(secret).slice(1, -1),
    uri: encodeURIComponent(secret),
    rfc3986: encodeURIComponent(secret).replace(
      /[!'()*]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    ),
    backslash: secret.replace(/[\\"']/g, '\\$&').replaceAll('\t', '\\t'),
  };
  for (const [name, form] of Object.entries(variants)) {
    assert.equal(m.mask(`<${form}>`), '<***>', `${name} form ${JSON.stringify(form)}`);
  }
});

test('trimmed and quote-stripped forms are registered too', () => {
  const m = masker('  "quoted-secret-value"\r\n');
  assert.equal(m.mask('value: "quoted-secret-value"'), 'value: ***');
  assert.equal(m.mask('value: quoted-secret-value!'), 'value: ***!');
  assert.equal(m.mask(Buffer.from('quoted-secret-value').toString('base64')), '***');
});

test('the base64 variant is the whole value only: a secret inside longer base64 at another offset is not caught', () => {
  const m = masker('abcdefgh');
  assert.equal(m.mask(Buffer.from('abcdefgh').toString('base64')), '***');
  const shifted = Buffer.from('x:abcdefgh').toString('base64');
  assert.equal(m.mask(shifted), shifted);
});

test('regex metacharacters in secrets are literal', () => {
  const m = masker('a.b*c+d?(e)[f]{g}|h^$\\i');
  assert.equal(m.mask('x a.b*c+d?(e)[f]{g}|h^$\\i y'), 'x *** y');
  assert.equal(m.mask('aXbbbcdd(e)[f]{g}|h^$\\i'), 'aXbbbcdd(e)[f]{g}|h^$\\i');
});

test('overlapping secrets: the longer match wins and overlapping or adjacent matches merge into one mask', () => {
  const m = masker('abc', 'abcdef', 'defxyz');
  assert.equal(m.mask('abcdef'), '***');
  assert.equal(m.mask('[abc]'), '[***]');
  // 'abcdef' and 'defxyz' overlap on 'def': no character of either survives.
  assert.equal(m.mask('abcdefxyz!'), '***!');
  // Adjacent occurrences merge, as the agent merges replacement ranges.
  assert.equal(m.mask('abcabc'), '***');
  // A substring of a longer secret is only masked where it occurs on its own.
  assert.equal(masker('abcdef').mask('abc'), 'abc');
});

test('multi-line secrets: the whole value and each line are registered', () => {
  const m = masker('first-line-secret\nsecond-line-secret\n');
  assert.equal(m.mask('first-line-secret\nsecond-line-secret'), '***');
  assert.equal(m.mask('printed: first-line-secret'), 'printed: ***');
  assert.equal(m.mask('printed: second-line-secret'), 'printed: ***');
  assert.equal(m.mask(escapeCommandData('first-line-secret\nsecond-line-secret')), '***');
});

test('empty, whitespace and too-short values are ignored', () => {
  const m = new Masker({ minLength: 4 });
  m.add('');
  m.add('   \n');
  m.add('abc');
  m.add('abcd');
  assert.deepEqual([...m.values], ['abcd']);
  assert.equal(m.mask('abc abcd'), 'abc ***');
  assert.equal(new Masker().mask('a b c'), 'a b c');
  const single = masker('x');
  assert.equal(single.mask('box'), 'bo***');
});

test('URL credentials are masked without registration', () => {
  const m = new Masker();
  assert.equal(
    m.mask('git clone https://user:hunter2@example.com/repo'),
    'git clone https://user:***@example.com/repo',
  );
  assert.equal(m.mask('https://:pat-token@dev.azure.com/org'), 'https://:***@dev.azure.com/org');
  assert.equal(m.mask('see https://example.com:8443/path'), 'see https://example.com:8443/path');
  assert.equal(masker('hunter2').mask('https://u:hunter2@h and hunter2'), 'https://u:***@h and ***');
});

test('secrets added later are masked from then on', () => {
  const m = masker('first-secret');
  assert.equal(m.mask('first-secret second-secret'), '*** second-secret');
  m.add('second-secret');
  assert.equal(m.mask('first-secret second-secret'), '*** ***');
});

test('thousands of lines against hundreds of secrets: only the line holding one is changed', () => {
  const m = new Masker();
  for (let i = 0; i < 300; i++) m.add(`secret-${i}-${'x'.repeat(i % 20)}-value`);
  const lines = Array.from(
    { length: 5000 },
    (_, i) => `line ${i}: some ordinary build output with numbers ${i * 7}`,
  );
  lines[1234] = `leak secret-42-${'x'.repeat(42 % 20)}-value here`;
  const masked = lines.map((line) => m.mask(line));
  assert.equal(masked[1234], 'leak *** here');
  assert.deepEqual(
    masked.flatMap((line, i) => (line === lines[i] ? [] : [i])),
    [1234],
  );
});
