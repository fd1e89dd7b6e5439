import { InvalidInputError } from '@keyless/core';
import { tl } from './task-lib';

/**
 * Variable names the agent accepts from `task.setvariable` that users can reference as `$(name)`; `-` is
 * included because the toolkit's `<stackName>Outputs` carries the stack name as it is.
 */
const variableName = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Publishes one output variable. Outputs are `isOutput` so later jobs and stages can read them
 * (`dependencies.<job>.outputs['<step>.<name>']`), unlike the AWS Toolkit's (#446). `jobVariable` also sets
 * it the toolkit's way, as a plain job variable (`$(name)` in later steps), because the agent stores an
 * output only under `<step>.<name>`.
 */
export function publishOutput(
  name: string,
  value: string,
  options: { secret?: boolean; jobVariable?: boolean } = {},
): void {
  if (!variableName.test(name)) {
    throw new InvalidInputError(
      `"${name}" cannot be an output variable name: use letters, digits, "_", "-" and ".", starting with a letter.`,
      'Change the output variable name (or its prefix).',
    );
  }
  if (options.jobVariable) tl.setVariable(name, value, options.secret ?? false, false);
  tl.setVariable(name, value, options.secret ?? false, true);
}

/** The outputs CodeDeployDeployApplication declares in its task.json (outputVariables). */
export const codeDeployTaskOutputs = ['deploymentId', 'revisionLocation', 'bundleETag'] as const;

/**
 * The warning for an `outputVariable` that is also one of the task's declared outputs (task.json's
 * outputVariables): the agent keeps a variable set under such a name only as `<step>.<name>`, so the plain
 * `$(name)` a toolkit pipeline expects would stay empty.
 */
export function outputVariableCollision(
  taskName: string,
  outputVariable: string | undefined,
  declared: readonly string[],
): string | undefined {
  const hit = outputVariable && declared.find((name) => name.toLowerCase() === outputVariable.toLowerCase());
  if (!hit) return undefined;
  return (
    `${taskName}: outputVariable "${outputVariable}" is also this task's own output ${hit}, which Azure Pipelines keeps only as $(<step name>.${hit}): a plain $(${outputVariable}) stays empty. ` +
    `Choose another outputVariable name, or name the step and use $(<step name>.${hit}).`
  );
}

/**
 * Publishes a plain job variable for the following steps of this job (not an output): what credentials need,
 * since an output would only exist as `<step>.<name>`.
 */
export function publishVariable(name: string, value: string, options: { secret?: boolean } = {}): void {
  if (!variableName.test(name)) {
    throw new InvalidInputError(
      `"${name}" cannot be a variable name: use letters, digits, "_", "-" and ".", starting with a letter.`,
      'Change the variable name.',
    );
  }
  tl.setVariable(name, value, options.secret ?? false, false);
}

export type CaptureMode = 'ignore' | 'asVariables' | 'asJSON';

/** One stack output as DescribeStacks lists it. */
export interface StackOutputEntry {
  OutputKey: string;
  OutputValue: string;
  Description?: string;
  ExportName?: string;
}

/**
 * The stack's outputs as pipeline outputs, in the AWS Toolkit's two modes: one variable per output key (with an
 * optional prefix), or one variable `<stackName>Outputs` holding the outputs as DescribeStacks lists them (a
 * JSON array of {OutputKey, OutputValue, Description, ExportName}, as the toolkit published it).
 */
export function publishStackOutputs(
  stackName: string,
  outputs: Record<string, string>,
  options: {
    mode: CaptureMode;
    secret: boolean;
    prefix?: string;
    jobVariable?: boolean;
    outputList?: StackOutputEntry[];
  },
): string[] {
  const published: string[] = [];
  if (options.mode === 'asVariables') {
    for (const [key, value] of Object.entries(outputs)) {
      const name = `${options.prefix ?? ''}${key}`;
      publishOutput(name, value, { secret: options.secret, jobVariable: options.jobVariable ?? false });
      published.push(name);
    }
  } else if (options.mode === 'asJSON') {
    const name = `${options.prefix ?? ''}${stackName}Outputs`;
    const list =
      options.outputList ??
      Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue }));
    // Secrets must be single-line (task-lib refuses multi-line secret values), so the JSON is compact.
    publishOutput(name, JSON.stringify(list), {
      secret: options.secret,
      jobVariable: options.jobVariable ?? false,
    });
    published.push(name);
  }
  return published;
}
