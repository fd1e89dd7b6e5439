/**
 * Expression contexts for the three places the runner evaluates `condition:` and `$[ … ]`: a step (status
 * = Agent.JobStatus), a job (its dependencies in the stage, and the stages its stage depends on) and a
 * stage (the stages it depends on). The default condition everywhere is `succeeded()`.
 */
import { evaluateCondition, type ExpressionContext } from '../expressions';
import type { StageOutcome, TaskResult } from '../model';
import { dependencyStatus } from './results';

export const defaultCondition = 'succeeded()';

export interface Dependency {
  result: TaskResult;
  outputs: Record<string, string>;
}

export interface ScopeOptions {
  variable(name: string): string | undefined;
  canceled(): boolean;
  /** For a step: Agent.JobStatus. Omitted for jobs and stages: their dependencies' merged result. */
  status?: () => TaskResult;
  /** Jobs (same stage) or stages this one depends on — only these are visible as `dependencies.X`. */
  dependencies?: ReadonlyMap<string, Dependency>;
  /** Earlier stages this job's stage depends on, for `stageDependencies.S.J`. */
  stageDependencies?: ReadonlyMap<string, StageOutcome>;
}

export function expressionContext(scope: ScopeOptions): ExpressionContext {
  const dependencies = scope.dependencies ?? new Map<string, Dependency>();
  return {
    variable: (name) => scope.variable(name),
    canceled: () => scope.canceled(),
    status: () =>
      scope.status
        ? scope.status()
        : dependencyStatus(
            [...dependencies.values()].map((dependency) => dependency.result),
            scope.canceled(),
          ),
    dependency: (name) => lookup(dependencies, name),
    stageDependency: (stage, job) => {
      const outcome = scope.stageDependencies && lookup(scope.stageDependencies, stage);
      return outcome ? lookup(new Map(Object.entries(outcome.jobs)), job) : undefined;
    },
  };
}

/** Evaluates a condition (default `succeeded()`); throws the evaluator's ExpressionError on bad syntax. */
export function conditionHolds(condition: string | undefined, context: ExpressionContext): boolean {
  return evaluateCondition(condition?.trim() || defaultCondition, context);
}

/** What a finished stage shows later stages as `dependencies.<stage>`: outputs keyed `job.step.var`. */
export function stageAsDependency(outcome: StageOutcome): Dependency {
  const outputs: Record<string, string> = {};
  for (const [job, jobOutcome] of Object.entries(outcome.jobs)) {
    for (const [key, value] of Object.entries(jobOutcome.outputs)) outputs[`${job}.${key}`] = value;
  }
  return { result: outcome.result, outputs };
}

/** The expression of a whole-value `$[ … ]` variable, or undefined for an ordinary value. */
export function runtimeExpression(value: string): string | undefined {
  const match = /^\s*\$\[([\s\S]*)\]\s*$/.exec(value);
  return match ? match[1]!.trim() : undefined;
}

// Names are case-insensitive in expressions, as everywhere in Azure Pipelines.
function lookup<T>(map: ReadonlyMap<string, T>, name: string): T | undefined {
  const exact = map.get(name);
  if (exact !== undefined) return exact;
  const lower = name.toLowerCase();
  for (const [key, value] of map) if (key.toLowerCase() === lower) return value;
  return undefined;
}
