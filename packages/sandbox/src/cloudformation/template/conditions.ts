import { evaluateConditionExpression } from './intrinsics';
import type { EvaluationScope } from './intrinsics';
import { messages } from './messages';
import { TemplateError } from './types';
import type { EvaluationContext, Template } from './types';

/** Conditions see parameters and pseudo parameters (and mappings, from the template), never resources. */
export type ConditionContext = Pick<
  EvaluationContext,
  'accountId' | 'region' | 'stackName' | 'stackId' | 'parameters'
> &
  Partial<Pick<EvaluationContext, 'availabilityZones'>>;

/** Evaluates every declared condition; the map keeps the template's order. */
export function evaluateConditions(template: Template, context: ConditionContext): Map<string, boolean> {
  // Values come from resolveParameters; a gap here is a caller's bug, named as such rather than as a
  // reference to a resource.
  const withoutValues = [...template.parameters.keys()].filter((name) => !context.parameters.has(name));
  if (withoutValues.length > 0) throw new TemplateError(messages.parametersMustHaveValues(withoutValues));

  const scope: EvaluationScope = {
    accountId: context.accountId,
    region: context.region,
    stackName: context.stackName,
    stackId: context.stackId,
    parameters: context.parameters,
    mappings: template.mappings,
  };
  if (context.availabilityZones) {
    const availabilityZones = context.availabilityZones.bind(context);
    scope.availabilityZones = (region) => availabilityZones(region);
  }

  const results = new Map<string, boolean>();
  const inProgress: string[] = [];
  const evaluate = (name: string): boolean => {
    const known = results.get(name);
    if (known !== undefined) return known;
    if (!Object.hasOwn(template.conditions, name)) {
      throw new TemplateError(messages.unresolvedConditionsInConditions([name]));
    }
    const cycleStart = inProgress.indexOf(name);
    if (cycleStart >= 0) throw new TemplateError(messages.circularConditions(inProgress.slice(cycleStart)));
    inProgress.push(name);
    const value = evaluateConditionExpression(template.conditions[name], scope, evaluate, name);
    inProgress.pop();
    results.set(name, value);
    return value;
  };

  return new Map(Object.keys(template.conditions).map((name) => [name, evaluate(name)]));
}
