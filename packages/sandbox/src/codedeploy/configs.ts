import { AwsError } from '../aws/errors';
import type { DeploymentConfigRecord, MinimumHealthyHosts } from './model';
import { newResourceId } from './model';

/**
 * Deployment configurations and their health math: how many instances a deployment may take out of service at
 * once, and when too many failures end it with HEALTH_CONSTRAINTS.
 */

export const DEFAULT_DEPLOYMENT_CONFIG = 'CodeDeployDefault.OneAtATime';
export const ONE_AT_A_TIME = 'CodeDeployDefault.OneAtATime';

const BUILT_IN: Array<{ name: string; minimumHealthyHosts: MinimumHealthyHosts }> = [
  // As GetDeploymentConfig reports them.
  { name: 'CodeDeployDefault.OneAtATime', minimumHealthyHosts: { type: 'FLEET_PERCENT', value: 99 } },
  { name: 'CodeDeployDefault.HalfAtATime', minimumHealthyHosts: { type: 'FLEET_PERCENT', value: 50 } },
  { name: 'CodeDeployDefault.AllAtOnce', minimumHealthyHosts: { type: 'HOST_COUNT', value: 0 } },
];

export class DeploymentConfigStore {
  private readonly configs = new Map<string, DeploymentConfigRecord>();

  constructor(now: () => Date) {
    for (const { name, minimumHealthyHosts } of BUILT_IN) {
      this.configs.set(name, {
        deploymentConfigId: newResourceId(),
        deploymentConfigName: name,
        minimumHealthyHosts,
        createTime: now(),
        computePlatform: 'Server',
        builtIn: true,
      });
    }
  }

  get(name: string): DeploymentConfigRecord | undefined {
    return this.configs.get(name);
  }

  require(name: string): DeploymentConfigRecord {
    const config = this.configs.get(name);
    if (!config)
      throw new AwsError(
        'DeploymentConfigDoesNotExistException',
        `No deployment configuration found for name: ${name}`,
      );
    return config;
  }

  names(): string[] {
    return [...this.configs.keys()].sort();
  }

  create(
    name: string,
    minimumHealthyHosts: MinimumHealthyHosts | undefined,
    now: Date,
  ): DeploymentConfigRecord {
    if (name.startsWith('CodeDeployDefault.') || this.configs.has(name))
      throw new AwsError(
        'DeploymentConfigAlreadyExistsException',
        `Deployment Configuration already exists with name: ${name}`,
      );
    if (!minimumHealthyHosts)
      throw new AwsError(
        'InvalidMinimumHealthyHostValueException',
        'The minimum healthy instance value was specified in an invalid format.',
      );
    validateMinimumHealthyHosts(minimumHealthyHosts);
    const record: DeploymentConfigRecord = {
      deploymentConfigId: newResourceId(),
      deploymentConfigName: name,
      minimumHealthyHosts,
      createTime: now,
      computePlatform: 'Server',
      builtIn: false,
    };
    this.configs.set(name, record);
    return record;
  }

  delete(name: string, inUse: boolean): void {
    const config = this.configs.get(name);
    if (config?.builtIn)
      throw new AwsError(
        'InvalidOperationException',
        'The default deployment configurations cannot be deleted.',
      );
    if (inUse)
      throw new AwsError(
        'DeploymentConfigInUseException',
        `The deployment configuration ${name} is still in use.`,
      );
    // Deleting a missing configuration succeeds, as AWS's does.
    this.configs.delete(name);
  }
}

export function validateMinimumHealthyHosts(value: MinimumHealthyHosts): void {
  const valid =
    (value.type === 'HOST_COUNT' || value.type === 'FLEET_PERCENT') &&
    Number.isInteger(value.value) &&
    value.value >= 0 &&
    (value.type === 'HOST_COUNT' || value.value <= 99);
  if (!valid)
    throw new AwsError(
      'InvalidMinimumHealthyHostValueException',
      'The minimum healthy instance value was specified in an invalid format.',
    );
}

/** A deployment's pacing and failure rule over `total` instances, fixed at its start as AWS fixes it. */
export interface HealthPlan {
  total: number;
  /** Instances that must stay healthy (not failed, not being deployed) throughout. */
  minimumHealthy: number;
  /** Instances deployed at once. */
  batchSize: number;
  /** A configuration AWS refuses before touching any instance (HEALTH_CONSTRAINTS_INVALID). */
  invalid?: string;
  /** OneAtATime's rule: a failure on the very last instance does not fail the deployment. */
  toleratesLastFailure: boolean;
}

export function healthPlan(config: DeploymentConfigRecord, total: number): HealthPlan {
  const { type, value } = config.minimumHealthyHosts;
  // FLEET_PERCENT converts to instances rounding up, as AWS documents.
  const minimumHealthy = type === 'HOST_COUNT' ? value : Math.ceil((total * value) / 100);
  const toleratesLastFailure = config.deploymentConfigName === ONE_AT_A_TIME;
  const batchSize = Math.max(1, total - minimumHealthy);
  const plan: HealthPlan = { total, minimumHealthy, batchSize, toleratesLastFailure };
  if (type === 'HOST_COUNT' && total > 0 && value >= total) {
    plan.invalid = `The deployment failed because the minimum number of healthy instances (${value}) for the deployment configuration '${config.deploymentConfigName}' is greater than or equal to the number of instances (${total}) in the deployment group.`;
  }
  return plan;
}

/** Whether the deployment can go on after `failed` failures (checked before each batch and at the end). */
export function healthy(plan: HealthPlan, failed: number, lastInstanceFailed: boolean): boolean {
  if (plan.total === 0) return true;
  // "AllAtOnce": the deployment succeeds if at least one instance does.
  if (plan.minimumHealthy === 0) return failed < plan.total;
  // A single-instance group gets no such exception: that instance must succeed.
  if (plan.toleratesLastFailure && plan.total > 1 && failed === 1 && lastInstanceFailed) return true;
  return plan.total - failed >= plan.minimumHealthy;
}

export const HEALTH_CONSTRAINTS_MESSAGE =
  'The overall deployment failed because too many individual instances failed deployment, too few healthy instances are available for deployment, or some instances in your deployment group are experiencing problems.';

/** Splits instances into the batches the plan deploys, in order. */
export function batches<T>(items: T[], plan: HealthPlan): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += plan.batchSize) out.push(items.slice(i, i + plan.batchSize));
  return out;
}
