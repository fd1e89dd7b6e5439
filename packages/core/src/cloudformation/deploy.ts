import { randomUUID } from 'node:crypto';
import {
  CreateChangeSetCommand,
  CreateStackCommand,
  DescribeChangeSetCommand,
  ExecuteChangeSetCommand,
  GetTemplateSummaryCommand,
  UpdateStackCommand,
  UpdateTerminationProtectionCommand,
  ValidateTemplateCommand,
  type Capability,
  type Parameter,
  type RollbackConfiguration,
  type Stack,
  type Tag,
  type TemplateParameter,
  type ValidateTemplateOutput,
} from '@aws-sdk/client-cloudformation';
import { awsErrorCode, awsErrorMessage, isRetryableError } from '../aws/aws-errors';
import { InvalidInputError } from '../errors';
import { summarizeChanges, type ChangeSetSummary } from './changeset-summary';
import { changeSetNameFor, deleteChangeSet, isEmptyChangeSet, waitForChangeSet } from './changeset';
import { call, createEngine, type CloudFormationContext, type Engine } from './context';
import { deleteStackAndWait } from './delete';
import {
  ChangeSetFailedError,
  EmptyChangeSetError,
  StackInRollbackCompleteError,
  StackNotUpdatableError,
  TemplateSourceError,
} from './errors';
import { capabilitiesError, explainCloudFormationError } from './explain';
import { describeEventsPage, StackEventTail } from './events';
import { failureFor } from './failure';
import { stackOutputs, type StackOutputEntry } from './outputs';
import {
  mergeParameters,
  parseParameterOverrides,
  parseParameters,
  resolveParameters,
  type ParameterMap,
} from './parameters';
import {
  assertServiceRoleArn,
  describeStack,
  isInProgress,
  isStackMissingError,
  successStatuses,
  type StackOperation,
} from './stack';
import { prepareTemplate, type PreparedTemplate, type TemplateSource } from './template';
import { waitForStack } from './wait';

/** Parameters as text (a file's content or an inline value) and where it came from, for messages. */
export interface ParameterSource {
  text: string;
  origin: string;
}

export interface DeployStackOptions {
  stackName: string;
  template: TemplateSource;
  /** Bucket for templates over 51,200 bytes (uploaded under keyless/templates/<stack>/<sha256>.template). */
  templateBucket?: string;
  /** Parameter files/inline texts, applied in order; then the overrides. Later values win. */
  parameters?: ParameterSource[];
  /** `Key=Value` items. */
  parameterOverrides?: string[];
  capabilities?: string[];
  tags?: Record<string, string>;
  /** CloudFormation's service role (not the OIDC role). */
  roleArn?: string;
  notificationArns?: string[];
  /** Resource types the stack may contain (CloudFormation refuses the operation if the template has others). */
  resourceTypes?: string[];
  /** Change sets: also compute the changes of nested stacks. */
  includeNestedStacks?: boolean;
  /** Set termination protection to this value after the deploy; unchanged when undefined. */
  terminationProtection?: boolean;
  /** What a failed CREATE does (default ROLLBACK). Excludes disableRollback. */
  onFailure?: 'ROLLBACK' | 'DO_NOTHING' | 'DELETE';
  disableRollback?: boolean;
  rollbackTriggers?: { monitoringTimeMinutes?: number; alarmArns: string[] };
  /** `change-set` (default) or `direct` (CreateStack/UpdateStack). */
  method?: 'change-set' | 'direct';
  /** false: create the change set, report it, and stop (default true). */
  execute?: boolean;
  /** Delete and recreate a stack left in ROLLBACK_COMPLETE (default true). */
  recreateRollbackComplete?: boolean;
  /** What an empty change set means: success (default), success with a warning, or failure. */
  onEmptyChangeSet?: 'succeed' | 'warn' | 'fail';
  changeSetName?: string;
  /** The CI build id, used to name the change set. */
  buildId?: string;
  description?: string;
  /** Budget for each wait (change set creation, the stack operation), default 60 minutes. */
  timeoutMinutes?: number;
  /** Default: a fresh `keyless-<uuid>` per run. */
  clientRequestToken?: string;
}

export type DeployOutcome = 'created' | 'updated' | 'no-changes' | 'change-set-created';

export interface DeployStackResult {
  stackName: string;
  stackId: string;
  outcome: DeployOutcome;
  /** The stack's status at the end. */
  status: string;
  outputs: Record<string, string>;
  exports: Record<string, string>;
  /** The outputs as DescribeStacks lists them. */
  outputList: StackOutputEntry[];
  changeSet?: { id: string; name: string; summary: ChangeSetSummary };
  clientRequestToken: string;
}

const stackNamePattern = /^[a-zA-Z][-a-zA-Z0-9]{0,127}$/;
/** A stack busy with someone else's operation is waited out at most this many times. */
const maxBusyRounds = 2;

/**
 * Creates or updates a stack, through a change set (default) or directly, and waits for the result while
 * printing its events. Every input is checked (template syntax and size, parameters against the template,
 * capabilities) before anything changes.
 */
export async function deployStack(
  options: DeployStackOptions,
  ctx: CloudFormationContext,
): Promise<DeployStackResult> {
  validateOptions(options);
  const engine = createEngine(ctx);
  const { reporter } = engine;
  const { stackName } = options;
  const token = options.clientRequestToken ?? `keyless-${randomUUID()}`;
  const timeoutMs = (options.timeoutMinutes ?? 60) * 60_000;

  const template = await prepareTemplate(
    options.template,
    {
      bucket: options.templateBucket,
      stackName,
      s3: engine.s3,
      s3Endpoint: engine.s3Endpoint,
      region: engine.region,
      note: (message) => reporter.info(message),
    },
    engine.cwd,
  );
  reporter.info(`Template: ${template.description}`);
  const given = readParameters(options);
  const registerNoEcho = (declared: TemplateParameter[]) => {
    for (const parameter of declared) {
      const value =
        parameter.NoEcho && parameter.ParameterKey ? given.get(parameter.ParameterKey) : undefined;
      if (value && 'value' in value) reporter.registerSecret(value.value);
    }
  };
  // A local template names its NoEcho parameters before CloudFormation has seen it, so their values are
  // secret even when validation then fails.
  registerNoEcho(declaredParametersOf({}, template));
  const validated = await validateTemplate(engine, template, stackName);
  checkCapabilities(validated, options.capabilities ?? [], stackName, template);
  const declaredParameters = declaredParametersOf(validated, template);
  registerNoEcho(declaredParameters);

  for (let round = 0; ; round++) {
    let stack = await describeOrExplain(engine, stackName);
    if (stack && isInProgress(stack.StackStatus) && stack.StackStatus !== 'REVIEW_IN_PROGRESS') {
      if (round >= maxBusyRounds) throw busyError(stackName, stack.StackStatus);
      await waitOutOtherOperation(engine, stack, timeoutMs);
      continue;
    }
    refuseStuckStates(stack, engine.region);
    const rollbackComplete = stack?.StackStatus === 'ROLLBACK_COMPLETE';
    if (rollbackComplete && options.recreateRollbackComplete === false) {
      throw new StackInRollbackCompleteError(
        `Stack ${stackName} is in ROLLBACK_COMPLETE (its creation failed and was rolled back), so it cannot be updated; recreating it is disabled.`,
        `Delete it (keyless cloudformation delete --stack-name ${stackName}) or allow recreation (drop --no-recreate-rollback-complete).`,
      );
    }
    const creating = !stack || rollbackComplete || stack.StackStatus === 'REVIEW_IN_PROGRESS';
    if (creating && template.usePrevious) throw noPreviousTemplate(stackName, stack?.StackStatus);
    const parameters = resolveParameters({
      given,
      declared: declaredParameters,
      previous: creating
        ? undefined
        : (stack?.Parameters ?? []).map((parameter) => parameter.ParameterKey ?? ''),
      stackName,
    });
    if (rollbackComplete && stack?.StackId) {
      reporter.info(
        `Stack ${stackName} is in ROLLBACK_COMPLETE (a failed creation): deleting it so it can be created again.`,
      );
      await deleteStackAndWait(engine, stackName, stack.StackId, { timeoutMs, token: `${token}-delete` });
      stack = undefined;
    }
    const run: Run = { engine, options, template, parameters, token, timeoutMs, stack, creating };
    try {
      const useDirect = options.method === 'direct' && stack?.StackStatus !== 'REVIEW_IN_PROGRESS';
      return useDirect ? await deployDirect(run) : await deployWithChangeSet(run);
    } catch (error) {
      // Someone started an operation between our DescribeStacks and our call: wait it out once and retry.
      if (round + 1 < maxBusyRounds && isBusyError(error)) {
        reporter.info(`Stack ${stackName} became busy with another operation; waiting for it to finish.`);
        const busy = await describeOrExplain(engine, stackName);
        if (busy) await waitOutOtherOperation(engine, busy, timeoutMs);
        continue;
      }
      throw error;
    }
  }
}

interface Run {
  engine: Engine;
  options: DeployStackOptions;
  template: PreparedTemplate;
  parameters: Parameter[];
  token: string;
  timeoutMs: number;
  stack: Stack | undefined;
  creating: boolean;
}

async function deployWithChangeSet(run: Run): Promise<DeployStackResult> {
  const { engine, options, template, token, stack, creating } = run;
  const { reporter } = engine;
  const { stackName } = options;
  const name = options.changeSetName ?? changeSetNameFor(options.buildId, engine.clock.now());
  // A re-run of the same build reuses the name: the old change set must go first.
  if (stack && (options.changeSetName || options.buildId)) await deleteChangeSet(engine, stackName, name);

  const type = creating ? 'CREATE' : 'UPDATE';
  const requestedAt = engine.clock.now();
  const created = await call(engine, () =>
    engine.cfn.send(
      new CreateChangeSetCommand({
        StackName: stackName,
        ChangeSetName: name,
        ChangeSetType: type,
        ...templateFields(template),
        Parameters: run.parameters,
        ...commonFields(options),
        ClientToken: token,
        Description: options.description ?? 'Created by Keyless',
        ...(options.includeNestedStacks ? { IncludeNestedStacks: true } : {}),
        ...(creating && options.onFailure && !options.disableRollback
          ? { OnStackFailure: options.onFailure }
          : {}),
      }),
    ),
  ).catch(async (error: unknown) => {
    // Some endpoints (moto) refuse an empty change set synchronously instead of creating a FAILED one.
    if (isNoUpdatesError(error)) return undefined;
    const lost = await lostChangeSet(engine, stackName, name, requestedAt, error);
    if (lost) return lost;
    throw explainCloudFormationError(error, 'CreateChangeSet', stackName, template.document);
  });
  if (!created) return noChanges(run, stack?.StackId ?? stackName);
  const changeSetId = created.Id ?? name;
  const stackId = created.StackId ?? stack?.StackId ?? stackName;
  reporter.info(
    `Created ${type} change set ${name} for stack ${stackName}; waiting for CloudFormation to compute it.`,
  );

  const result = await waitForChangeSet(engine, stackName, changeSetId, run.timeoutMs);
  if (result.description.Status !== 'CREATE_COMPLETE') {
    if (isEmptyChangeSet(result)) return noChanges(run, stackId, changeSetId, name);
    await deleteChangeSet(engine, stackName, changeSetId);
    throw new ChangeSetFailedError(
      `Change set ${name} for stack ${stackName} failed: ${result.description.StatusReason ?? result.description.Status ?? 'no reason given'}`,
      'Fix the cause named above (template, parameters or permissions) and re-run; the failed change set was deleted.',
    );
  }
  const summary = summarizeChanges(name, stackName, result.changes);
  reporter.info(summary.text);
  const changeSet = { id: changeSetId, name, summary };

  if (options.execute === false) {
    reporter.info(
      `Not executing change set ${name} (no-execute); review it in the console or execute it later.`,
    );
    const current = await describeOrExplain(engine, stackId);
    return {
      stackName,
      stackId,
      outcome: 'change-set-created',
      status: current?.StackStatus ?? 'REVIEW_IN_PROGRESS',
      ...stackOutputs(current),
      changeSet,
      clientRequestToken: token,
    };
  }

  const tail = await startChangeSetExecution(engine, {
    stackId,
    stackName,
    changeSetId,
    label: name,
    token,
    disableRollback: options.disableRollback,
    templateDocument: template.document,
  });
  reporter.info(`Executing change set ${name}; stack events follow.`);
  const operation: StackOperation = creating ? 'create' : 'update';
  const final = await waitForStack(engine, {
    stackName,
    stackId,
    tail,
    what: operation,
    timeoutMs: run.timeoutMs,
  });
  return finish(run, final, operation, tail, changeSet);
}

async function deployDirect(run: Run): Promise<DeployStackResult> {
  const { engine, options, template, token, stack, creating } = run;
  const { stackName } = options;
  let stackId: string;
  let tail: StackEventTail;
  const events = (id: string) =>
    describeEventsPage((command) => call(engine, () => engine.cfn.send(command)), id);
  if (creating) {
    const output = await call(engine, () =>
      engine.cfn.send(
        new CreateStackCommand({
          StackName: stackName,
          ...templateFields(template),
          Parameters: run.parameters,
          ...commonFields(options),
          ClientRequestToken: token,
          ...(options.disableRollback
            ? { DisableRollback: true }
            : options.onFailure
              ? { OnFailure: options.onFailure }
              : {}),
          ...(options.terminationProtection ? { EnableTerminationProtection: true } : {}),
        }),
      ),
    ).catch(async (error: unknown) => {
      const ours = await stackOperationWithToken(engine, stackName, token, error);
      if (ours) {
        engine.reporter.info(
          `CreateStack's answer was lost (${awsErrorMessage(error)}), but stack ${stackName} is being created by this run: following it.`,
        );
        return { StackId: ours };
      }
      throw explainCloudFormationError(error, 'CreateStack', stackName, template.document);
    });
    stackId = output.StackId ?? stackName;
    tail = new StackEventTail(events(stackId), token);
  } else {
    stackId = stack?.StackId ?? stackName;
    tail = new StackEventTail(events(stackId), token);
    await tail.markBaseline();
    try {
      await call(engine, () =>
        engine.cfn.send(
          new UpdateStackCommand({
            StackName: stackName,
            ...templateFields(template),
            Parameters: run.parameters,
            ...commonFields(options),
            ClientRequestToken: token,
            ...(options.disableRollback ? { DisableRollback: true } : {}),
          }),
        ),
      );
    } catch (error) {
      if (
        awsErrorCode(error) === 'ValidationError' &&
        /no updates are to be performed/i.test(awsErrorMessage(error))
      ) {
        return noChanges(run, stackId);
      }
      if (!(await stackOperationWithToken(engine, stackId, token, error)))
        throw explainCloudFormationError(error, 'UpdateStack', stackName, template.document);
      engine.reporter.info(
        `UpdateStack's answer was lost (${awsErrorMessage(error)}), but stack ${stackName} is being updated by this run: following it.`,
      );
    }
  }
  engine.reporter.info(`${creating ? 'Creating' : 'Updating'} stack ${stackName}; stack events follow.`);
  const operation: StackOperation = creating ? 'create' : 'update';
  const final = await waitForStack(engine, {
    stackName,
    stackId,
    tail,
    what: operation,
    timeoutMs: run.timeoutMs,
  });
  return finish(run, final, operation, tail);
}

async function noChanges(
  run: Run,
  stackId: string,
  changeSetId?: string,
  name?: string,
): Promise<DeployStackResult> {
  const { engine, options } = run;
  const { stackName } = options;
  // Not executing here means a later step will (the review flow): it must find the empty change set, which
  // it then skips (the AWS Toolkit's noFailOnEmptyChangeSet), so it is kept; otherwise it is clutter.
  const keep = options.execute === false;
  if (changeSetId && !keep) await deleteChangeSet(engine, stackName, changeSetId);
  const what = !changeSetId
    ? ''
    : keep
      ? ` (the empty change set ${name} is kept for the step that executes it, which can skip it)`
      : ` (the empty change set ${name} was deleted)`;
  const message = `No changes to deploy: stack ${stackName} is up to date${what}.`;
  if (options.onEmptyChangeSet === 'fail') {
    throw new EmptyChangeSetError(
      message,
      'Drop --fail-on-empty if an unchanged stack is fine, or change the template or parameters.',
    );
  }
  if (options.onEmptyChangeSet === 'warn') engine.reporter.warn(message);
  else engine.reporter.info(message);
  const current = await describeOrExplain(engine, stackId);
  await applyTerminationProtection(engine, options, current);
  return {
    stackName,
    stackId: current?.StackId ?? stackId,
    outcome: 'no-changes',
    status: current?.StackStatus ?? 'UNKNOWN',
    ...stackOutputs(current),
    clientRequestToken: run.token,
  };
}

async function finish(
  run: Run,
  final: Stack,
  operation: StackOperation,
  tail: StackEventTail,
  changeSet?: DeployStackResult['changeSet'],
): Promise<DeployStackResult> {
  const { engine, options } = run;
  const status = final.StackStatus ?? 'UNKNOWN';
  if (!successStatuses[operation].has(status)) {
    throw failureFor(options.stackName, operation, final, tail.events, engine.region);
  }
  await applyTerminationProtection(engine, options, final);
  engine.reporter.info(
    `Stack ${options.stackName} ${operation === 'create' ? 'created' : 'updated'}: ${status}`,
  );
  return {
    stackName: options.stackName,
    stackId: final.StackId ?? options.stackName,
    outcome: operation === 'create' ? 'created' : 'updated',
    status,
    ...stackOutputs(final),
    ...(changeSet ? { changeSet } : {}),
    clientRequestToken: run.token,
  };
}

async function applyTerminationProtection(
  engine: Engine,
  options: DeployStackOptions,
  stack: Stack | undefined,
): Promise<void> {
  if (options.terminationProtection === undefined || !stack) return;
  if ((stack.EnableTerminationProtection ?? false) === options.terminationProtection) return;
  await call(engine, () =>
    engine.cfn.send(
      new UpdateTerminationProtectionCommand({
        StackName: stack.StackId ?? options.stackName,
        EnableTerminationProtection: options.terminationProtection,
      }),
    ),
  ).catch((error: unknown) => {
    throw explainCloudFormationError(error, 'UpdateTerminationProtection', options.stackName);
  });
  engine.reporter.info(
    `Termination protection of stack ${options.stackName} turned ${options.terminationProtection ? 'on' : 'off'}.`,
  );
}

function templateFields(template: PreparedTemplate): {
  TemplateBody?: string;
  TemplateURL?: string;
  UsePreviousTemplate?: boolean;
} {
  if (template.usePrevious) return { UsePreviousTemplate: true };
  return template.templateUrl
    ? { TemplateURL: template.templateUrl }
    : { TemplateBody: template.templateBody };
}

function noPreviousTemplate(stackName: string, status: string | undefined): TemplateSourceError {
  return new TemplateSourceError(
    status
      ? `Stack ${stackName} is in ${status}, so it must be created anew and its previous template cannot be reused.`
      : `Stack ${stackName} does not exist, so there is no previous template to reuse.`,
    'Give the template itself (a file, a URL or an S3 object) for this deployment.',
  );
}

function commonFields(options: DeployStackOptions): {
  Capabilities?: Capability[];
  Tags?: Tag[];
  RoleARN?: string;
  NotificationARNs?: string[];
  ResourceTypes?: string[];
  RollbackConfiguration?: RollbackConfiguration;
} {
  const fields: ReturnType<typeof commonFields> = {};
  if (options.capabilities?.length) fields.Capabilities = options.capabilities as Capability[];
  if (options.tags && Object.keys(options.tags).length) {
    fields.Tags = Object.entries(options.tags).map(([Key, Value]) => ({ Key, Value }));
  }
  if (options.roleArn) fields.RoleARN = options.roleArn;
  if (options.notificationArns?.length) fields.NotificationARNs = options.notificationArns;
  if (options.resourceTypes?.length) fields.ResourceTypes = options.resourceTypes;
  if (options.rollbackTriggers?.alarmArns.length) {
    fields.RollbackConfiguration = {
      MonitoringTimeInMinutes: options.rollbackTriggers.monitoringTimeMinutes ?? 0,
      RollbackTriggers: options.rollbackTriggers.alarmArns.map((Arn) => ({
        Arn,
        Type: 'AWS::CloudWatch::Alarm',
      })),
    };
  }
  return fields;
}

async function validateTemplate(
  engine: Engine,
  template: PreparedTemplate,
  stackName: string,
): Promise<ValidateTemplateOutput> {
  if (template.usePrevious) return summarizeCurrentTemplate(engine, stackName);
  try {
    return await call(engine, () => engine.cfn.send(new ValidateTemplateCommand(templateFields(template))));
  } catch (error) {
    throw explainCloudFormationError(error, 'ValidateTemplate', stackName, template.document);
  }
}

/** The stack's current template, described like ValidateTemplate does (its parameters and capabilities). */
async function summarizeCurrentTemplate(engine: Engine, stackName: string): Promise<ValidateTemplateOutput> {
  try {
    const summary = await call(engine, () =>
      engine.cfn.send(new GetTemplateSummaryCommand({ StackName: stackName })),
    );
    return {
      Parameters: (summary.Parameters ?? []).map((parameter) => ({
        ParameterKey: parameter.ParameterKey,
        DefaultValue: parameter.DefaultValue,
        NoEcho: parameter.NoEcho,
        Description: parameter.Description,
      })),
      Capabilities: summary.Capabilities,
      CapabilitiesReason: summary.CapabilitiesReason,
    };
  } catch (error) {
    if (isStackMissingError(error)) throw noPreviousTemplate(stackName, undefined);
    throw explainCloudFormationError(error, 'GetTemplateSummary', stackName);
  }
}

/**
 * The template's parameters as ValidateTemplate reports them (authoritative: it sees transforms). Endpoints
 * that answer ValidateTemplate without them (moto) fall back to the local template's declarations.
 */
function declaredParametersOf(
  validated: ValidateTemplateOutput,
  template: PreparedTemplate,
): TemplateParameter[] {
  if (validated.Parameters?.length || !template.document?.Parameters) return validated.Parameters ?? [];
  return Object.entries(template.document.Parameters).map(([name, declaration]) => {
    const fields = (typeof declaration === 'object' && declaration !== null ? declaration : {}) as Record<
      string,
      unknown
    >;
    const parameter: TemplateParameter = { ParameterKey: name };
    if (fields.Default !== undefined && fields.Default !== null) {
      parameter.DefaultValue = Array.isArray(fields.Default)
        ? fields.Default.map(String).join(',')
        : String(fields.Default);
    }
    if (fields.NoEcho === true || fields.NoEcho === 'true') parameter.NoEcho = true;
    return parameter;
  });
}

/** Fails before anything changes when ValidateTemplate says a capability is needed and it was not given. */
function checkCapabilities(
  validated: ValidateTemplateOutput,
  given: string[],
  stackName: string,
  template: PreparedTemplate,
): void {
  const has = new Set(given);
  // CAPABILITY_NAMED_IAM covers everything CAPABILITY_IAM does.
  if (has.has('CAPABILITY_NAMED_IAM')) has.add('CAPABILITY_IAM');
  const missing = (validated.Capabilities ?? []).filter((capability) => !has.has(capability));
  if (missing.length)
    throw capabilitiesError(missing, stackName, template.document, validated.CapabilitiesReason);
}

function readParameters(options: DeployStackOptions): ParameterMap {
  const maps = (options.parameters ?? []).map((source) => parseParameters(source.text, source.origin));
  return mergeParameters(...maps, parseParameterOverrides(options.parameterOverrides ?? []));
}

/** The stack (undefined when absent); any other DescribeStacks failure explained. */
export async function describeOrExplain(engine: Engine, stackNameOrId: string): Promise<Stack | undefined> {
  try {
    return await describeStack(engine, stackNameOrId);
  } catch (error) {
    throw explainCloudFormationError(error, 'DescribeStacks', stackNameOrId);
  }
}

/** Waits until someone else's operation on the stack has ended, printing its events. */
export async function waitOutOtherOperation(engine: Engine, stack: Stack, timeoutMs: number): Promise<void> {
  const stackName = stack.StackName ?? '?';
  const stackId = stack.StackId ?? stackName;
  engine.reporter.info(
    `Stack ${stackName} is busy (${stack.StackStatus}); waiting for that operation to finish first.`,
  );
  const tail = new StackEventTail(
    describeEventsPage((command) => call(engine, () => engine.cfn.send(command)), stackId),
    undefined,
  );
  await tail.markBaseline();
  await waitForStack(engine, {
    stackName,
    stackId,
    tail,
    what: `current operation (${stack.StackStatus})`,
    timeoutMs,
  });
}

/** How much earlier than our request (server clock) a change set may say it was created and still be ours. */
const creationSkewMs = 5 * 60_000;

/**
 * Whether a failed call may still have been carried out: its answer was lost (reset, 5xx, throttled retries
 * that ran out after an attempt that got through) or the retry collided with the first attempt's result.
 */
function mayHaveHappened(error: unknown): boolean {
  const code = awsErrorCode(error);
  return (
    isRetryableError(error) ||
    code === undefined ||
    code === 'AlreadyExistsException' ||
    code === 'InvalidChangeSetStatus'
  );
}

/**
 * The change set our CreateChangeSet created although its answer never arrived (or its retry found the name
 * taken): the name is this run's (a timestamp, or the build's, deleted beforehand), so one created since our
 * request is ours. AWS honours ClientToken on retries, so this only matters once the SDK's retries ran out.
 */
async function lostChangeSet(
  engine: Engine,
  stackName: string,
  name: string,
  requestedAt: number,
  error: unknown,
): Promise<{ Id?: string; StackId?: string } | undefined> {
  if (!mayHaveHappened(error)) return undefined;
  try {
    const found = await call(engine, () =>
      engine.cfn.send(new DescribeChangeSetCommand({ StackName: stackName, ChangeSetName: name })),
    );
    const createdAt = found.CreationTime?.getTime();
    if (!found.ChangeSetId || createdAt === undefined || createdAt < requestedAt - creationSkewMs)
      return undefined;
    engine.reporter.info(
      `CreateChangeSet's answer was lost (${awsErrorMessage(error)}), but change set ${name} was created by this run: using it.`,
    );
    return { Id: found.ChangeSetId, StackId: found.StackId };
  } catch {
    return undefined;
  }
}

/**
 * Executes a change set with the run's ClientRequestToken and returns the event tail, its baseline taken
 * before the call so only this execution's events are shown. An answer lost after the execution started
 * (a reset, a 5xx the SDK gave up on) is followed rather than treated as a failure — retrying would fail or,
 * worse, run a second operation.
 */
export async function startChangeSetExecution(
  engine: Engine,
  args: {
    stackId: string;
    stackName: string;
    changeSetId: string;
    /** How messages name the change set. */
    label: string;
    token: string;
    disableRollback?: boolean;
    templateDocument?: Parameters<typeof explainCloudFormationError>[3];
  },
): Promise<StackEventTail> {
  const { stackId, stackName, changeSetId, token } = args;
  const tail = new StackEventTail(
    describeEventsPage((command) => call(engine, () => engine.cfn.send(command)), stackId),
    token,
  );
  await tail.markBaseline();
  await call(engine, () =>
    engine.cfn.send(
      new ExecuteChangeSetCommand({
        ChangeSetName: changeSetId,
        StackName: stackName,
        ClientRequestToken: token,
        ...(args.disableRollback ? { DisableRollback: true } : {}),
      }),
    ),
  ).catch(async (error: unknown) => {
    if (await wasExecuted(engine, stackId, stackName, changeSetId, error)) {
      engine.reporter.info(
        `ExecuteChangeSet's answer was lost (${awsErrorMessage(error)}), but change set ${args.label} is executing: following it.`,
      );
      return;
    }
    throw explainCloudFormationError(error, 'ExecuteChangeSet', stackName, args.templateDocument);
  });
  return tail;
}

/** Whether our ExecuteChangeSet went through although it reported a failure (a lost answer, then a retry). */
async function wasExecuted(
  engine: Engine,
  stackId: string,
  stackName: string,
  changeSetId: string,
  error: unknown,
): Promise<boolean> {
  if (!mayHaveHappened(error)) return false;
  const stack = await describeStack(engine, stackId).catch(() => undefined);
  if (stack?.ChangeSetId === changeSetId && stack.StackStatus !== 'REVIEW_IN_PROGRESS') return true;
  try {
    const changeSet = await call(engine, () =>
      engine.cfn.send(new DescribeChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetId })),
    );
    return ['EXECUTE_IN_PROGRESS', 'EXECUTE_COMPLETE', 'EXECUTE_FAILED'].includes(
      changeSet.ExecutionStatus ?? '',
    );
  } catch {
    return false;
  }
}

/**
 * The stack id, when the stack has events carrying our ClientRequestToken: our CreateStack/UpdateStack went
 * through although the call reported a failure.
 */
async function stackOperationWithToken(
  engine: Engine,
  stackNameOrId: string,
  token: string,
  error: unknown,
): Promise<string | undefined> {
  if (!mayHaveHappened(error)) return undefined;
  try {
    const { events } = await describeEventsPage(
      (command) => call(engine, () => engine.cfn.send(command)),
      stackNameOrId,
    )(undefined);
    return events.find((event) => event.ClientRequestToken === token)?.StackId;
  } catch {
    return undefined;
  }
}

function isNoUpdatesError(error: unknown): boolean {
  return (
    awsErrorCode(error) === 'ValidationError' &&
    /no updates are to be performed|didn't contain changes/i.test(awsErrorMessage(error))
  );
}

function isBusyError(error: unknown): boolean {
  return /is in \w+_IN_PROGRESS state and can ?not be updated/i.test(awsErrorMessage(error));
}

function busyError(stackName: string, status: string | undefined): StackNotUpdatableError {
  return new StackNotUpdatableError(
    stackName,
    status ?? 'UNKNOWN',
    `Stack ${stackName} stayed busy (${status}) with other operations; not starting another.`,
    'Find what keeps updating it (another pipeline?) and re-run when it is idle.',
  );
}

/** States only a person can resolve: explain them instead of sending an update that must fail. */
function refuseStuckStates(stack: Stack | undefined, region: string): void {
  const status = stack?.StackStatus;
  const name = stack?.StackName ?? '?';
  if (!status) return;
  if (status.endsWith('ROLLBACK_FAILED') && status !== 'ROLLBACK_FAILED') {
    throw new StackNotUpdatableError(
      name,
      status,
      `Stack ${name} is in ${status}: a rollback could not finish, so CloudFormation refuses updates until it does.`,
      `Continue the rollback (aws cloudformation continue-update-rollback --stack-name ${name} --region ${region}, skipping resources that cannot roll back with --resources-to-skip) or delete the stack.`,
    );
  }
  if (status === 'ROLLBACK_FAILED' || status === 'DELETE_FAILED') {
    throw new StackNotUpdatableError(
      name,
      status,
      `Stack ${name} is in ${status}: CloudFormation could not delete some of its resources, and such a stack can only be deleted.`,
      `Delete it (keyless cloudformation delete --stack-name ${name}, with --retain-resources for resources that cannot be deleted), then re-run.`,
    );
  }
}

function validateOptions(options: DeployStackOptions): void {
  if (!stackNamePattern.test(options.stackName)) {
    throw new InvalidInputError(
      `"${options.stackName}" is not a valid stack name.`,
      'Use up to 128 letters, digits and hyphens, starting with a letter.',
    );
  }
  if (options.onFailure && options.disableRollback) {
    throw new InvalidInputError(
      'on-failure and disable-rollback cannot be combined.',
      'Use --on-failure DO_NOTHING to keep failed resources, or --disable-rollback alone.',
    );
  }
  if (options.onFailure && !['ROLLBACK', 'DO_NOTHING', 'DELETE'].includes(options.onFailure)) {
    throw new InvalidInputError(
      `Unknown on-failure "${options.onFailure}".`,
      'Use ROLLBACK, DO_NOTHING or DELETE.',
    );
  }
  const triggers = options.rollbackTriggers;
  if (
    triggers &&
    (triggers.alarmArns.length > 5 ||
      (triggers.monitoringTimeMinutes ?? 0) < 0 ||
      (triggers.monitoringTimeMinutes ?? 0) > 180)
  ) {
    throw new InvalidInputError(
      'Rollback triggers take at most 5 alarm ARNs and a monitoring time of 0-180 minutes.',
      'Reduce the alarms or the monitoring time.',
    );
  }
  if (options.timeoutMinutes !== undefined && !(options.timeoutMinutes > 0)) {
    throw new InvalidInputError(
      'The timeout must be a positive number of minutes.',
      'Give e.g. --timeout 60.',
    );
  }
  assertServiceRoleArn(options.roleArn);
  for (const arn of options.notificationArns ?? []) {
    if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w.-]+$/.test(arn)) {
      throw new InvalidInputError(
        `The notification ARN "${arn}" is not an SNS topic ARN.`,
        'Give topics as arn:aws:sns:<region>:<12-digit account id>:<topic name>.',
      );
    }
  }
  if (options.changeSetName && !stackNamePattern.test(options.changeSetName)) {
    throw new InvalidInputError(
      `"${options.changeSetName}" is not a valid change set name.`,
      'Use up to 128 letters, digits and hyphens, starting with a letter.',
    );
  }
}
