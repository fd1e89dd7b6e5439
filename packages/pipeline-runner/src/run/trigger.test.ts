import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Trigger } from '../model';
import { branchMatches, ciTriggerVerdict } from './trigger';

const trigger = (include: string[], exclude: string[] = [], enabled = true): Trigger => ({
  enabled,
  branches: { include, exclude },
  paths: { include: [], exclude: [] },
  tags: { include: [], exclude: [] },
  batch: false,
});

test('branch filters match short and full names with wildcards', () => {
  assert.equal(branchMatches('main', 'refs/heads/main'), true);
  assert.equal(branchMatches('refs/heads/main', 'refs/heads/main'), true);
  assert.equal(branchMatches('releases/*', 'refs/heads/releases/1.2'), true);
  assert.equal(branchMatches('releases/*', 'refs/heads/main'), false);
  assert.equal(branchMatches('*', 'refs/heads/anything/at/all'), true);
  assert.equal(branchMatches('ma.n', 'refs/heads/main'), false);
});

test('the CI trigger verdict follows include, exclude and none', () => {
  assert.equal(ciTriggerVerdict(trigger(['*']), 'refs/heads/dev').wouldRun, true);
  assert.equal(ciTriggerVerdict(trigger(['main']), 'refs/heads/dev').wouldRun, false);
  const excluded = ciTriggerVerdict(trigger(['*'], ['dev']), 'refs/heads/dev');
  assert.equal(excluded.wouldRun, false);
  assert.match(excluded.reason, /excluded/);
  assert.equal(ciTriggerVerdict(trigger(['*'], [], false), 'refs/heads/main').wouldRun, false);
});
