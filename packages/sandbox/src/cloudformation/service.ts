import { setMaxListeners } from 'node:events';
import { AwsError } from '../aws/errors';
import { validationError } from '../aws/iam-state';
import { renderQueryResult, type QueryParams, type QueryTree } from '../aws/query';
import type { AwsEnvironment, AwsReply, AwsService } from '../aws/service';
import type { XmlValue } from '../aws/xml';
import { ChangeSetStore, type ChangeSet } from './change-sets';
import { parseAndSummarize, prepareDefinition } from './definitions';
import { EventRecorder } from './events';
import { ExportDirectory } from './exports';
import { UPDATABLE_STATES, type Stack, type StackStatus, type Tag } from './model';
import { StackOperations, type OnFailure } from './operation';
import { page } from './paging';
import { planChanges } from './plan';
import { createDefaultRegistry, createProviderState, type ProviderRegistry } from './providers';
import {
  changeSetSummaryShape,
  changeShape,
  eventShape,
  resourceSummaryShape,
  stackResourceDetailShape,
  stackResourceShape,
  stackShape,
  stackSummaryShape,
} from './render';
import { StackStore } from './stacks';
import { checkTemplateBody, readTemplateUrl } from './template-source';
import type { GivenParameter } from './template';

export const CLOUDFORMATION_VERSION = '2010-05-15';
export const CLOUDFORMATION_XMLNS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

export interface CloudFormationOptions {
  /**
   * Simulated seconds each resource takes to stabilize: one number for every type, or per type. Unset: each
   * provider's default (1–2 s, so in-progress states are observable; the sandbox's timeScale shortens them).
   * 0 makes stacks complete as fast as the providers' real work allows.
   */
  providerDelaySeconds?: number | Record<string, number>;
  /** The provider registry (default: this types); later issues register more types on it. */
  registry?: ProviderRegistry;
}

type Result = Record<string, XmlValue | undefined> | undefined;

const STACK_NAME = /^[a-zA-Z][-a-zA-Z0-9]*$/;
const PAGE_SIZE = 100;

function required(p: QueryParams, name: string, field: string): string {
  const value = p.string(name);
  if (value === undefined || value === '') throw validationError(field, undefined, 'Member must not be null');
  return value;
}

function bool(p: QueryParams, name: string): boolean | undefined {
  const value = p.string(name);
  return value === undefined || value === '' ? undefined : value === 'true';
}

function structs(p: QueryParams, name: string): Array<Record<string, QueryTree>> {
  const value = p.tree[name];
  if (!Array.isArray(value)) return [];
  return value.filter((v): v is Record<string, QueryTree> => typeof v === 'object' && !Array.isArray(v));
}

function givenParameters(p: QueryParams): GivenParameter[] {
  return structs(p, 'Parameters').map((entry) => ({
    key: typeof entry['ParameterKey'] === 'string' ? entry['ParameterKey'] : '',
    value: typeof entry['ParameterValue'] === 'string' ? entry['ParameterValue'] : undefined,
    usePreviousValue: entry['UsePreviousValue'] === 'true' ? true : undefined,
  }));
}

function givenTags(p: QueryParams): Tag[] | undefined {
  if (p.tree['Tags'] === undefined) return undefined;
  return structs(p, 'Tags').map((t) => ({
    key: typeof t['Key'] === 'string' ? t['Key'] : '',
    value: typeof t['Value'] === 'string' ? t['Value'] : '',
  }));
}

function stackNameParam(p: QueryParams): string {
  const name = required(p, 'StackName', 'stackName');
  if (name.length > 128 || !STACK_NAME.test(name)) {
    throw validationError(
      'stackName',
      name,
      'Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*',
    );
  }
  return name;
}

function changeSetNameParam(p: QueryParams): string {
  const name = required(p, 'ChangeSetName', 'changeSetName');
  if (name.length > 128 || !STACK_NAME.test(name)) {
    throw validationError(
      'changeSetName',
      name,
      'Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*',
    );
  }
  return name;
}

function cannotUpdate(stack: Stack): AwsError {
  // Confirmed wording (reference §2; public CreateChangeSet logs).
  return new AwsError(
    'ValidationError',
    `Stack:${stack.stackId} is in ${stack.status} state and can not be updated.`,
  );
}

function newStack(stackId: string, stackName: string, now: Date): Stack {
  return {
    stackId,
    stackName,
    status: 'REVIEW_IN_PROGRESS',
    creationTime: now,
    capabilities: [],
    tags: [],
    notificationArns: [],
    disableRollback: false,
    terminationProtection: false,
    resources: new Map(),
    outputs: [],
    imports: new Set(),
    events: [],
    requestTokens: new Map(),
    busy: false,
  };
}

/**
 * The stack's service role (RoleARN), which CloudFormation assumes for every resource operation: a role that
 * is not in this account is refused at once, in AWS's words.
 */
function serviceRoleArn(p: QueryParams, env: AwsEnvironment): string | undefined {
  const arn = p.string('RoleARN');
  if (arn !== undefined && !env.iam.roleByArn(arn))
    throw new AwsError('ValidationError', `Role ${arn} is invalid or cannot be assumed`);
  return arn;
}

export function createCloudFormationService(
  env: AwsEnvironment,
  options: CloudFormationOptions = {},
): { service: AwsService; stop(): Promise<void>; registry: ProviderRegistry } {
  const registry = options.registry ?? createDefaultRegistry();
  const stacks = new StackStore(env.region, env.accountId);
  const changeSets = new ChangeSetStore(env.region, env.accountId);
  const exports = new ExportDirectory(stacks);
  const stopping = new AbortController();
  // Every in-flight provider call listens for the sandbox closing; a 100-resource stack means 100 listeners.
  setMaxListeners(0, stopping.signal);
  const running = new Set<Promise<unknown>>();
  const configuredDelay = options.providerDelaySeconds;
  for (const seconds of typeof configuredDelay === 'object'
    ? Object.values(configuredDelay)
    : [configuredDelay]) {
    if (seconds !== undefined && !(seconds >= 0)) {
      throw new Error(
        `Invalid sandbox config: cloudformation.providerDelaySeconds must be >= 0, got ${seconds}`,
      );
    }
  }
  const delayFor = (type: string): number => {
    if (typeof configuredDelay === 'number') return configuredDelay;
    return configuredDelay?.[type] ?? registry.get(type).defaultDelaySeconds;
  };
  /** Change sets take a moment to compute on AWS; none when providers are instant. */
  const changeSetPhaseSeconds = configuredDelay === 0 ? 0 : 1;
  const operations = new StackOperations({
    env,
    stacks,
    registry,
    providerState: createProviderState(),
    exports,
    delayFor,
    stopping: stopping.signal,
  });

  function inBackground(work: Promise<unknown>): void {
    const tracked = work.catch((error: unknown) =>
      env.log(`cloudformation: background work failed: ${String(error)}`),
    );
    running.add(tracked);
    void tracked.finally(() => running.delete(tracked));
  }

  async function templateBody(p: QueryParams, previous?: string): Promise<string> {
    const body = p.string('TemplateBody');
    const url = p.string('TemplateURL');
    const usePrevious = bool(p, 'UsePreviousTemplate') === true;
    const given = [body, url].filter((v) => v !== undefined && v !== '').length + (usePrevious ? 1 : 0);
    // Wording of both: unverified.
    if (given === 0)
      throw new AwsError('ValidationError', 'Either Template URL or Template Body must be specified.');
    if (given > 1)
      throw new AwsError('ValidationError', 'Exactly one, TemplateBody or TemplateUrl must be specified.');
    if (usePrevious) {
      if (previous === undefined)
        throw new AwsError('ValidationError', 'Template body or template URL is required for a new stack.');
      return previous;
    }
    if (body !== undefined && body !== '') {
      checkTemplateBody(body);
      return body;
    }
    return readTemplateUrl(env, url as string);
  }

  function liveStack(name: string): Stack | undefined {
    const stack = stacks.find(name);
    return stack && stack.status !== 'DELETE_COMPLETE' ? stack : undefined;
  }

  /** DescribeStacks and friends: deleted stacks only by ARN. */
  function describedStack(name: string): Stack {
    const stack = stacks.find(name);
    if (!stack) throw new AwsError('ValidationError', `Stack with id ${name} does not exist`);
    return stack;
  }

  function changeSetNotFound(name: string): AwsError {
    return new AwsError('ChangeSetNotFound', `ChangeSet [${name}] does not exist`, 404);
  }

  function findChangeSet(p: QueryParams): ChangeSet {
    const name = required(p, 'ChangeSetName', 'changeSetName');
    const stackName = p.string('StackName');
    const stack = stackName ? stacks.find(stackName) : undefined;
    const changeSet = changeSets.find(name, stack);
    if (!changeSet) throw changeSetNotFound(name);
    return changeSet;
  }

  function settingsChanged(
    stack: Stack,
    tags: Tag[],
    notificationArns: string[],
    roleArn: string | undefined,
  ): boolean {
    return (
      JSON.stringify(tags) !== JSON.stringify(stack.tags) ||
      JSON.stringify(notificationArns) !== JSON.stringify(stack.notificationArns) ||
      roleArn !== stack.roleArn
    );
  }

  async function computeChangeSet(changeSet: ChangeSet, stack: Stack): Promise<void> {
    await env.clock.sleep(changeSetPhaseSeconds, stopping.signal).catch(() => undefined);
    if (stopping.signal.aborted || changeSet.status !== 'CREATE_PENDING') return;
    changeSet.status = 'CREATE_IN_PROGRESS';
    await env.clock.sleep(changeSetPhaseSeconds, stopping.signal).catch(() => undefined);
    if (stopping.signal.aborted) return;
    try {
      const plan = planChanges(
        operations,
        registry,
        stack,
        changeSet.definition,
        settingsChanged(stack, changeSet.tags, changeSet.notificationArns, changeSet.roleArn),
      );
      changeSet.changes = plan.changes;
      if (changeSet.type === 'UPDATE' && plan.changes.length === 0 && !plan.otherChanges) {
        changeSet.status = 'FAILED';
        changeSet.executionStatus = 'UNAVAILABLE';
        // Confirmed wording (reference §2; elias5000/clouds-aws#9).
        changeSet.statusReason =
          "The submitted information didn't contain changes. Submit different information to create a change set.";
        return;
      }
      changeSet.status = 'CREATE_COMPLETE';
      changeSet.executionStatus = 'AVAILABLE';
    } catch (error) {
      changeSet.status = 'FAILED';
      changeSet.executionStatus = 'UNAVAILABLE';
      changeSet.statusReason = (error as Error).message;
    }
  }

  const handlers: Record<string, (p: QueryParams) => Promise<Result> | Result> = {
    async CreateStack(p) {
      const stackName = stackNameParam(p);
      const token = p.string('ClientRequestToken');
      const existing = liveStack(stackName);
      if (existing) {
        if (token && existing.requestTokens.get(token) === 'CreateStack')
          return { StackId: existing.stackId };
        // Confirmed wording (reference §2).
        throw new AwsError('AlreadyExistsException', `Stack [${stackName}] already exists`);
      }
      const onFailureParam = p.string('OnFailure');
      const disableRollback = bool(p, 'DisableRollback');
      if (onFailureParam !== undefined && disableRollback !== undefined) {
        // Wording unverified.
        throw new AwsError('ValidationError', 'You cannot specify both OnFailure and DisableRollback.');
      }
      if (onFailureParam !== undefined && !['ROLLBACK', 'DO_NOTHING', 'DELETE'].includes(onFailureParam)) {
        throw validationError(
          'onFailure',
          onFailureParam,
          'Member must satisfy enum value set: [DO_NOTHING, ROLLBACK, DELETE]',
        );
      }
      const onFailure: OnFailure = disableRollback
        ? 'DO_NOTHING'
        : ((onFailureParam as OnFailure | undefined) ?? 'ROLLBACK');
      const body = await templateBody(p);
      const stackId = stacks.newStackId(stackName);
      const capabilities = p.list('Capabilities') ?? [];
      const { definition } = prepareDefinition(
        { body, given: givenParameters(p), capabilities, stackName, stackId },
        registry,
        exports,
        env.region,
        env.accountId,
      );
      // Checked again after the awaits above: two racing CreateStack calls must not both win.
      if (liveStack(stackName))
        throw new AwsError('AlreadyExistsException', `Stack [${stackName}] already exists`);
      const stack = newStack(stackId, stackName, new Date(env.clock.now()));
      stack.capabilities = capabilities;
      stack.tags = givenTags(p) ?? [];
      stack.roleArn = serviceRoleArn(p, env);
      stack.notificationArns = p.list('NotificationARNs') ?? [];
      stack.timeoutInMinutes = p.integer('TimeoutInMinutes');
      stack.disableRollback = onFailure === 'DO_NOTHING';
      stack.terminationProtection = bool(p, 'EnableTerminationProtection') ?? false;
      if (token) stack.requestTokens.set(token, 'CreateStack');
      stacks.add(stack);
      inBackground(operations.create(stack, definition, { token, onFailure }));
      return { StackId: stackId };
    },

    async UpdateStack(p) {
      const stackName = stackNameOrArn(p);
      const stack = liveStack(stackName);
      if (!stack || stack.status === 'REVIEW_IN_PROGRESS') {
        throw new AwsError('ValidationError', `Stack [${stackName}] does not exist`);
      }
      const token = p.string('ClientRequestToken');
      if (token && stack.requestTokens.get(token) === 'UpdateStack') return { StackId: stack.stackId };
      if (!UPDATABLE_STATES.has(stack.status) || stack.busy) throw cannotUpdate(stack);
      const body = await templateBody(p, stack.definition?.template.body);
      const capabilities = p.list('Capabilities') ?? [];
      const { definition } = prepareDefinition(
        {
          body,
          given: givenParameters(p),
          capabilities,
          previous: stack.definition?.parameters,
          stackName: stack.stackName,
          stackId: stack.stackId,
        },
        registry,
        exports,
        env.region,
        env.accountId,
      );
      if (!UPDATABLE_STATES.has(stack.status) || stack.busy) throw cannotUpdate(stack);
      const tags = givenTags(p) ?? stack.tags;
      const notificationArns = p.list('NotificationARNs') ?? stack.notificationArns;
      const roleArn = serviceRoleArn(p, env) ?? stack.roleArn;
      const plan = planChanges(
        operations,
        registry,
        stack,
        definition,
        settingsChanged(stack, tags, notificationArns, roleArn),
      );
      // Confirmed wording (reference §2).
      if (plan.changes.length === 0 && !plan.otherChanges)
        throw new AwsError('ValidationError', 'No updates are to be performed.');
      stack.capabilities = capabilities;
      stack.tags = tags;
      stack.notificationArns = notificationArns;
      stack.roleArn = roleArn;
      stack.changeSetId = undefined;
      for (const changeSet of changeSets.forStack(stack.stackId)) {
        if (changeSet.executionStatus === 'AVAILABLE') changeSet.executionStatus = 'OBSOLETE';
      }
      if (token) stack.requestTokens.set(token, 'UpdateStack');
      const disableRollback = bool(p, 'DisableRollback') ?? stack.disableRollback;
      inBackground(operations.update(stack, definition, { token, disableRollback }));
      return { StackId: stack.stackId };
    },

    DeleteStack(p) {
      const stackName = stackNameOrArn(p);
      const stack = liveStack(stackName);
      if (!stack) return undefined;
      const token = p.string('ClientRequestToken');
      if (token && stack.requestTokens.get(token) === 'DeleteStack') return undefined;
      if (stack.terminationProtection) {
        // Confirmed wording (reference §2).
        throw new AwsError(
          'ValidationError',
          `Stack [${stack.stackName}] cannot be deleted while TerminationProtection is enabled`,
        );
      }
      if (stack.status === 'DELETE_IN_PROGRESS') return undefined;
      if (stack.busy) {
        // Seen in public tooling: "Stack [s] cannot be deleted while in status UPDATE_IN_PROGRESS".
        throw new AwsError(
          'ValidationError',
          `Stack [${stack.stackName}] cannot be deleted while in status ${stack.status}`,
        );
      }
      const retain = new Set(p.list('RetainResources') ?? []);
      if (retain.size > 0 && stack.status !== 'DELETE_FAILED') {
        // Wording unverified.
        throw new AwsError(
          'ValidationError',
          `Invalid operation on stack [${stack.stackId}]. RetainResources can only be specified when the stack is in the DELETE_FAILED state.`,
        );
      }
      if (token) stack.requestTokens.set(token, 'DeleteStack');
      for (const changeSet of changeSets.forStack(stack.stackId)) changeSets.delete(changeSet.id);
      inBackground(operations.delete(stack, { token, retain }));
      return undefined;
    },

    DescribeStacks(p) {
      const name = p.string('StackName');
      if (name) return { Stacks: [stackShape(describedStack(name))] };
      const listed = page(stacks.live().reverse(), p.string('NextToken'), PAGE_SIZE, 'DescribeStacks');
      return { Stacks: listed.items.map(stackShape), NextToken: listed.nextToken };
    },

    DescribeStackEvents(p) {
      const name = required(p, 'StackName', 'stackName');
      const stack = stacks.find(name);
      if (!stack) throw new AwsError('ValidationError', `Stack [${name}] does not exist`);
      const newestFirst = [...stack.events].reverse();
      const listed = page(newestFirst, p.string('NextToken'), PAGE_SIZE, `events:${stack.stackId}`);
      return { StackEvents: listed.items.map(eventShape), NextToken: listed.nextToken };
    },

    DescribeStackResources(p) {
      const name = p.string('StackName');
      const physicalId = p.string('PhysicalResourceId');
      const logicalId = p.string('LogicalResourceId');
      let stack: Stack | undefined;
      if (name) stack = describedStack(name);
      else if (physicalId) {
        stack = stacks.all().find((s) => [...s.resources.values()].some((r) => r.physicalId === physicalId));
        // Wording unverified.
        if (!stack) throw new AwsError('ValidationError', `Stack for ${physicalId} does not exist`);
      } else {
        throw new AwsError('ValidationError', 'Either StackName or PhysicalResourceId must be specified.');
      }
      const resources = [...stack.resources.values()].filter(
        (r) =>
          (!logicalId || r.logicalId === logicalId) && (!physicalId || !name || r.physicalId === physicalId),
      );
      // DescribeStackResources returns at most 100 resources (reference §2); ListStackResources pages.
      return { StackResources: resources.slice(0, 100).map((r) => stackResourceShape(stack, r)) };
    },

    DescribeStackResource(p) {
      const stack = describedStack(required(p, 'StackName', 'stackName'));
      const logicalId = required(p, 'LogicalResourceId', 'logicalResourceId');
      const resource = stack.resources.get(logicalId);
      if (!resource) {
        throw new AwsError(
          'ValidationError',
          `Resource ${logicalId} does not exist for stack ${stack.stackName}`,
        );
      }
      return { StackResourceDetail: stackResourceDetailShape(stack, resource) };
    },

    ListStackResources(p) {
      const stack = describedStack(required(p, 'StackName', 'stackName'));
      const listed = page(
        [...stack.resources.values()],
        p.string('NextToken'),
        PAGE_SIZE,
        `resources:${stack.stackId}`,
      );
      return { StackResourceSummaries: listed.items.map(resourceSummaryShape), NextToken: listed.nextToken };
    },

    GetTemplate(p) {
      const changeSetName = p.string('ChangeSetName');
      if (changeSetName) {
        const changeSet = findChangeSet(p);
        return {
          TemplateBody: changeSet.definition.template.body,
          StagesAvailable: ['Original', 'Processed'],
        };
      }
      const stack = describedStack(required(p, 'StackName', 'stackName'));
      return { TemplateBody: stack.definition?.template.body, StagesAvailable: ['Original', 'Processed'] };
    },

    async GetTemplateSummary(p) {
      const stackName = p.string('StackName');
      const body = stackName
        ? (describedStack(stackName).definition?.template.body ?? '')
        : await templateBody(p);
      const { template, summary } = parseAndSummarize(body, registry);
      return {
        Parameters: [...template.parameters.values()].map((d) => ({
          ParameterKey: d.name,
          DefaultValue: d.default,
          ParameterType: d.type,
          NoEcho: d.noEcho,
          Description: d.description,
          ParameterConstraints: { AllowedValues: d.allowedValues ?? [] },
        })),
        Description: summary.description,
        Capabilities: summary.capabilities,
        CapabilitiesReason: summary.capabilitiesReason,
        ResourceTypes: [...new Set([...template.resources.values()].map((r) => r.type))],
        Version: '2010-09-09',
        DeclaredTransforms: summary.declaredTransforms,
      };
    },

    async ValidateTemplate(p) {
      const body = await templateBody(p);
      const { summary } = parseAndSummarize(body, registry);
      return {
        Parameters: summary.parameters.map((param) => ({
          ParameterKey: param.key,
          DefaultValue: param.defaultValue,
          NoEcho: param.noEcho,
          Description: param.description,
        })),
        Description: summary.description,
        Capabilities: summary.capabilities,
        CapabilitiesReason: summary.capabilitiesReason,
        DeclaredTransforms: summary.declaredTransforms,
      };
    },

    async CreateChangeSet(p) {
      const stackName = stackNameOrArn(p);
      const changeSetName = changeSetNameParam(p);
      const type = p.string('ChangeSetType') ?? 'UPDATE';
      if (type !== 'CREATE' && type !== 'UPDATE') {
        // IMPORT is not modelled by the sandbox.
        throw validationError('changeSetType', type, 'Member must satisfy enum value set: [CREATE, UPDATE]');
      }
      const clientToken = p.string('ClientToken');
      let stack = liveStack(stackName);
      if (type === 'CREATE' && stack && stack.status !== 'REVIEW_IN_PROGRESS') {
        // Confirmed wording (compose-x/ecs_composex#785).
        throw new AwsError(
          'ValidationError',
          `Stack [${stackName}] already exists and cannot be created again with the changeSet [${changeSetName}].`,
        );
      }
      if (type === 'UPDATE') {
        if (!stack || stack.status === 'REVIEW_IN_PROGRESS') {
          throw new AwsError('ValidationError', `Stack [${stackName}] does not exist`);
        }
        if (!UPDATABLE_STATES.has(stack.status) || stack.busy) throw cannotUpdate(stack);
      }
      const sameName = stack ? changeSets.find(changeSetName, stack) : undefined;
      if (sameName) {
        if (clientToken && sameName.clientToken === clientToken)
          return { Id: sameName.id, StackId: sameName.stackId };
        // Wording unverified.
        throw new AwsError('AlreadyExistsException', `ChangeSet [${changeSetName}] already exists`);
      }
      const body = await templateBody(p, stack?.definition?.template.body);
      const stackId = stack?.stackId ?? stacks.newStackId(stackName);
      const capabilities = p.list('Capabilities') ?? [];
      const { definition } = prepareDefinition(
        {
          body,
          given: givenParameters(p),
          capabilities,
          previous: stack?.definition?.parameters,
          stackName,
          stackId,
        },
        registry,
        exports,
        env.region,
        env.accountId,
      );
      stack ??= liveStack(stackName);
      if (!stack) {
        stack = newStack(stackId, stackName, new Date(env.clock.now()));
        stacks.add(stack);
        // A CREATE change set brings the stack into being in REVIEW_IN_PROGRESS, with one "User Initiated" event.
        new EventRecorder(env.clock, stack, undefined).stackEvent('REVIEW_IN_PROGRESS', 'User Initiated');
      }
      const onStackFailure = p.string('OnStackFailure') as ChangeSet['onStackFailure'];
      const changeSet: ChangeSet = {
        id: changeSets.newId(changeSetName),
        name: changeSetName,
        stackId: stack.stackId,
        stackName: stack.stackName,
        type,
        status: 'CREATE_PENDING',
        executionStatus: 'UNAVAILABLE',
        creationTime: new Date(env.clock.now()),
        description: p.string('Description'),
        definition,
        capabilities,
        tags: givenTags(p) ?? stack.tags,
        roleArn: serviceRoleArn(p, env) ?? stack.roleArn,
        notificationArns: p.list('NotificationARNs') ?? stack.notificationArns,
        clientToken,
        changes: [],
        onStackFailure,
      };
      changeSets.add(changeSet);
      inBackground(computeChangeSet(changeSet, stack));
      return { Id: changeSet.id, StackId: stack.stackId };
    },

    DescribeChangeSet(p) {
      const changeSet = findChangeSet(p);
      const listed = page(changeSet.changes, p.string('NextToken'), PAGE_SIZE, `changes:${changeSet.id}`);
      return {
        ChangeSetName: changeSet.name,
        ChangeSetId: changeSet.id,
        StackId: changeSet.stackId,
        StackName: changeSet.stackName,
        Description: changeSet.description,
        Parameters: changeSet.definition.describedParameters.map((d) => ({
          ParameterKey: d.key,
          ParameterValue: d.value,
        })),
        CreationTime: changeSet.creationTime,
        ExecutionStatus: changeSet.executionStatus,
        Status: changeSet.status,
        StatusReason: changeSet.statusReason,
        NotificationARNs: changeSet.notificationArns,
        RollbackConfiguration: { RollbackTriggers: [] },
        Capabilities: changeSet.capabilities,
        Tags: changeSet.tags.map((t) => ({ Key: t.key, Value: t.value })),
        Changes: listed.items.map(changeShape),
        NextToken: listed.nextToken,
        IncludeNestedStacks: false,
        OnStackFailure: changeSet.onStackFailure,
      };
    },

    ExecuteChangeSet(p) {
      const changeSet = findChangeSet(p);
      const stack = stacks.find(changeSet.stackId) as Stack;
      const token = p.string('ClientRequestToken');
      if (token && stack.requestTokens.get(token) === 'ExecuteChangeSet') return {};
      // Confirmed wordings (saksdirect/nova#10; aws/amazon-chime-sdk-js#1089).
      if (changeSet.status !== 'CREATE_COMPLETE') {
        throw new AwsError(
          'InvalidChangeSetStatus',
          `ChangeSet [${changeSet.id}] cannot be executed in its current status of [${changeSet.status}]`,
        );
      }
      const executionStatus = stack.busy ? 'UNAVAILABLE' : changeSet.executionStatus;
      if (executionStatus !== 'AVAILABLE') {
        throw new AwsError(
          'InvalidChangeSetStatus',
          `ChangeSet [${changeSet.id}] cannot be executed in its current execution status of [${executionStatus}]`,
        );
      }
      const updatable =
        changeSet.type === 'CREATE'
          ? stack.status === 'REVIEW_IN_PROGRESS'
          : UPDATABLE_STATES.has(stack.status);
      if (!updatable) throw cannotUpdate(stack);
      changeSet.executionStatus = 'EXECUTE_IN_PROGRESS';
      for (const other of changeSets.forStack(stack.stackId))
        if (other !== changeSet) changeSets.delete(other.id);
      if (token) stack.requestTokens.set(token, 'ExecuteChangeSet');
      stack.changeSetId = changeSet.id;
      stack.capabilities = changeSet.capabilities;
      stack.tags = changeSet.tags;
      stack.roleArn = changeSet.roleArn;
      stack.notificationArns = changeSet.notificationArns;
      const disableRollback = bool(p, 'DisableRollback');
      const succeeded: StackStatus[] = ['CREATE_COMPLETE', 'UPDATE_COMPLETE'];
      let operation: Promise<void>;
      if (changeSet.type === 'CREATE') {
        const onFailure: OnFailure = disableRollback
          ? 'DO_NOTHING'
          : (changeSet.onStackFailure ?? 'ROLLBACK');
        stack.disableRollback = onFailure === 'DO_NOTHING';
        operation = operations.create(stack, changeSet.definition, { token, onFailure });
      } else {
        operation = operations.update(stack, changeSet.definition, {
          token,
          disableRollback: disableRollback ?? stack.disableRollback,
        });
      }
      inBackground(
        operation.then(() => {
          changeSet.executionStatus = succeeded.includes(stack.status)
            ? 'EXECUTE_COMPLETE'
            : 'EXECUTE_FAILED';
        }),
      );
      return {};
    },

    DeleteChangeSet(p) {
      const changeSet = findChangeSet(p);
      if (changeSet.executionStatus === 'EXECUTE_IN_PROGRESS') {
        // Wording unverified.
        throw new AwsError(
          'InvalidChangeSetStatus',
          `ChangeSet [${changeSet.id}] cannot be deleted in its current execution status of [EXECUTE_IN_PROGRESS]`,
        );
      }
      changeSets.delete(changeSet.id);
      return {};
    },

    ListChangeSets(p) {
      const name = required(p, 'StackName', 'stackName');
      const stack = stacks.find(name);
      if (!stack) throw new AwsError('ValidationError', `Stack [${name}] does not exist`);
      const listed = page(
        changeSets.forStack(stack.stackId),
        p.string('NextToken'),
        PAGE_SIZE,
        `changesets:${stack.stackId}`,
      );
      return { Summaries: listed.items.map(changeSetSummaryShape), NextToken: listed.nextToken };
    },

    UpdateTerminationProtection(p) {
      const name = required(p, 'StackName', 'stackName');
      const stack = liveStack(name);
      if (!stack) throw new AwsError('ValidationError', `Stack [${name}] does not exist`);
      const enable = bool(p, 'EnableTerminationProtection');
      if (enable === undefined)
        throw validationError('enableTerminationProtection', undefined, 'Member must not be null');
      stack.terminationProtection = enable;
      return { StackId: stack.stackId };
    },

    ListStacks(p) {
      const filter = p.list('StackStatusFilter') ?? [];
      const all = stacks
        .all()
        .reverse()
        .filter((s) => filter.length === 0 || filter.includes(s.status));
      const listed = page(all, p.string('NextToken'), PAGE_SIZE, `ListStacks:${filter.join(',')}`);
      return { StackSummaries: listed.items.map(stackSummaryShape), NextToken: listed.nextToken };
    },

    ListExports(p) {
      const listed = page(exports.list(), p.string('NextToken'), PAGE_SIZE, 'ListExports');
      return {
        Exports: listed.items.map((e) => ({
          ExportingStackId: e.exportingStackId,
          Name: e.name,
          Value: e.value,
        })),
        NextToken: listed.nextToken,
      };
    },

    ListImports(p) {
      const name = required(p, 'ExportName', 'exportName');
      const exported = exports.find(name);
      const importers = exported ? exports.importers(name, exported.stack) : [];
      // Wording unverified.
      if (importers.length === 0)
        throw new AwsError('ValidationError', `Export '${name}' is not imported by any stack.`);
      return { Imports: importers.map((s) => s.stackName) };
    },
  };

  function stackNameOrArn(p: QueryParams): string {
    const name = required(p, 'StackName', 'stackName');
    return name.startsWith('arn:') ? name : stackNameParam(p);
  }

  return {
    registry,
    service: {
      name: 'cloudformation',
      signingName: 'cloudformation',
      protocol: { kind: 'query', xmlns: CLOUDFORMATION_XMLNS },
      async handle(call): Promise<AwsReply> {
        const handler = Object.hasOwn(handlers, call.operation) ? handlers[call.operation] : undefined;
        if (!handler) {
          throw new AwsError(
            'InvalidAction',
            `Could not find operation ${call.operation} for version ${CLOUDFORMATION_VERSION}`,
          );
        }
        const result = await handler(call.params!);
        return {
          headers: { 'content-type': 'text/xml' },
          body: renderQueryResult(call.operation, CLOUDFORMATION_XMLNS, result, call.requestId),
        };
      },
    },
    async stop() {
      stopping.abort();
      await Promise.allSettled([...running]);
    },
  };
}
