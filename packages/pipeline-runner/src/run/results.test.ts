import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TaskResult } from '../model';
import {
  applyContinueOnError,
  dependencyStatus,
  exitCodeFor,
  isSuccessful,
  mergeResult,
  rollUp,
} from './results';

test('merging is worst-wins between Succeeded, SucceededWithIssues and Failed', () => {
  assert.equal(mergeResult(undefined, 'SucceededWithIssues'), 'SucceededWithIssues');
  assert.equal(mergeResult('Succeeded', 'SucceededWithIssues'), 'SucceededWithIssues');
  assert.equal(mergeResult('SucceededWithIssues', 'Succeeded'), 'SucceededWithIssues');
  assert.equal(mergeResult('SucceededWithIssues', 'Failed'), 'Failed');
  assert.equal(mergeResult('Failed', 'Succeeded'), 'Failed');
});

test('Canceled, Skipped and Abandoned are sticky once merged', () => {
  for (const sticky of ['Canceled', 'Skipped', 'Abandoned'] as TaskResult[]) {
    assert.equal(mergeResult(sticky, 'Failed'), sticky);
    assert.equal(mergeResult(sticky, 'Succeeded'), sticky);
  }
  assert.equal(mergeResult('Failed', 'Canceled'), 'Canceled');
});

test('continueOnError turns only Failed into SucceededWithIssues', () => {
  assert.equal(applyContinueOnError('Failed', true), 'SucceededWithIssues');
  assert.equal(applyContinueOnError('Failed', false), 'Failed');
  assert.equal(applyContinueOnError('Canceled', true), 'Canceled');
  assert.equal(applyContinueOnError('Succeeded', true), 'Succeeded');
});

test('roll-up ignores skipped children unless all were skipped', () => {
  assert.equal(rollUp(['Succeeded', 'Skipped', 'Succeeded']), 'Succeeded');
  assert.equal(rollUp(['Succeeded', 'Skipped', 'SucceededWithIssues']), 'SucceededWithIssues');
  assert.equal(rollUp(['Skipped', 'Failed', 'Succeeded']), 'Failed');
  assert.equal(rollUp(['Skipped', 'Skipped']), 'Skipped');
  assert.equal(rollUp([]), 'Succeeded');
  assert.equal(rollUp(['Failed', 'Canceled']), 'Canceled');
});

test('a skipped or failed dependency makes the status not succeeded; cancellation wins', () => {
  assert.equal(isSuccessful(dependencyStatus(['Succeeded', 'SucceededWithIssues'], false)), true);
  assert.equal(isSuccessful(dependencyStatus(['Succeeded', 'Skipped'], false)), false);
  assert.equal(dependencyStatus(['Succeeded', 'Failed'], false), 'Failed');
  assert.equal(dependencyStatus([], false), 'Succeeded');
  assert.equal(dependencyStatus(['Succeeded'], true), 'Canceled');
});

test('exit codes: 0 for (partial) success, 1 for failure and cancellation', () => {
  assert.equal(exitCodeFor('Succeeded'), 0);
  assert.equal(exitCodeFor('SucceededWithIssues'), 0);
  assert.equal(exitCodeFor('Failed'), 1);
  assert.equal(exitCodeFor('Canceled'), 1);
});
