import { AwsError } from '../aws/errors';
import type { ApplicationRecord, RevisionLocation } from './model';
import { epochSeconds, newResourceId, revisionKey } from './model';

/** Applications and the revisions registered for (or deployed from) each. */

export interface RevisionRecord {
  revision: RevisionLocation;
  description?: string;
  deploymentGroups: Set<string>;
  registerTime: Date;
  firstUsedTime?: Date;
  lastUsedTime?: Date;
}

interface ApplicationEntry {
  record: ApplicationRecord;
  revisions: Map<string, RevisionRecord>;
}

export class ApplicationStore {
  private readonly applications = new Map<string, ApplicationEntry>();

  create(name: string, computePlatform: string | undefined, now: Date): ApplicationRecord {
    if (computePlatform !== undefined && computePlatform !== 'Server') {
      if (computePlatform === 'Lambda' || computePlatform === 'ECS')
        throw new AwsError(
          'InvalidComputePlatformException',
          `The sandbox deploys to EC2/on-premises only (computePlatform Server), not ${computePlatform}.`,
        );
      throw new AwsError(
        'InvalidComputePlatformException',
        'The computePlatform is invalid. The computePlatform should be Lambda, Server, or ECS.',
      );
    }
    if (name.length > 100)
      throw new AwsError(
        'InvalidApplicationNameException',
        'The application name was specified in an invalid format.',
      );
    if (this.applications.has(name))
      throw new AwsError('ApplicationAlreadyExistsException', `Application '${name}' already exists.`);
    const record: ApplicationRecord = {
      applicationId: newResourceId(),
      applicationName: name,
      createTime: now,
      computePlatform: 'Server',
    };
    this.applications.set(name, { record, revisions: new Map() });
    return record;
  }

  get(name: string): ApplicationRecord | undefined {
    return this.applications.get(name)?.record;
  }

  require(name: string): ApplicationRecord {
    const entry = this.applications.get(name);
    if (!entry)
      throw new AwsError('ApplicationDoesNotExistException', `No application found for name: ${name}`);
    return entry.record;
  }

  names(): string[] {
    return [...this.applications.keys()].sort();
  }

  delete(name: string): void {
    // Deleting a missing application succeeds, as AWS's does.
    this.applications.delete(name);
  }

  registerRevision(
    applicationName: string,
    revision: RevisionLocation,
    description: string | undefined,
    now: Date,
  ): RevisionRecord {
    const entry = this.applications.get(applicationName);
    if (!entry)
      throw new AwsError(
        'ApplicationDoesNotExistException',
        `No application found for name: ${applicationName}`,
      );
    const key = revisionKey(revision);
    const existing = entry.revisions.get(key);
    if (existing) {
      if (description !== undefined) existing.description = description;
      return existing;
    }
    const record: RevisionRecord = {
      revision,
      ...(description !== undefined ? { description } : {}),
      deploymentGroups: new Set(),
      registerTime: now,
    };
    entry.revisions.set(key, record);
    return record;
  }

  /** A deployment registers its revision implicitly and marks it used by the group. */
  recordUse(
    applicationName: string,
    revision: RevisionLocation,
    deploymentGroupName: string,
    now: Date,
  ): void {
    const record = this.registerRevision(applicationName, revision, undefined, now);
    record.deploymentGroups.add(deploymentGroupName);
    record.firstUsedTime ??= now;
    record.lastUsedTime = now;
  }

  revision(applicationName: string, revision: RevisionLocation): RevisionRecord | undefined {
    return this.applications.get(applicationName)?.revisions.get(revisionKey(revision));
  }

  revisions(applicationName: string): RevisionRecord[] {
    return [...(this.applications.get(applicationName)?.revisions.values() ?? [])];
  }
}

export function renderApplication(record: ApplicationRecord): Record<string, unknown> {
  return {
    applicationId: record.applicationId,
    applicationName: record.applicationName,
    createTime: epochSeconds(record.createTime),
    linkedToGitHub: false,
    computePlatform: record.computePlatform,
  };
}

export function renderRevisionInfo(record: RevisionRecord): Record<string, unknown> {
  return {
    ...(record.description !== undefined ? { description: record.description } : {}),
    deploymentGroups: [...record.deploymentGroups].sort(),
    ...(record.firstUsedTime ? { firstUsedTime: epochSeconds(record.firstUsedTime) } : {}),
    ...(record.lastUsedTime ? { lastUsedTime: epochSeconds(record.lastUsedTime) } : {}),
    registerTime: epochSeconds(record.registerTime),
  };
}
