import { AwsError } from '../aws/errors';
import { newEc2Id } from './ids';
import type { LaunchTemplateData } from './types';

export interface LaunchTemplateVersion {
  readonly versionNumber: number;
  readonly data: LaunchTemplateData;
  readonly createTime: Date;
  readonly description?: string;
}

export interface LaunchTemplateRecord {
  readonly launchTemplateId: string;
  readonly name: string;
  readonly createTime: Date;
  readonly createdBy: string;
  defaultVersionNumber: number;
  readonly versions: LaunchTemplateVersion[];
}

const NAME_PATTERN = /^[a-zA-Z0-9().\-/_]{3,128}$/;

/** EC2 launch templates with numbered versions; `$Latest` and `$Default` resolve as EC2 resolves them. */
export class LaunchTemplates {
  private readonly byId = new Map<string, LaunchTemplateRecord>();

  constructor(
    private readonly now: () => Date,
    private readonly createdBy: string,
  ) {}

  create(name: string, data: LaunchTemplateData, description?: string): LaunchTemplateRecord {
    if (!NAME_PATTERN.test(name)) {
      throw new AwsError(
        'InvalidLaunchTemplateName.MalformedException',
        'A launch template name must be between 3 and 128 characters, and may contain letters, numbers, and the following characters: - ( ) . / _.',
      );
    }
    if (this.byName(name))
      throw new AwsError(
        'InvalidLaunchTemplateName.AlreadyExistsException',
        'Launch template name already in use.',
      );
    const createTime = this.now();
    const record: LaunchTemplateRecord = {
      launchTemplateId: newEc2Id('lt'),
      name,
      createTime,
      createdBy: this.createdBy,
      defaultVersionNumber: 1,
      versions: [{ versionNumber: 1, data: structuredClone(data), createTime, description }],
    };
    this.byId.set(record.launchTemplateId, record);
    return record;
  }

  /** CreateLaunchTemplateVersion; the default version stays where it is, as on EC2. */
  addVersion(idOrName: string, data: LaunchTemplateData, description?: string): LaunchTemplateVersion {
    const record = this.require(idOrName);
    const version: LaunchTemplateVersion = {
      versionNumber: record.versions.length + 1,
      data: structuredClone(data),
      createTime: this.now(),
      description,
    };
    record.versions.push(version);
    return version;
  }

  setDefaultVersion(idOrName: string, versionNumber: number): void {
    const record = this.require(idOrName);
    this.resolveVersion(record, String(versionNumber));
    record.defaultVersionNumber = versionNumber;
  }

  delete(idOrName: string): LaunchTemplateRecord {
    const record = this.require(idOrName);
    this.byId.delete(record.launchTemplateId);
    return record;
  }

  find(idOrName: string): LaunchTemplateRecord | undefined {
    return this.byId.get(idOrName) ?? this.byName(idOrName);
  }

  /** By id (`lt-…`) or name; the errors EC2 gives for each. */
  require(idOrName: string): LaunchTemplateRecord {
    const record = this.find(idOrName);
    if (record) return record;
    if (idOrName.startsWith('lt-'))
      throw new AwsError(
        'InvalidLaunchTemplateId.NotFound',
        `The specified launch template, with template ID ${idOrName}, does not exist.`,
      );
    throw new AwsError(
      'InvalidLaunchTemplateName.NotFoundException',
      `The specified launch template, with template name ${idOrName}, does not exist.`,
    );
  }

  all(): LaunchTemplateRecord[] {
    return [...this.byId.values()];
  }

  /** `$Latest`, `$Default` (also when omitted) or a version number. */
  resolveVersion(record: LaunchTemplateRecord, version: string | undefined): LaunchTemplateVersion {
    const wanted =
      version === undefined || version === '' || version === '$Default'
        ? record.defaultVersionNumber
        : version === '$Latest'
          ? record.versions.length
          : /^\d+$/.test(version)
            ? Number(version)
            : NaN;
    const found = record.versions.find((v) => v.versionNumber === wanted);
    if (!found) {
      throw new AwsError(
        'InvalidLaunchTemplateId.VersionNotFound',
        `Could not find the specified version ${version ?? ''} for the launch template with ID ${record.launchTemplateId}.`,
      );
    }
    return found;
  }

  private byName(name: string): LaunchTemplateRecord | undefined {
    for (const record of this.byId.values()) if (record.name === name) return record;
    return undefined;
  }
}
