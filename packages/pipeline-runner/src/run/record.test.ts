import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Masker } from '../logging/masker';
import { countSteps, maskedRecord, type JobRecord, type RunRecord, type StageRecord } from './record';

const job = (overrides: Partial<JobRecord>): JobRecord => ({
  name: 'Job',
  displayName: 'Job',
  result: 'Succeeded',
  durationMs: 0,
  variables: {},
  outputs: {},
  steps: [],
  ...overrides,
});
const stage = (jobs: JobRecord[]): StageRecord => ({
  name: 'S',
  displayName: 'S',
  result: 'Failed',
  durationMs: 0,
  jobs,
});

test('a job that failed before any step ran counts its error', () => {
  const counts = countSteps([
    stage([
      job({ name: 'Cycle', result: 'Failed', message: 'Variables reference each other in a cycle' }),
      job({ name: 'Skipped', result: 'Skipped', message: 'Condition succeeded() is false.' }),
    ]),
  ]);
  assert.deepEqual(counts, { steps: 0, failed: 0, skipped: 0, issues: { errors: 1, warnings: 0 } });
});

test('maskedRecord masks every string, however deep, and leaves the original alone', () => {
  const masker = new Masker();
  masker.add('hunter2-secret');
  const record = {
    runId: '1',
    stages: [
      stage([
        job({
          displayName: 'Deploy hunter2-secret',
          variables: { x: 'a hunter2-secret b', 'name-hunter2-secret': 'val' },
        }),
      ]),
    ],
  } as unknown as RunRecord;
  const masked = maskedRecord(masker, record);
  assert.equal(masked.stages[0]!.jobs[0]!.displayName, 'Deploy ***');
  assert.equal(masked.stages[0]!.jobs[0]!.variables['x'], 'a *** b');
  assert.equal(masked.stages[0]!.jobs[0]!.variables['name-***'], 'val');
  assert.equal(record.stages[0]!.jobs[0]!.displayName, 'Deploy hunter2-secret');
  assert.ok(!JSON.stringify(masked).includes('hunter2'));
});
