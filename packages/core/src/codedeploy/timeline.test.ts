import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instanceTimelines } from './timeline';

test('blue/green targets become ORIGINAL then REPLACEMENT instances, each sorted by id, with event timings', () => {
  const timelines = instanceTimelines([
    { targetId: 'i-green-b', instanceLabel: 'Green', status: 'Succeeded' },
    { targetId: 'i-blue-a', instanceLabel: 'Blue', status: 'Succeeded' },
    {
      targetId: 'i-green-a',
      instanceLabel: 'Green',
      status: 'Failed',
      lifecycleEvents: [
        {
          lifecycleEventName: 'ValidateService',
          status: 'Failed',
          startTime: new Date(1_000),
          endTime: new Date(4_250),
          diagnostics: { errorCode: 'ScriptFailed', scriptName: 'check.sh', logTail: '[stderr]503' },
        },
        { lifecycleEventName: 'AllowTraffic', status: 'Skipped' },
      ],
    },
  ]);
  assert.deepEqual(
    timelines.map((timeline) => [timeline.instanceId, timeline.role]),
    [
      ['i-blue-a', 'ORIGINAL'],
      ['i-green-a', 'REPLACEMENT'],
      ['i-green-b', 'REPLACEMENT'],
    ],
  );
  assert.deepEqual(timelines[1]?.events, [
    {
      name: 'ValidateService',
      status: 'Failed',
      startTime: new Date(1_000),
      endTime: new Date(4_250),
      durationMs: 3_250,
      errorCode: 'ScriptFailed',
      scriptName: 'check.sh',
      logTail: '[stderr]503',
    },
    { name: 'AllowTraffic', status: 'Skipped' },
  ]);
});

test('in-place targets have no role; missing fields are named rather than dropped', () => {
  const [only] = instanceTimelines([
    { targetArn: 'arn:aws:ec2:us-east-1:1:instance/i-1', lifecycleEvents: [{}] },
  ]);
  assert.equal(only?.instanceId, 'arn:aws:ec2:us-east-1:1:instance/i-1');
  assert.equal(only?.role, undefined);
  assert.equal(only?.status, 'Unknown');
  assert.deepEqual(only?.events, [{ name: 'unknown event', status: 'Unknown' }]);
});
