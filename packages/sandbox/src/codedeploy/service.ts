import { AwsError } from '../aws/errors';
import type { AwsEnvironment, AwsReply, AwsService } from '../aws/service';
import type { AgentFactory } from './agents';
import { AgentPool, instanceAgentFactory } from './agents';
import { ApplicationStore, renderApplication, renderRevisionInfo } from './applications';
import { DeploymentConfigStore } from './configs';
import {
  DeploymentGroupStore,
  newDeploymentGroup,
  readGroupSettings,
  renderDeploymentGroup,
} from './deployment-groups';
import { DeploymentStore, renderDeployment } from './deployments';
import type { WaitType } from './execution';
import type { DeploymentStatus, FileExistsBehavior, MinimumHealthyHosts } from './model';
import { epochSeconds } from './model';
import type { CodeDeployState } from './runner';
import { DeploymentRunner } from './runner';
import { batchGetTargets, instanceSummary, listInstanceIds, listTargetIds } from './targets';
import type { Input } from './wire';
import {
  asInput,
  optionalBoolean,
  optionalList,
  optionalObject,
  optionalString,
  pageOf,
  readAutoRollback,
  readRevision,
  readTargetInstances,
  requiredString,
  stringList,
} from './wire';

export const CODEDEPLOY_TARGET_PREFIX = 'CodeDeploy_20141006';

const PAGE_SIZE = 100;
const MAX_BATCH = 100;
const MAX_BATCH_DEPLOYMENTS = 25;

const APPLICATION_NAME_REQUIRED: [string, string] = [
  'ApplicationNameRequiredException',
  'The minimum number of required application names was not specified.',
];
const GROUP_NAME_REQUIRED: [string, string] = [
  'DeploymentGroupNameRequiredException',
  'The deployment group name was not specified.',
];
const DEPLOYMENT_ID_REQUIRED: [string, string] = [
  'DeploymentIdRequiredException',
  'At least one deployment ID must be specified.',
];
const CONFIG_NAME_REQUIRED: [string, string] = [
  'DeploymentConfigNameRequiredException',
  'The deployment configuration name was not specified.',
];

const FILE_EXISTS_BEHAVIORS: readonly FileExistsBehavior[] = ['DISALLOW', 'OVERWRITE', 'RETAIN'];
const DEPLOYMENT_STATUSES: readonly DeploymentStatus[] = [
  'Created',
  'Queued',
  'InProgress',
  'Baking',
  'Succeeded',
  'Failed',
  'Stopped',
  'Ready',
];

type Operation = (input: Input) => Promise<Record<string, unknown>> | Record<string, unknown>;

export interface CodeDeployServiceOptions {
  /** Replaces the real per-instance agents (unit tests). */
  agentFactory?: AgentFactory;
}

export interface CodeDeployBackend {
  service: AwsService;
  /** Cancels running deployments' waits and timers and waits until they have wound down. */
  stop(): Promise<void>;
  /** Runs an operation in-process with API-shaped input (CloudFormation's resource providers use this). */
  invoke(operation: string, input: Record<string, unknown>): Promise<Record<string, unknown>>;
  state: CodeDeployState;
  runner: DeploymentRunner;
}

/** The service of each sandbox, for its CloudFormation providers (created separately by the server). */
const backends = new WeakMap<AwsEnvironment, CodeDeployBackend>();

export function codeDeployBackend(env: AwsEnvironment): CodeDeployBackend {
  const backend = backends.get(env);
  if (!backend) throw new Error('The CodeDeploy service has not been created for this sandbox');
  return backend;
}

/** CodeDeploy (awsJson1_1, X-Amz-Target CodeDeploy_20141006.<Op>) for the EC2/on-premises compute platform. */
export function createCodeDeployService(
  env: AwsEnvironment,
  options: CodeDeployServiceOptions = {},
): CodeDeployBackend {
  const now = () => new Date(env.clock.now());
  const state: CodeDeployState = {
    applications: new ApplicationStore(),
    groups: new DeploymentGroupStore(),
    configs: new DeploymentConfigStore(now),
    deployments: new DeploymentStore(),
  };
  const agents = new AgentPool(options.agentFactory ?? instanceAgentFactory(env));
  const runner = new DeploymentRunner(
    state,
    {
      accountId: env.accountId,
      region: env.region,
      clock: env.clock,
      fleet: env.fleet,
      elb: env.elb,
      log: (line) => env.log(line),
    },
    agents,
  );
  const { applications, groups, configs, deployments } = state;

  const appName = (input: Input) => requiredString(input, 'applicationName', ...APPLICATION_NAME_REQUIRED);
  const deploymentOf = (input: Input) =>
    deployments.require(requiredString(input, 'deploymentId', ...DEPLOYMENT_ID_REQUIRED));

  const operations: Record<string, Operation> = {
    // Applications
    CreateApplication(input) {
      const record = applications.create(appName(input), optionalString(input, 'computePlatform'), now());
      return { applicationId: record.applicationId };
    },
    GetApplication(input) {
      return { application: renderApplication(applications.require(appName(input))) };
    },
    BatchGetApplications(input) {
      const names = stringList(input, 'applicationNames') ?? [];
      if (names.length > MAX_BATCH)
        throw new AwsError(
          'BatchLimitExceededException',
          'The maximum number of names or IDs allowed for this request (100) was exceeded.',
        );
      return { applicationsInfo: names.map((name) => renderApplication(applications.require(name))) };
    },
    ListApplications(input) {
      const { page, nextToken } = pageOf(applications.names(), optionalString(input, 'nextToken'), PAGE_SIZE);
      return { applications: page, ...(nextToken ? { nextToken } : {}) };
    },
    DeleteApplication(input) {
      const name = appName(input);
      applications.delete(name);
      groups.deleteApplication(name);
      return {};
    },

    // Deployment groups
    CreateDeploymentGroup(input) {
      const application = applications.require(appName(input));
      const name = requiredString(input, 'deploymentGroupName', ...GROUP_NAME_REQUIRED);
      if (groups.get(application.applicationName, name))
        throw new AwsError(
          'DeploymentGroupAlreadyExistsException',
          `Deployment Group already exists with name: ${name}`,
        );
      const group = newDeploymentGroup(
        application.applicationName,
        name,
        readGroupSettings(input, undefined, configs, env.fleet),
      );
      groups.add(group);
      return { deploymentGroupId: group.deploymentGroupId };
    },
    GetDeploymentGroup(input) {
      const application = applications.require(appName(input));
      const name = requiredString(input, 'deploymentGroupName', ...GROUP_NAME_REQUIRED);
      return {
        deploymentGroupInfo: renderDeploymentGroup(groups.require(application.applicationName, name)),
      };
    },
    BatchGetDeploymentGroups(input) {
      const application = applications.require(appName(input));
      const names = stringList(input, 'deploymentGroupNames') ?? [];
      if (names.length > MAX_BATCH)
        throw new AwsError(
          'BatchLimitExceededException',
          'The maximum number of names or IDs allowed for this request (100) was exceeded.',
        );
      const found = names.flatMap((name) => {
        const group = groups.get(application.applicationName, name);
        return group ? [renderDeploymentGroup(group)] : [];
      });
      const missing = names.filter((name) => !groups.get(application.applicationName, name));
      return {
        deploymentGroupsInfo: found,
        ...(missing.length > 0
          ? { errorMessage: `Deployment groups do not exist: ${missing.join(', ')}` }
          : {}),
      };
    },
    ListDeploymentGroups(input) {
      const application = applications.require(appName(input));
      const { page, nextToken } = pageOf(
        groups.names(application.applicationName),
        optionalString(input, 'nextToken'),
        PAGE_SIZE,
      );
      return {
        applicationName: application.applicationName,
        deploymentGroups: page,
        ...(nextToken ? { nextToken } : {}),
      };
    },
    UpdateDeploymentGroup(input) {
      const application = applications.require(appName(input));
      const current = requiredString(input, 'currentDeploymentGroupName', ...GROUP_NAME_REQUIRED);
      const group = groups.require(application.applicationName, current);
      const settings = readGroupSettings(input, group, configs, env.fleet);
      const newName = optionalString(input, 'newDeploymentGroupName');
      if (newName) groups.rename(group, newName);
      // Optional members cleared by omission on create stay as they are on update.
      Object.assign(group, settings);
      return { hooksNotCleanedUp: [] };
    },
    DeleteDeploymentGroup(input) {
      const application = applications.require(appName(input));
      groups.delete(
        application.applicationName,
        requiredString(input, 'deploymentGroupName', ...GROUP_NAME_REQUIRED),
      );
      return { hooksNotCleanedUp: [] };
    },

    // Deployment configurations
    CreateDeploymentConfig(input) {
      const name = requiredString(input, 'deploymentConfigName', ...CONFIG_NAME_REQUIRED);
      const platform = optionalString(input, 'computePlatform');
      if (platform !== undefined && platform !== 'Server')
        throw new AwsError(
          'InvalidComputePlatformException',
          'The computePlatform is invalid. The computePlatform should be Lambda, Server, or ECS.',
        );
      const minimum = optionalObject(input, 'minimumHealthyHosts');
      const record = configs.create(name, minimum as MinimumHealthyHosts | undefined, now());
      return { deploymentConfigId: record.deploymentConfigId };
    },
    GetDeploymentConfig(input) {
      const config = configs.require(requiredString(input, 'deploymentConfigName', ...CONFIG_NAME_REQUIRED));
      return {
        deploymentConfigInfo: {
          deploymentConfigId: config.deploymentConfigId,
          deploymentConfigName: config.deploymentConfigName,
          minimumHealthyHosts: config.minimumHealthyHosts,
          createTime: epochSeconds(config.createTime),
          computePlatform: config.computePlatform,
        },
      };
    },
    ListDeploymentConfigs(input) {
      const { page, nextToken } = pageOf(configs.names(), optionalString(input, 'nextToken'), PAGE_SIZE);
      return { deploymentConfigsList: page, ...(nextToken ? { nextToken } : {}) };
    },
    DeleteDeploymentConfig(input) {
      const name = requiredString(input, 'deploymentConfigName', ...CONFIG_NAME_REQUIRED);
      configs.delete(
        name,
        groups.all().some((group) => group.deploymentConfigName === name),
      );
      return {};
    },

    // Revisions
    RegisterApplicationRevision(input) {
      const name = appName(input);
      applications.require(name);
      if (input['revision'] === undefined)
        throw new AwsError('RevisionRequiredException', 'The revision ID was not specified.');
      applications.registerRevision(
        name,
        readRevision(input['revision']),
        optionalString(input, 'description'),
        now(),
      );
      return {};
    },
    GetApplicationRevision(input) {
      const name = appName(input);
      applications.require(name);
      if (input['revision'] === undefined)
        throw new AwsError('RevisionRequiredException', 'The revision ID was not specified.');
      const revision = readRevision(input['revision']);
      const record = applications.revision(name, revision);
      if (!record)
        throw new AwsError(
          'RevisionDoesNotExistException',
          `No application revision found for revision ${JSON.stringify(revision.s3Location)}`,
        );
      return { applicationName: name, revision: record.revision, revisionInfo: renderRevisionInfo(record) };
    },
    BatchGetApplicationRevisions(input) {
      const name = appName(input);
      applications.require(name);
      const requested = (optionalList(input, 'revisions') ?? []).map(readRevision);
      return {
        applicationName: name,
        revisions: requested.flatMap((revision) => {
          const record = applications.revision(name, revision);
          return record
            ? [{ revisionLocation: record.revision, genericRevisionInfo: renderRevisionInfo(record) }]
            : [];
        }),
      };
    },
    ListApplicationRevisions(input) {
      const name = appName(input);
      applications.require(name);
      const bucket = optionalString(input, 's3Bucket');
      const prefix = optionalString(input, 's3KeyPrefix');
      if (prefix !== undefined && bucket === undefined)
        throw new AwsError(
          'BucketNameFilterRequiredException',
          'A bucket name is required, but was not provided.',
        );
      const deployed = optionalString(input, 'deployed') ?? 'ignore';
      const sortBy = optionalString(input, 'sortBy');
      const descending = optionalString(input, 'sortOrder') === 'descending';
      const list = applications
        .revisions(name)
        .filter(
          (r) =>
            (bucket === undefined || r.revision.s3Location.bucket === bucket) &&
            (prefix === undefined || r.revision.s3Location.key.startsWith(prefix)) &&
            (deployed === 'ignore' || (deployed === 'include') === (r.firstUsedTime !== undefined)),
        );
      if (sortBy) {
        const time = (r: (typeof list)[number]) =>
          (sortBy === 'firstUsedTime'
            ? r.firstUsedTime
            : sortBy === 'lastUsedTime'
              ? r.lastUsedTime
              : r.registerTime
          )?.getTime() ?? 0;
        list.sort((a, b) => (descending ? time(b) - time(a) : time(a) - time(b)));
      }
      const { page, nextToken } = pageOf(
        list.map((r) => r.revision),
        optionalString(input, 'nextToken'),
        PAGE_SIZE,
      );
      return { revisions: page, ...(nextToken ? { nextToken } : {}) };
    },

    // Deployments
    CreateDeployment(input) {
      const applicationName = appName(input);
      const deploymentGroupName = requiredString(input, 'deploymentGroupName', ...GROUP_NAME_REQUIRED);
      applications.require(applicationName);
      groups.require(applicationName, deploymentGroupName);
      if (input['revision'] === undefined)
        throw new AwsError('RevisionRequiredException', 'The revision ID was not specified.');
      const revision = readRevision(input['revision']);
      const fileExistsBehavior = optionalString(input, 'fileExistsBehavior');
      if (
        fileExistsBehavior !== undefined &&
        !(FILE_EXISTS_BEHAVIORS as readonly string[]).includes(fileExistsBehavior)
      )
        throw new AwsError(
          'InvalidFileExistsBehaviorException',
          'An invalid fileExistsBehavior option was specified to determine how CodeDeploy handles files or directories that already exist in a deployment target location, but weren\'t part of the previous successful deployment. Valid values include "DISALLOW," "OVERWRITE," and "RETAIN."',
        );
      const deploymentConfigName = optionalString(input, 'deploymentConfigName');
      const description = optionalString(input, 'description');
      const ignoreApplicationStopFailures = optionalBoolean(input, 'ignoreApplicationStopFailures');
      const updateOutdatedInstancesOnly = optionalBoolean(input, 'updateOutdatedInstancesOnly');
      const targetInstances = readTargetInstances(input['targetInstances']);
      const autoRollbackConfiguration = readAutoRollback(input['autoRollbackConfiguration']);
      const deployment = runner.create({
        applicationName,
        deploymentGroupName,
        revision,
        creator: 'user',
        ...(deploymentConfigName !== undefined ? { deploymentConfigName } : {}),
        ...(description !== undefined ? { description } : {}),
        ...(ignoreApplicationStopFailures !== undefined ? { ignoreApplicationStopFailures } : {}),
        ...(updateOutdatedInstancesOnly !== undefined ? { updateOutdatedInstancesOnly } : {}),
        ...(targetInstances ? { targetInstances } : {}),
        ...(autoRollbackConfiguration ? { autoRollbackConfiguration } : {}),
        ...(fileExistsBehavior !== undefined
          ? { fileExistsBehavior: fileExistsBehavior as FileExistsBehavior }
          : {}),
      });
      return { deploymentId: deployment.deploymentId };
    },
    GetDeployment(input) {
      return { deploymentInfo: renderDeployment(deploymentOf(input)) };
    },
    BatchGetDeployments(input) {
      const ids = stringList(input, 'deploymentIds') ?? [];
      if (ids.length > MAX_BATCH_DEPLOYMENTS)
        throw new AwsError(
          'BatchLimitExceededException',
          'The maximum number of names or IDs allowed for this request (25) was exceeded.',
        );
      return {
        deploymentsInfo: ids.flatMap((id) => {
          const deployment = deployments.get(id);
          return deployment ? [renderDeployment(deployment)] : [];
        }),
      };
    },
    ListDeployments(input) {
      const applicationName = optionalString(input, 'applicationName');
      const deploymentGroupName = optionalString(input, 'deploymentGroupName');
      if (deploymentGroupName !== undefined && applicationName === undefined)
        throw new AwsError(
          'ApplicationNameRequiredException',
          'If deploymentGroupName is specified, applicationName must be specified.',
        );
      if (applicationName !== undefined) applications.require(applicationName);
      if (applicationName !== undefined && deploymentGroupName !== undefined)
        groups.require(applicationName, deploymentGroupName);
      const statuses = stringList(input, 'includeOnlyStatuses') ?? [];
      for (const status of statuses) {
        if (!(DEPLOYMENT_STATUSES as readonly string[]).includes(status))
          throw new AwsError(
            'InvalidDeploymentStatusException',
            "The specified deployment status doesn't exist or cannot be determined.",
          );
      }
      const range = optionalObject(input, 'createTimeRange');
      const time = (value: unknown) => (typeof value === 'number' ? new Date(value * 1000) : undefined);
      const createdAfter = time(range?.['start']);
      const createdBefore = time(range?.['end']);
      const list = deployments
        .list({
          ...(applicationName !== undefined ? { applicationName } : {}),
          ...(deploymentGroupName !== undefined ? { deploymentGroupName } : {}),
          statuses: statuses as DeploymentStatus[],
          ...(createdAfter ? { createdAfter } : {}),
          ...(createdBefore ? { createdBefore } : {}),
        })
        .map((d) => d.deploymentId);
      const { page, nextToken } = pageOf(list, optionalString(input, 'nextToken'), PAGE_SIZE);
      return { deployments: page, ...(nextToken ? { nextToken } : {}) };
    },
    StopDeployment(input) {
      return runner.stop(deploymentOf(input), optionalBoolean(input, 'autoRollbackEnabled'));
    },
    ContinueDeployment(input) {
      const waitType = optionalString(input, 'deploymentWaitType') ?? 'READY_WAIT';
      if (waitType !== 'READY_WAIT' && waitType !== 'TERMINATION_WAIT')
        throw new AwsError('InvalidDeploymentWaitTypeException', `The wait type ${waitType} is invalid.`);
      runner.continue(deploymentOf(input), waitType as WaitType);
      return {};
    },

    // Targets
    ListDeploymentTargets(input) {
      const deployment = deploymentOf(input);
      const filters = optionalObject(input, 'targetFilters') ?? {};
      for (const name of Object.keys(filters)) {
        if (name !== 'TargetStatus' && name !== 'ServerInstanceLabel')
          throw new AwsError('InvalidTargetFilterNameException', 'The target filter name is invalid.');
      }
      const ids = listTargetIds(deployment, {
        statuses: stringList(filters, 'TargetStatus') ?? [],
        labels: stringList(filters, 'ServerInstanceLabel') ?? [],
      });
      const { page, nextToken } = pageOf(ids, optionalString(input, 'nextToken'), PAGE_SIZE);
      return { targetIds: page, ...(nextToken ? { nextToken } : {}) };
    },
    BatchGetDeploymentTargets(input) {
      const deployment = deploymentOf(input);
      return { deploymentTargets: batchGetTargets(deployment, stringList(input, 'targetIds') ?? []) };
    },
    GetDeploymentTarget(input) {
      const deployment = deploymentOf(input);
      const targetId = requiredString(
        input,
        'targetId',
        'DeploymentTargetIdRequiredException',
        'A deployment target ID was not provided.',
      );
      return { deploymentTarget: batchGetTargets(deployment, [targetId])[0] };
    },
    ListDeploymentInstances(input) {
      const deployment = deploymentOf(input);
      const ids = listInstanceIds(
        deployment,
        stringList(input, 'instanceStatusFilter'),
        stringList(input, 'instanceTypeFilter'),
      );
      const { page, nextToken } = pageOf(ids, optionalString(input, 'nextToken'), PAGE_SIZE);
      return { instancesList: page, ...(nextToken ? { nextToken } : {}) };
    },
    BatchGetDeploymentInstances(input) {
      const deployment = deploymentOf(input);
      const ids = stringList(input, 'instanceIds') ?? [];
      if (ids.length === 0)
        throw new AwsError('InstanceIdRequiredException', 'The instance ID was not specified.');
      if (ids.length > MAX_BATCH)
        throw new AwsError(
          'BatchLimitExceededException',
          'The maximum number of names or IDs allowed for this request (100) was exceeded.',
        );
      const missing = ids.filter((id) => !deployment.targets.has(id));
      return {
        instancesSummary: ids.flatMap((id) => {
          const target = deployment.targets.get(id);
          return target ? [instanceSummary(deployment, target)] : [];
        }),
        ...(missing.length > 0
          ? { errorMessage: `Instances are not part of the deployment: ${missing.join(', ')}` }
          : {}),
      };
    },
    GetDeploymentInstance(input) {
      const deployment = deploymentOf(input);
      const id = requiredString(
        input,
        'instanceId',
        'InstanceIdRequiredException',
        'The instance ID was not specified.',
      );
      const target = deployment.targets.get(id);
      if (!target)
        throw new AwsError(
          'InstanceDoesNotExistException',
          `The instance ${id} is not part of deployment ${deployment.deploymentId}.`,
        );
      return { instanceSummary: instanceSummary(deployment, target) };
    },
  };

  async function invoke(name: string, input: Input): Promise<Record<string, unknown>> {
    const operation = operations[name];
    if (!operation) throw new AwsError('UnknownOperationException', `Unknown operation ${name}`);
    return operation(input);
  }

  const service: AwsService = {
    name: 'codedeploy',
    signingName: 'codedeploy',
    protocol: { kind: 'json', version: '1.1' },
    async handle(call): Promise<AwsReply> {
      const output = await invoke(call.operation, asInput(call.json));
      return {
        headers: { 'content-type': 'application/x-amz-json-1.1' },
        body: JSON.stringify(output),
      };
    },
  };
  const backend: CodeDeployBackend = { service, stop: () => runner.stopAll(), invoke, state, runner };
  backends.set(env, backend);
  return backend;
}
