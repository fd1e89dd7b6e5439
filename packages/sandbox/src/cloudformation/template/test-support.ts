import assert from 'node:assert/strict';
import { TemplateError } from './types';
import type { EvaluationContext, Template } from './types';

export interface FakeResource {
  ref: string;
  attributes?: Record<string, unknown>;
}

/** An EvaluationContext over fixed data, the way the service builds one from a stack in progress. */
export function fakeContext(
  options: {
    template?: Template;
    parameters?: Record<string, string | string[]>;
    conditions?: Record<string, boolean>;
    resources?: Record<string, FakeResource>;
    exports?: Record<string, string>;
    region?: string;
  } = {},
): EvaluationContext {
  const region = options.region ?? 'us-east-1';
  const context: EvaluationContext = {
    accountId: '123456789012',
    region,
    stackName: 'aws-sample-app',
    stackId: `arn:aws:cloudformation:${region}:123456789012:stack/aws-sample-app/6e3c9a40-0000-11ef-8000-0a1b2c3d4e5f`,
    parameters: new Map(Object.entries(options.parameters ?? {})),
    conditions: new Map(Object.entries(options.conditions ?? {})),
    resource(logicalId) {
      const resource = options.resources?.[logicalId];
      return resource && { ref: resource.ref, attributes: resource.attributes ?? {} };
    },
    importValue(name) {
      return options.exports?.[name];
    },
    availabilityZones(forRegion) {
      return ['a', 'b', 'c'].map((suffix) => `${forRegion}${suffix}`);
    },
  };
  if (options.template) context.mappings = options.template.mappings;
  return context;
}

/** Asserts that `run` throws a TemplateError with exactly `message`. */
export function assertTemplateError(run: () => unknown, message: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof TemplateError, `expected a TemplateError, got ${String(error)}`);
    assert.equal(error.message, message);
    return true;
  });
}
