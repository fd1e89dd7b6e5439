import { InvalidInputError } from '../errors';
import { RegionMissingError } from '../credentials/errors';

export interface RegionSources {
  /** Azure Pipelines variables by their pipeline names (`AWS.Region`). */
  pipelineVariables?: Record<string, string | undefined>;
  env: NodeJS.ProcessEnv;
}

/** Loose on purpose (new partitions appear), but rejects obvious typos such as "us east 1" or "US-EAST-1". */
const regionPattern = /^[a-z]{2,5}(-[a-z]+)+-\d{1,2}$/;

/**
 * The region, from the first place that has one: explicit input, the `AWS.Region` pipeline variable,
 * `AWS_REGION`, `AWS_DEFAULT_REGION`. Azure Pipelines exports `AWS.Region` to scripts as `AWS_REGION`
 * (dots become underscores, upper-cased), so the env form of the variable and the AWS convention coincide.
 */
export function resolveRegion(explicit: string | undefined, sources: RegionSources): string {
  const candidates: Array<[string, string | undefined]> = [
    ['the region input', explicit],
    ['the AWS.Region pipeline variable', sources.pipelineVariables?.['AWS.Region']],
    ['AWS_REGION', sources.env.AWS_REGION],
    ['AWS_DEFAULT_REGION', sources.env.AWS_DEFAULT_REGION],
  ];
  for (const [where, value] of candidates) {
    const region = value?.trim();
    if (!region) continue;
    if (!regionPattern.test(region)) {
      throw new InvalidInputError(
        `The region "${region}" from ${where} is not an AWS region name.`,
        'Use a region code such as us-east-1 or eu-west-2.',
      );
    }
    return region;
  }
  throw new RegionMissingError(
    'No AWS region was given: not in the region input, the AWS.Region pipeline variable, AWS_REGION or AWS_DEFAULT_REGION.',
    'Pass --region (task input "regionName"), or set AWS.Region / AWS_REGION, e.g. us-east-1.',
  );
}
