import { randomUUID } from 'node:crypto';
import type { AwsEnvironment } from '../aws/service';
import { EventRecorder } from './events';
import type { ExportDirectory } from './exports';
import { injectedFailure } from './failure-injection';
import type { Stack, StackDefinition, StackOutput, StackResource, StackStatus } from './model';
import { dependents, runInDependencyOrder } from './ordering';
import type {
  ProgressEvent,
  ProviderAction,
  ProviderRegistry,
  ProviderState,
  ResourceProvider,
  ResourceRequest,
} from './providers';
import type { StackStore } from './stacks';
import { dependencyGraph, resolveValue } from './template';
import type { EvaluationContext, ResourceDeclaration } from './template';

/**
 * The asynchronous stack operations: create, update and delete with AWS's status machine, rollback included.
 * Each resource goes through its provider's progress loop; independent resources run in parallel. The caller
 * (the service) starts an operation and answers the API call at once, so every *_IN_PROGRESS state is observable.
 */

export interface OperationDeps {
  env: AwsEnvironment;
  stacks: StackStore;
  registry: ProviderRegistry;
  providerState: ProviderState;
  exports: ExportDirectory;
  /** Simulated stabilization seconds for a resource type. */
  delayFor(type: string): number;
  /** Aborted when the sandbox closes: operations stop where they are. */
  stopping: AbortSignal;
}

export type OnFailure = 'ROLLBACK' | 'DO_NOTHING' | 'DELETE';

/** Thrown inside an operation when the sandbox is closing; the operation just ends. */
class Stopping extends Error {}

interface ProviderOutcome {
  event: ProgressEvent;
  requestToken: string;
  cancelled: boolean;
}

/** One running operation's scratch state. */
interface Run {
  stack: Stack;
  events: EventRecorder;
  /** Logical ids that failed (or were cancelled), for the stack's status reason. */
  failed: string[];
  /** Aborted on the first failure: in-flight resources are cancelled, no new ones start. */
  cancel: AbortController;
  /** Export names this run's evaluation imported. */
  imports: Set<string>;
}

const CREATE_INITIATED = 'Resource creation Initiated';
const REPLACEMENT_REASON =
  'Requested update requires the creation of a new physical resource; hence creating one.';

function handlerMessage(outcome: ProviderOutcome): string {
  // AWS: Resource handler returned message: "…" (RequestToken: <uuid>, HandlerErrorCode: <code>)
  return (
    `Resource handler returned message: "${outcome.event.message ?? 'Internal Failure'}" ` +
    `(RequestToken: ${outcome.requestToken}, HandlerErrorCode: ${outcome.event.errorCode ?? 'GeneralServiceException'})`
  );
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function cloneResource(resource: StackResource): StackResource {
  return {
    ...resource,
    properties: structuredClone(resource.properties),
    attributes: { ...resource.attributes },
  };
}

function outputText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(outputText).join(',');
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

export class StackOperations {
  constructor(private readonly deps: OperationDeps) {}

  /** The evaluation context over `resources` (live records) for one stack and definition. */
  context(
    stack: Stack,
    definition: StackDefinition,
    resources: ReadonlyMap<string, StackResource>,
    imports?: Set<string>,
  ): EvaluationContext {
    const { env, exports } = this.deps;
    return {
      accountId: env.accountId,
      region: env.region,
      stackName: stack.stackName,
      stackId: stack.stackId,
      parameters: definition.parameters,
      conditions: definition.conditions,
      resource(logicalId) {
        const record = resources.get(logicalId);
        if (!record || record.ref === undefined) return undefined;
        return { ref: record.ref, attributes: record.attributes };
      },
      importValue(name) {
        imports?.add(name);
        return exports.find(name)?.value;
      },
      availabilityZones(region) {
        return ['a', 'b', 'c'].map((zone) => `${region || env.region}${zone}`);
      },
    };
  }

  /** Starts CREATE_IN_PROGRESS synchronously (before the first await), then provisions in the background. */
  async create(
    stack: Stack,
    definition: StackDefinition,
    options: { token?: string; onFailure: OnFailure },
  ): Promise<void> {
    const run = this.begin(stack, options.token, 'CREATE_IN_PROGRESS');
    stack.definition = definition;
    try {
      const graph = dependencyGraph(definition.template, definition.conditions);
      const created = await runInDependencyOrder(
        graph.keys(),
        (id) => graph.get(id) ?? [],
        (id) => this.createResource(run, definition, id, 'create'),
        () => !run.cancel.signal.aborted,
      );
      this.checkStopping();
      let outcome: { outputs: StackOutput[] } | { error: string } | undefined;
      if (created) outcome = this.evaluateOutputs(run, definition, stack.resources);
      if (outcome && 'outputs' in outcome) {
        stack.outputs = outcome.outputs;
        stack.imports = run.imports;
        this.finish(run, 'CREATE_COMPLETE');
        return;
      }
      const reason =
        outcome && 'error' in outcome
          ? `${outcome.error}. `
          : `The following resource(s) failed to create: [${run.failed.sort().join(', ')}]. `;
      if (options.onFailure === 'DO_NOTHING') {
        this.finish(run, 'CREATE_FAILED', reason);
        return;
      }
      if (options.onFailure === 'DELETE') {
        this.setStatus(run, 'DELETE_IN_PROGRESS', reason);
        const failures = await this.deleteAll(run, new Set(), 'rollback');
        if (failures.length > 0) this.finish(run, 'DELETE_FAILED', this.deleteFailedReason(failures));
        else this.retire(run);
        return;
      }
      this.setStatus(run, 'ROLLBACK_IN_PROGRESS', `${reason}Rollback requested by user.`);
      const failures = await this.deleteAll(run, new Set(), 'rollback');
      if (failures.length > 0) this.finish(run, 'ROLLBACK_FAILED', this.deleteFailedReason(failures));
      else this.finish(run, 'ROLLBACK_COMPLETE');
    } catch (error) {
      this.end(run, error);
    }
  }

  async update(
    stack: Stack,
    next: StackDefinition,
    options: { token?: string; disableRollback: boolean },
  ): Promise<void> {
    const run = this.begin(stack, options.token, 'UPDATE_IN_PROGRESS');
    const previous = {
      definition: stack.definition as StackDefinition,
      resources: new Map([...stack.resources].map(([id, r]) => [id, cloneResource(r)])),
      outputs: stack.outputs,
      imports: stack.imports,
    };
    /** Resources this update touched, and how. */
    const touched = new Map<string, 'add' | 'modify' | 'replace'>();
    try {
      const graph = dependencyGraph(next.template, next.conditions);
      const applied = await runInDependencyOrder(
        graph.keys(),
        (id) => graph.get(id) ?? [],
        (id) => this.updateResource(run, next, previous.resources, id, touched),
        () => !run.cancel.signal.aborted,
      );
      this.checkStopping();
      let outcome: { outputs: StackOutput[] } | { error: string } | undefined;
      if (applied) outcome = this.evaluateOutputs(run, next, stack.resources, previous.outputs);
      if (outcome && 'outputs' in outcome) {
        this.setStatus(run, 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS');
        // Replaced physical resources and resources no longer in the template go now; cleanup failures leave
        // DELETE_FAILED events but do not fail the update (as AWS).
        const previousGraph = this.safeGraph(previous.definition);
        const obsolete = [...previous.resources.values()].filter(
          (r) => !graph.has(r.logicalId) || touched.get(r.logicalId) === 'replace',
        );
        await this.deleteInReverseOrder(
          run,
          obsolete,
          previousGraph,
          previous.definition,
          new Set(),
          'cleanup',
        );
        for (const record of obsolete)
          if (!graph.has(record.logicalId)) stack.resources.delete(record.logicalId);
        stack.definition = next;
        stack.outputs = outcome.outputs;
        stack.imports = run.imports;
        this.finish(run, 'UPDATE_COMPLETE');
        return;
      }
      const verb = [...run.failed].every((id) => touched.get(id) === 'add') ? 'create' : 'update';
      const reason =
        outcome && 'error' in outcome
          ? `${outcome.error}. `
          : `The following resource(s) failed to ${verb}: [${run.failed.sort().join(', ')}]. `;
      if (options.disableRollback) {
        stack.definition = next;
        this.finish(run, 'UPDATE_FAILED', reason);
        return;
      }
      this.setStatus(run, 'UPDATE_ROLLBACK_IN_PROGRESS', `${reason}Rollback requested by user.`);
      await this.rollbackUpdate(run, next, graph, previous, touched);
    } catch (error) {
      this.end(run, error);
    }
  }

  async delete(stack: Stack, options: { token?: string; retain: Set<string> }): Promise<void> {
    const run = this.begin(stack, options.token, 'DELETE_IN_PROGRESS');
    try {
      for (const output of stack.outputs) {
        if (output.exportName === undefined) continue;
        const importer = this.deps.exports.importers(output.exportName, stack)[0];
        if (importer) {
          // Wording unverified; AWS refuses to delete an export that another stack imports.
          this.finish(
            run,
            'DELETE_FAILED',
            `Export ${output.exportName} cannot be deleted as it is in use by ${importer.stackName}`,
          );
          return;
        }
      }
      const failures = await this.deleteAll(run, options.retain, 'delete');
      if (failures.length > 0) this.finish(run, 'DELETE_FAILED', this.deleteFailedReason(failures));
      else this.retire(run);
    } catch (error) {
      this.end(run, error);
    }
  }

  // ---- stack-level bookkeeping ----

  private begin(stack: Stack, token: string | undefined, status: StackStatus): Run {
    const run: Run = {
      stack,
      events: new EventRecorder(this.deps.env.clock, stack, token),
      failed: [],
      cancel: new AbortController(),
      imports: new Set(),
    };
    stack.busy = true;
    if (status === 'UPDATE_IN_PROGRESS') stack.lastUpdatedTime = new Date(this.deps.env.clock.now());
    this.setStatus(run, status, 'User Initiated');
    return run;
  }

  private setStatus(run: Run, status: StackStatus, reason?: string): void {
    run.stack.status = status;
    run.stack.statusReason = reason;
    run.events.stackEvent(status, reason);
  }

  private finish(run: Run, status: StackStatus, reason?: string): void {
    this.setStatus(run, status, reason);
    run.stack.busy = false;
  }

  private retire(run: Run): void {
    run.stack.deletionTime = new Date(this.deps.env.clock.now());
    run.stack.outputs = [];
    run.stack.imports = new Set();
    this.finish(run, 'DELETE_COMPLETE');
    this.deps.stacks.retire(run.stack);
  }

  private end(run: Run, error: unknown): void {
    run.stack.busy = false;
    if (error instanceof Stopping) return;
    // An engine or sandbox bug must not leave the stack silently IN_PROGRESS forever.
    this.deps.env.log(
      `cloudformation: operation on ${run.stack.stackName} failed: ${(error as Error).stack ?? String(error)}`,
    );
    const failedState: Partial<Record<StackStatus, StackStatus>> = {
      CREATE_IN_PROGRESS: 'CREATE_FAILED',
      ROLLBACK_IN_PROGRESS: 'ROLLBACK_FAILED',
      UPDATE_IN_PROGRESS: 'UPDATE_FAILED',
      UPDATE_ROLLBACK_IN_PROGRESS: 'UPDATE_ROLLBACK_FAILED',
      UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS: 'UPDATE_ROLLBACK_FAILED',
      UPDATE_COMPLETE_CLEANUP_IN_PROGRESS: 'UPDATE_FAILED',
      DELETE_IN_PROGRESS: 'DELETE_FAILED',
    };
    const status = failedState[run.stack.status];
    if (status) this.setStatus(run, status, `Internal Failure: ${(error as Error).message}`);
  }

  private checkStopping(): void {
    if (this.deps.stopping.aborted) throw new Stopping();
  }

  private deleteFailedReason(failures: string[]): string {
    return `The following resource(s) failed to delete: [${failures.sort().join(', ')}]. `;
  }

  private safeGraph(definition: StackDefinition | undefined): Map<string, Set<string>> {
    if (!definition) return new Map();
    try {
      return dependencyGraph(definition.template, definition.conditions);
    } catch {
      return new Map();
    }
  }

  // ---- resources ----

  /** Creates one resource (a new one, or the replacement of an existing one during an update). */
  private async createResource(
    run: Run,
    definition: StackDefinition,
    logicalId: string,
    mode: 'create' | 'add' | 'replace',
  ): Promise<boolean> {
    const { stack } = run;
    const declaration = definition.template.resources.get(logicalId) as ResourceDeclaration;
    const provider = this.deps.registry.get(declaration.type);
    const inProgress = mode === 'replace' ? 'UPDATE_IN_PROGRESS' : 'CREATE_IN_PROGRESS';
    const record: StackResource = {
      logicalId,
      type: declaration.type,
      status: inProgress,
      properties: {},
      metadata: declaration.metadata,
      attributes: {},
      updatedAt: new Date(this.deps.env.clock.now()),
    };
    stack.resources.set(logicalId, record);
    let properties: Record<string, unknown>;
    try {
      properties = this.evaluateProperties(run, definition, declaration);
    } catch (error) {
      run.events.resourceEvent(record, inProgress, mode === 'replace' ? REPLACEMENT_REASON : undefined);
      return this.failResource(
        run,
        record,
        mode === 'replace' ? 'UPDATE_FAILED' : 'CREATE_FAILED',
        (error as Error).message,
      );
    }
    record.properties = properties;
    run.events.resourceEvent(
      record,
      inProgress,
      mode === 'replace' ? REPLACEMENT_REASON : undefined,
      properties,
    );
    const outcome = await this.runProvider(run, provider, 'create', {
      logicalId,
      properties,
      metadata: declaration.metadata,
      onFirstResult: (event) => {
        if (event.physicalId) record.physicalId = event.physicalId;
        if (event.status !== 'FAILED')
          run.events.resourceEvent(record, inProgress, CREATE_INITIATED, properties);
      },
    });
    if (outcome.event.physicalId) record.physicalId = outcome.event.physicalId;
    record.updatedAt = new Date(this.deps.env.clock.now());
    const failedStatus = mode === 'replace' ? 'UPDATE_FAILED' : 'CREATE_FAILED';
    if (outcome.cancelled) return this.failResource(run, record, failedStatus, 'Resource creation cancelled');
    if (outcome.event.status === 'FAILED')
      return this.failResource(run, record, failedStatus, handlerMessage(outcome));
    record.attributes = outcome.event.attributes ?? {};
    record.ref = provider.ref(record.physicalId ?? '', record.attributes);
    record.status = mode === 'replace' ? 'UPDATE_COMPLETE' : 'CREATE_COMPLETE';
    run.events.resourceEvent(record, record.status, undefined, properties);
    return true;
  }

  private async updateResource(
    run: Run,
    next: StackDefinition,
    previous: ReadonlyMap<string, StackResource>,
    logicalId: string,
    touched: Map<string, 'add' | 'modify' | 'replace'>,
  ): Promise<boolean> {
    const declaration = next.template.resources.get(logicalId) as ResourceDeclaration;
    const old = previous.get(logicalId);
    if (!old || old.status === 'DELETE_COMPLETE' || old.status === 'CREATE_FAILED' || !old.physicalId) {
      touched.set(logicalId, 'add');
      return this.createResource(run, next, logicalId, 'add');
    }
    const provider = this.deps.registry.get(declaration.type);
    const record = run.stack.resources.get(logicalId) as StackResource;
    let properties: Record<string, unknown>;
    try {
      properties = this.evaluateProperties(run, next, declaration);
    } catch (error) {
      run.events.resourceEvent(record, 'UPDATE_IN_PROGRESS');
      touched.set(logicalId, 'modify');
      return this.failResource(run, record, 'UPDATE_FAILED', (error as Error).message);
    }
    const unchanged =
      old.type === declaration.type &&
      sameJson(old.properties, properties) &&
      sameJson(old.metadata, declaration.metadata);
    if (unchanged) return true;
    if (old.type !== declaration.type || provider.requiresReplacement(old.properties, properties)) {
      touched.set(logicalId, 'replace');
      return this.createResource(run, next, logicalId, 'replace');
    }
    touched.set(logicalId, 'modify');
    return this.modifyResource(run, provider, record, properties, declaration.metadata, old);
  }

  /** In-place update of `record` to `properties` (also used by rollback to restore the previous ones). */
  private async modifyResource(
    run: Run,
    provider: ResourceProvider,
    record: StackResource,
    properties: Record<string, unknown>,
    metadata: Record<string, unknown> | undefined,
    current: StackResource,
  ): Promise<boolean> {
    record.status = 'UPDATE_IN_PROGRESS';
    run.events.resourceEvent(record, 'UPDATE_IN_PROGRESS', undefined, properties);
    const outcome = await this.runProvider(run, provider, 'update', {
      logicalId: record.logicalId,
      properties,
      previousProperties: current.properties,
      physicalId: current.physicalId,
      attributes: current.attributes,
      metadata,
    });
    record.updatedAt = new Date(this.deps.env.clock.now());
    if (outcome.cancelled)
      return this.failResource(run, record, 'UPDATE_FAILED', 'Resource update cancelled');
    if (outcome.event.status === 'FAILED')
      return this.failResource(run, record, 'UPDATE_FAILED', handlerMessage(outcome));
    record.properties = properties;
    record.metadata = metadata;
    record.attributes = outcome.event.attributes ?? record.attributes;
    record.ref = provider.ref(record.physicalId ?? '', record.attributes);
    record.status = 'UPDATE_COMPLETE';
    run.events.resourceEvent(record, 'UPDATE_COMPLETE', undefined, properties);
    return true;
  }

  private failResource(
    run: Run,
    record: StackResource,
    status: 'CREATE_FAILED' | 'UPDATE_FAILED',
    reason: string,
  ): false {
    record.status = status;
    record.statusReason = reason;
    run.events.resourceEvent(record, status, reason);
    run.failed.push(record.logicalId);
    run.cancel.abort();
    return false;
  }

  /**
   * Deletes every resource of the stack that exists, dependents first. `rollback` honours
   * RetainExceptOnCreate as Delete (it exists for exactly that case). Returns the logical ids that failed.
   */
  private async deleteAll(run: Run, retain: Set<string>, purpose: 'rollback' | 'delete'): Promise<string[]> {
    const { stack } = run;
    const records = [...stack.resources.values()].filter(
      (r) => r.status !== 'DELETE_COMPLETE' && r.status !== 'DELETE_SKIPPED',
    );
    return this.deleteInReverseOrder(
      run,
      records,
      this.safeGraph(stack.definition),
      stack.definition,
      retain,
      purpose,
    );
  }

  private async deleteInReverseOrder(
    run: Run,
    records: StackResource[],
    graph: ReadonlyMap<string, ReadonlySet<string>>,
    definition: StackDefinition | undefined,
    retain: Set<string>,
    purpose: 'rollback' | 'delete' | 'cleanup' | 'rollback-cleanup',
  ): Promise<string[]> {
    const byId = new Map(records.map((r) => [r.logicalId, r]));
    const reverse = dependents(graph);
    const failures: string[] = [];
    await runInDependencyOrder(
      byId.keys(),
      (id) => reverse.get(id) ?? [],
      async (id) => {
        const ok = await this.deleteResource(run, byId.get(id) as StackResource, definition, retain, purpose);
        if (!ok) failures.push(id);
        // Keep deleting what does not depend on the failed resource; its own dependencies stay.
        return ok;
      },
    );
    return failures;
  }

  private async deleteResource(
    run: Run,
    record: StackResource,
    definition: StackDefinition | undefined,
    retain: Set<string>,
    purpose: 'rollback' | 'delete' | 'cleanup' | 'rollback-cleanup',
  ): Promise<boolean> {
    const declaration = definition?.template.resources.get(record.logicalId);
    const policy =
      purpose === 'cleanup' &&
      declaration?.updateReplacePolicy !== undefined &&
      record.status !== 'CREATE_FAILED'
        ? declaration.updateReplacePolicy
        : declaration?.deletionPolicy;
    const retained =
      retain.has(record.logicalId) ||
      policy === 'Retain' ||
      (policy === 'RetainExceptOnCreate' && purpose !== 'rollback');
    if (retained && record.physicalId) {
      record.status = 'DELETE_SKIPPED';
      run.events.resourceEvent(record, 'DELETE_SKIPPED');
      return true;
    }
    if (!record.physicalId) {
      // Nothing was ever provisioned for it.
      record.status = 'DELETE_COMPLETE';
      run.events.resourceEvent(record, 'DELETE_COMPLETE');
      return true;
    }
    record.status = 'DELETE_IN_PROGRESS';
    run.events.resourceEvent(record, 'DELETE_IN_PROGRESS');
    const outcome = await this.runProvider(run, this.deps.registry.get(record.type), 'delete', {
      logicalId: record.logicalId,
      properties: record.properties,
      physicalId: record.physicalId,
      attributes: record.attributes,
      metadata: record.metadata,
      uncancellable: true,
    });
    record.updatedAt = new Date(this.deps.env.clock.now());
    if (outcome.event.status === 'FAILED') {
      record.status = 'DELETE_FAILED';
      record.statusReason = handlerMessage(outcome);
      run.events.resourceEvent(record, 'DELETE_FAILED', record.statusReason);
      return false;
    }
    record.status = 'DELETE_COMPLETE';
    record.statusReason = undefined;
    run.events.resourceEvent(record, 'DELETE_COMPLETE');
    return true;
  }

  /**
   * UPDATE_ROLLBACK_IN_PROGRESS: modified resources get their previous properties back; then, in
   * UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS, resources the update created (added ones and replacements)
   * are deleted. The previous template, parameters, resources and outputs are the stack's again.
   */
  private async rollbackUpdate(
    run: Run,
    next: StackDefinition,
    nextGraph: Map<string, Set<string>>,
    previous: {
      definition: StackDefinition;
      resources: Map<string, StackResource>;
      outputs: StackOutput[];
      imports: Set<string>;
    },
    touched: Map<string, 'add' | 'modify' | 'replace'>,
  ): Promise<void> {
    const { stack } = run;
    const created = [...touched]
      .filter(([, kind]) => kind !== 'modify')
      .map(([id]) => stack.resources.get(id) as StackResource);
    const modified = [...touched].filter(([, kind]) => kind === 'modify').map(([id]) => id);
    // The update's own failure cancelled the run; rollback needs a fresh one.
    run.cancel = new AbortController();
    run.failed = [];
    const previousGraph = this.safeGraph(previous.definition);
    const revertFailures: string[] = [];
    await runInDependencyOrder(
      modified,
      (id) => previousGraph.get(id) ?? [],
      async (id) => {
        const record = stack.resources.get(id) as StackResource;
        const before = previous.resources.get(id) as StackResource;
        const provider = this.deps.registry.get(before.type);
        const ok = await this.modifyResource(
          run,
          provider,
          record,
          before.properties,
          before.metadata,
          record,
        );
        if (!ok) revertFailures.push(id);
        return true;
      },
    );
    this.checkStopping();
    if (revertFailures.length > 0) {
      this.finish(
        run,
        'UPDATE_ROLLBACK_FAILED',
        `The following resource(s) failed to update: [${revertFailures.sort().join(', ')}]. `,
      );
      return;
    }
    this.setStatus(run, 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS');
    await this.deleteInReverseOrder(run, created, nextGraph, next, new Set(), 'rollback-cleanup');
    this.checkStopping();
    const restored = new Map<string, StackResource>();
    for (const [id, before] of previous.resources) {
      const live = stack.resources.get(id);
      restored.set(id, live && touched.get(id) === 'modify' ? live : before);
    }
    stack.resources = restored;
    stack.definition = previous.definition;
    stack.outputs = previous.outputs;
    stack.imports = previous.imports;
    this.finish(run, 'UPDATE_ROLLBACK_COMPLETE');
  }

  // ---- evaluation ----

  private evaluateProperties(
    run: Run,
    definition: StackDefinition,
    declaration: ResourceDeclaration,
  ): Record<string, unknown> {
    const context = this.context(run.stack, definition, run.stack.resources, run.imports);
    const value = resolveValue(declaration.properties, context);
    return (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  }

  /** Outputs after all resources; export uniqueness and in-use exports are checked here, as AWS does. */
  private evaluateOutputs(
    run: Run,
    definition: StackDefinition,
    resources: ReadonlyMap<string, StackResource>,
    previousOutputs: StackOutput[] = [],
  ): { outputs: StackOutput[] } | { error: string } {
    const { stack } = run;
    const context = this.context(stack, definition, resources, run.imports);
    const outputs: StackOutput[] = [];
    try {
      for (const declaration of definition.template.outputs.values()) {
        if (declaration.condition !== undefined && !definition.conditions.get(declaration.condition))
          continue;
        const output: StackOutput = {
          key: declaration.logicalId,
          value: outputText(resolveValue(declaration.value, context)),
          description: declaration.description,
        };
        if (declaration.exportName !== undefined)
          output.exportName = outputText(resolveValue(declaration.exportName, context));
        outputs.push(output);
      }
    } catch (error) {
      return { error: (error as Error).message };
    }
    for (const output of outputs) {
      if (output.exportName === undefined) continue;
      const owner = this.deps.exports.find(output.exportName);
      // Confirmed wording: "Export with name X is already exported by stack Y" (public deploy logs).
      if (owner && owner.stack !== stack)
        return {
          error: `Export with name ${output.exportName} is already exported by stack ${owner.stack.stackName}`,
        };
    }
    for (const old of previousOutputs) {
      if (old.exportName === undefined) continue;
      const now = outputs.find((o) => o.exportName === old.exportName);
      if (now && now.value === old.value) continue;
      const importer = this.deps.exports.importers(old.exportName, stack)[0];
      if (importer) {
        // As quoted in public post-mortems: "Cannot update export X as it is in use by Y" / "Cannot delete export …".
        const verb = now ? 'update' : 'delete';
        return { error: `Cannot ${verb} export ${old.exportName} as it is in use by ${importer.stackName}` };
      }
    }
    return { outputs };
  }

  // ---- the provider progress loop ----

  private async runProvider(
    run: Run,
    provider: ResourceProvider,
    action: ProviderAction,
    input: {
      logicalId: string;
      properties: Record<string, unknown>;
      previousProperties?: Record<string, unknown>;
      physicalId?: string;
      attributes?: Record<string, unknown>;
      metadata?: Record<string, unknown>;
      /** Deletes run to the end even after another resource failed. */
      uncancellable?: boolean;
      onFirstResult?: (event: ProgressEvent) => void;
    },
  ): Promise<ProviderOutcome> {
    const requestToken = randomUUID();
    const { clock } = this.deps.env;
    const delaySeconds = this.deps.delayFor(provider.type);
    const signal = input.uncancellable
      ? this.deps.stopping
      : AbortSignal.any([this.deps.stopping, run.cancel.signal]);
    const cancelled = (): boolean => {
      this.checkStopping();
      return signal.aborted;
    };
    // Yield once so that a zero-delay stack still passes through observable IN_PROGRESS states.
    await new Promise((resolve) => setImmediate(resolve));
    if (cancelled()) return { event: { status: 'IN_PROGRESS' }, requestToken, cancelled: true };

    const injected = injectedFailure(input.metadata, action);
    const request: ResourceRequest = {
      logicalId: input.logicalId,
      stackName: run.stack.stackName,
      stackId: run.stack.stackId,
      properties: input.properties,
      previousProperties: input.previousProperties,
      physicalId: input.physicalId,
      attributes: input.attributes,
      requestToken,
    };
    const context = { env: this.deps.env, state: this.deps.providerState, delaySeconds };
    const call = async (): Promise<ProgressEvent> => {
      if (injected !== undefined) {
        return { status: 'FAILED', message: injected, errorCode: 'GeneralServiceException' };
      }
      try {
        return await provider[action](request, context);
      } catch (error) {
        return { status: 'FAILED', message: (error as Error).message, errorCode: 'InternalFailure' };
      }
    };
    if (injected !== undefined && delaySeconds > 0) {
      // An injected failure takes as long as the real action would have, so in-progress states stay observable.
      input.onFirstResult?.({ status: 'IN_PROGRESS' });
      try {
        await clock.sleep(delaySeconds, signal);
      } catch {
        if (cancelled()) return { event: { status: 'IN_PROGRESS' }, requestToken, cancelled: true };
      }
      return { event: await call(), requestToken, cancelled: false };
    }
    let event = await call();
    input.onFirstResult?.(event);
    while (event.status === 'IN_PROGRESS') {
      try {
        await clock.sleep(event.callbackDelaySeconds ?? 1, signal);
      } catch {
        if (cancelled()) return { event, requestToken, cancelled: true };
      }
      if (cancelled()) return { event, requestToken, cancelled: true };
      request.callbackContext = event.callbackContext;
      if (event.physicalId) request.physicalId = event.physicalId;
      const previousPhysicalId = event.physicalId;
      event = await call();
      if (!event.physicalId && previousPhysicalId) event = { ...event, physicalId: previousPhysicalId };
    }
    return { event, requestToken, cancelled: false };
  }
}
