import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StackEvent } from '@aws-sdk/client-cloudformation';
import { formatEvent, rootCauses, StackEventTail, type DescribeEventsPage } from './events';

let sequence = 0;
function event(fields: Partial<StackEvent>): StackEvent {
  sequence++;
  return {
    EventId: `e${sequence}`,
    StackId: 'arn:stack/web/1',
    StackName: 'web',
    Timestamp: new Date(Date.UTC(2025, 0, 1, 12, 0, sequence)),
    LogicalResourceId: 'web',
    ResourceType: 'AWS::CloudFormation::Stack',
    ...fields,
  };
}

/** A fake DescribeStackEvents: newest first, `pageSize` per page, NextToken = offset. */
function fakeEvents(store: StackEvent[], pageSize = 2): { page: DescribeEventsPage; calls: number } {
  const state = {
    calls: 0,
    page: async (nextToken: string | undefined) => {
      state.calls++;
      const newestFirst = [...store].reverse();
      const offset = nextToken ? Number(nextToken) : 0;
      const events = newestFirst.slice(offset, offset + pageSize);
      return offset + pageSize < newestFirst.length
        ? { events, nextToken: String(offset + pageSize) }
        : { events };
    },
  };
  return state;
}

describe('StackEventTail', () => {
  it('returns only events after the baseline, oldest first, paging until a seen event, without duplicates', async () => {
    const store = [event({ ResourceStatus: 'CREATE_COMPLETE', ClientRequestToken: 'old' })];
    const fake = fakeEvents(store);
    const tail = new StackEventTail(fake.page, 'tok');
    await tail.markBaseline();
    const a = event({ ResourceStatus: 'UPDATE_IN_PROGRESS', ClientRequestToken: 'tok' });
    const b = event({
      LogicalResourceId: 'Bucket',
      ResourceType: 'AWS::S3::Bucket',
      ResourceStatus: 'UPDATE_IN_PROGRESS',
      ClientRequestToken: 'tok',
    });
    const c = event({
      LogicalResourceId: 'Bucket',
      ResourceType: 'AWS::S3::Bucket',
      ResourceStatus: 'UPDATE_COMPLETE',
      ClientRequestToken: 'tok',
    });
    store.push(a, b, c);
    fake.calls = 0;
    assert.deepEqual(
      (await tail.fetchNew()).map((e) => e.EventId),
      [a.EventId, b.EventId, c.EventId],
    );
    assert.equal(fake.calls, 2, 'two pages of two reach the baseline');
    assert.deepEqual(await tail.fetchNew(), [], 'nothing new, nothing repeated');
    const d = event({ ResourceStatus: 'UPDATE_COMPLETE', ClientRequestToken: 'tok' });
    store.push(d);
    assert.deepEqual(
      (await tail.fetchNew()).map((e) => e.EventId),
      [d.EventId],
    );
    assert.equal(tail.events.length, 4);
  });

  it("drops other operations' events (another token) but keeps untagged ones", async () => {
    const store: StackEvent[] = [];
    const tail = new StackEventTail(fakeEvents(store, 10).page, 'mine');
    const mine = event({ ResourceStatus: 'UPDATE_IN_PROGRESS', ClientRequestToken: 'mine' });
    const theirs = event({ ResourceStatus: 'UPDATE_IN_PROGRESS', ClientRequestToken: 'theirs' });
    const untagged = event({ ResourceStatus: 'UPDATE_COMPLETE' });
    store.push(mine, theirs, untagged);
    assert.deepEqual(
      (await tail.fetchNew()).map((e) => e.EventId),
      [mine.EventId, untagged.EventId],
    );
  });
});

describe('rootCauses', () => {
  it('names the first failed resources and skips cancellations and the stack itself', () => {
    const events = [
      event({ ResourceStatus: 'UPDATE_IN_PROGRESS' }),
      event({
        LogicalResourceId: 'Bucket',
        ResourceType: 'AWS::S3::Bucket',
        ResourceStatus: 'UPDATE_FAILED',
        ResourceStatusReason: 'Resource handler returned message: "Access Denied"',
      }),
      event({
        LogicalResourceId: 'Queue',
        ResourceType: 'AWS::SQS::Queue',
        ResourceStatus: 'UPDATE_FAILED',
        ResourceStatusReason: 'Resource update cancelled',
      }),
      event({
        ResourceStatus: 'UPDATE_ROLLBACK_IN_PROGRESS',
        ResourceStatusReason: 'The following resource(s) failed to update: [Bucket].',
      }),
      event({ ResourceStatus: 'UPDATE_ROLLBACK_COMPLETE' }),
    ];
    assert.deepEqual(rootCauses(events, 'web'), [
      {
        logicalId: 'Bucket',
        type: 'AWS::S3::Bucket',
        status: 'UPDATE_FAILED',
        reason: 'Resource handler returned message: "Access Denied"',
      },
    ]);
  });

  it('formats an event as one line', () => {
    const line = formatEvent(
      event({
        LogicalResourceId: 'Bucket',
        ResourceType: 'AWS::S3::Bucket',
        ResourceStatus: 'CREATE_FAILED',
        ResourceStatusReason: 'boom',
      }),
    );
    assert.match(line, /^\d\d:\d\d:\d\d {2}CREATE_FAILED {2}AWS::S3::Bucket {2}Bucket {2}boom$/);
  });
});
