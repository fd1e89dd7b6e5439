import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMatcher } from './matcher';

describe('health-check matcher', () => {
  it('accepts single codes, lists and ranges', () => {
    const matches = parseMatcher('200,202,300-302');
    assert.deepEqual([200, 201, 202, 300, 302, 303].map(matches), [true, false, true, true, true, false]);
  });

  it('refuses codes outside 200-499 and malformed ranges with a ValidationError', () => {
    for (const bad of ['199', '500', '299-200', 'ok', '']) {
      assert.throws(() => parseMatcher(bad), { name: 'ValidationError' }, bad);
    }
  });
});
