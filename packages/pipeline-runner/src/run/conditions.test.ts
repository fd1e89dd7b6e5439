import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateExpression } from '../expressions';
import type { StageOutcome, TaskResult } from '../model';
import {
  conditionHolds,
  expressionContext,
  runtimeExpression,
  stageAsDependency,
  type Dependency,
} from './conditions';

const none = () => undefined;

function stepScope(status: TaskResult, canceled = false) {
  return expressionContext({ variable: none, canceled: () => canceled, status: () => status });
}

test('a step without condition runs while the job succeeds (also with issues), not after a failure', () => {
  assert.equal(conditionHolds(undefined, stepScope('Succeeded')), true);
  assert.equal(conditionHolds('', stepScope('SucceededWithIssues')), true);
  assert.equal(conditionHolds(undefined, stepScope('Failed')), false);
  assert.equal(conditionHolds('failed()', stepScope('Failed')), true);
  assert.equal(conditionHolds('succeededOrFailed()', stepScope('Failed')), true);
  assert.equal(conditionHolds('always()', stepScope('Failed')), true);
});

test('after cancellation only always() and canceled() hold', () => {
  assert.equal(conditionHolds(undefined, stepScope('Canceled', true)), false);
  assert.equal(conditionHolds('succeededOrFailed()', stepScope('Canceled', true)), false);
  assert.equal(conditionHolds('always()', stepScope('Canceled', true)), true);
  assert.equal(conditionHolds('canceled()', stepScope('Canceled', true)), true);
});

function jobScope(dependencies: Record<string, Dependency>, stages?: Record<string, StageOutcome>) {
  return expressionContext({
    variable: (name) => (name.toLowerCase() === 'build.sourcebranch' ? 'refs/heads/main' : undefined),
    canceled: () => false,
    dependencies: new Map(Object.entries(dependencies)),
    stageDependencies: stages && new Map(Object.entries(stages)),
  });
}

test('a job condition defaults to succeeded() over its dependencies; a skipped one makes it false', () => {
  const ok: Dependency = { result: 'Succeeded', outputs: {} };
  const partly: Dependency = { result: 'SucceededWithIssues', outputs: {} };
  assert.equal(conditionHolds(undefined, jobScope({})), true);
  assert.equal(conditionHolds(undefined, jobScope({ A: ok, B: partly })), true);
  assert.equal(conditionHolds(undefined, jobScope({ A: ok, B: { result: 'Skipped', outputs: {} } })), false);
  assert.equal(conditionHolds(undefined, jobScope({ A: { result: 'Failed', outputs: {} } })), false);
  assert.equal(conditionHolds('failed()', jobScope({ A: { result: 'Failed', outputs: {} } })), true);
  assert.equal(conditionHolds("eq(variables['Build.SourceBranch'], 'refs/heads/main')", jobScope({})), true);
  assert.equal(conditionHolds("succeeded('a')", jobScope({ A: ok })), true, 'names are case-insensitive');
});

test('outputs flow through dependencies and stageDependencies', () => {
  const stage: StageOutcome = {
    result: 'Succeeded',
    jobs: { Build: { result: 'Succeeded', outputs: { 'setver.version': '1.2.3' } } },
  };
  const scope = jobScope({ A: { result: 'Succeeded', outputs: { 's.v': 'from-A' } } }, { BuildStage: stage });
  assert.equal(evaluateExpression("dependencies.A.outputs['s.v']", scope), 'from-A');
  assert.equal(
    evaluateExpression("stageDependencies.BuildStage.Build.outputs['setver.version']", scope),
    '1.2.3',
  );
  assert.equal(evaluateExpression('$[ dependencies.A.result ]', scope), 'Succeeded');
  assert.throws(() => evaluateExpression("dependencies.Nope.outputs['s.v']", scope), /not a dependency/);
});

test('a stage sees a finished stage with outputs keyed job.step.var', () => {
  const outcome: StageOutcome = {
    result: 'SucceededWithIssues',
    jobs: {
      Build: { result: 'SucceededWithIssues', outputs: { 's.v': 'x' } },
      Test: { result: 'Succeeded', outputs: {} },
    },
  };
  const dependency = stageAsDependency(outcome);
  assert.deepEqual(dependency, { result: 'SucceededWithIssues', outputs: { 'Build.s.v': 'x' } });
  const scope = expressionContext({
    variable: none,
    canceled: () => false,
    dependencies: new Map([['S1', dependency]]),
  });
  assert.equal(evaluateExpression("dependencies.S1.outputs['Build.s.v']", scope), 'x');
  assert.equal(conditionHolds(undefined, scope), true);
});

test('only whole values are runtime expressions', () => {
  assert.equal(runtimeExpression("$[ dependencies.A.outputs['s.v'] ]"), "dependencies.A.outputs['s.v']");
  assert.equal(runtimeExpression('  $[variables.x]  '), 'variables.x');
  assert.equal(runtimeExpression('prefix $[ variables.x ]'), undefined);
  assert.equal(runtimeExpression('$(x)'), undefined);
});
