import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock';
import type { Stack, StackEvent, StackResource } from './model';

/** Appends stack events in AWS's shapes; every event of one operation carries that operation's request token. */
export class EventRecorder {
  constructor(
    private readonly clock: Clock,
    private readonly target: Stack,
    private readonly clientRequestToken: string | undefined,
  ) {}

  /** The stack's own event: LogicalResourceId is the stack name, ResourceType AWS::CloudFormation::Stack. */
  stackEvent(status: string, reason?: string): StackEvent {
    return this.push({
      eventId: randomUUID(),
      logicalId: this.target.stackName,
      physicalId: this.target.stackId,
      resourceType: 'AWS::CloudFormation::Stack',
      status,
      reason,
    });
  }

  resourceEvent(
    resource: Pick<StackResource, 'logicalId' | 'type' | 'physicalId'>,
    status: string,
    reason?: string,
    properties?: Record<string, unknown>,
  ): StackEvent {
    const timestamp = new Date(this.clock.now());
    return this.push(
      {
        // Resource event ids are `<LogicalId>-<STATUS>-<ISO timestamp>` on AWS.
        eventId: `${resource.logicalId}-${status}-${timestamp.toISOString()}`,
        logicalId: resource.logicalId,
        physicalId: resource.physicalId ?? '',
        resourceType: resource.type,
        status,
        reason,
        properties: properties === undefined ? undefined : JSON.stringify(properties),
      },
      timestamp,
    );
  }

  private push(
    event: Omit<StackEvent, 'stackId' | 'stackName' | 'timestamp' | 'clientRequestToken'>,
    timestamp = new Date(this.clock.now()),
  ): StackEvent {
    const full: StackEvent = {
      ...event,
      stackId: this.target.stackId,
      stackName: this.target.stackName,
      timestamp,
      clientRequestToken: this.clientRequestToken,
    };
    // Keep ids unique even when one resource reaches the same status twice within a millisecond.
    if (this.target.events.some((e) => e.eventId === full.eventId))
      full.eventId += `-${randomUUID().slice(0, 8)}`;
    this.target.events.push(full);
    return full;
  }
}
