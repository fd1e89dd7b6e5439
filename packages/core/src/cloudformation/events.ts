import { DescribeStackEventsCommand, type StackEvent } from '@aws-sdk/client-cloudformation';
import type { FailedResource } from './errors';

/** The one DescribeStackEvents call the tail needs, injectable for tests. */
export type DescribeEventsPage = (
  nextToken: string | undefined,
) => Promise<{ events: StackEvent[]; nextToken?: string }>;

/** At most this many pages per look: a first look at a stack with a long history must stay cheap. */
const maxPagesPerFetch = 10;

/**
 * Follows one stack operation's events as they happen: pages newest-first until it reaches an event it has
 * already seen, deduplicates by EventId, keeps only this operation's events (by ClientRequestToken; events
 * without one are kept, since some endpoints do not tag them) and hands them back oldest first.
 */
export class StackEventTail {
  private readonly seen = new Set<string>();
  /** Every event of this operation so far, oldest first. */
  readonly events: StackEvent[] = [];

  constructor(
    private readonly describePage: DescribeEventsPage,
    /** The operation's ClientRequestToken; undefined follows every new event. */
    private readonly token: string | undefined,
  ) {}

  /** Marks the stack's current events as history, so only events after this point are reported. */
  async markBaseline(): Promise<void> {
    const { events } = await this.describePage(undefined);
    for (const event of events) if (event.EventId) this.seen.add(event.EventId);
  }

  /** The operation's events that appeared since the last call, oldest first. */
  async fetchNew(): Promise<StackEvent[]> {
    const fresh: StackEvent[] = [];
    let nextToken: string | undefined;
    pages: for (let page = 0; page < maxPagesPerFetch; page++) {
      const result = await this.describePage(nextToken);
      for (const event of result.events) {
        if (!event.EventId) continue;
        if (this.seen.has(event.EventId)) break pages;
        fresh.push(event);
      }
      nextToken = result.nextToken;
      if (!nextToken) break;
    }
    for (const event of fresh) if (event.EventId) this.seen.add(event.EventId);
    const ours = fresh
      .filter(
        (event) =>
          this.token === undefined ||
          event.ClientRequestToken === undefined ||
          event.ClientRequestToken === this.token,
      )
      .reverse();
    this.events.push(...ours);
    return ours;
  }
}

export function describeEventsPage(
  send: (command: DescribeStackEventsCommand) => Promise<{ StackEvents?: StackEvent[]; NextToken?: string }>,
  stackId: string,
): DescribeEventsPage {
  return async (nextToken) => {
    const output = await send(new DescribeStackEventsCommand({ StackName: stackId, NextToken: nextToken }));
    return { events: output.StackEvents ?? [], ...(output.NextToken ? { nextToken: output.NextToken } : {}) };
  };
}

/** The stack's own event (not a resource's), for the stack named `stackName`. */
export function isStackEvent(event: StackEvent, stackName: string): boolean {
  return event.ResourceType === 'AWS::CloudFormation::Stack' && event.LogicalResourceId === stackName;
}

/** One event as a log line: time, status, type, logical id, reason. */
export function formatEvent(event: StackEvent): string {
  const time = event.Timestamp ? event.Timestamp.toISOString().slice(11, 19) : '--:--:--';
  const reason = event.ResourceStatusReason ? `  ${event.ResourceStatusReason}` : '';
  return `${time}  ${event.ResourceStatus ?? '?'}  ${event.ResourceType ?? '?'}  ${event.LogicalResourceId ?? '?'}${reason}`;
}

/** "Resource creation cancelled" and the like are consequences of another failure, not causes. */
const consequence = /cancell?ed|rollback requested|following resource\(s\) failed/i;

/**
 * The root cause of a failed operation: the first resources that failed, with CloudFormation's reason,
 * ignoring failures that were only the consequence of an earlier one.
 */
export function rootCauses(events: StackEvent[], stackName: string, limit = 3): FailedResource[] {
  const failed = events.filter(
    (event) => event.ResourceStatus?.endsWith('_FAILED') && !isStackEvent(event, stackName),
  );
  const causes = failed.filter((event) => !consequence.test(event.ResourceStatusReason ?? ''));
  return (causes.length ? causes : failed).slice(0, limit).map((event) => ({
    logicalId: event.LogicalResourceId ?? '?',
    type: event.ResourceType ?? '?',
    status: event.ResourceStatus ?? '?',
    reason: event.ResourceStatusReason ?? 'no reason given',
  }));
}
