import { InvalidInputError } from '@keyless/core';
import { tl } from './task-lib';

/** Variable names the agent accepts from `task.setvariable` (we publish only names users can reference). */
const variableName = /^[A-Za-z_][A-Za-z0-9_.]*$/;

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
      `"${name}" cannot be an output variable name: use letters, digits, "_" and ".", starting with a letter.`,
      'Change the output variable name (or its prefix).',
    );
  }
  if (options.jobVariable) tl.setVariable(name, value, options.secret ?? false, false);
  tl.setVariable(name, value, options.secret ?? false, true);
}

/**
 * Publishes a plain job variable for the following steps of this job (not an output): what credentials need,
 * since an output would only exist as `<step>.<name>`.
 */
export function publishVariable(name: string, value: string, options: { secret?: boolean } = {}): void {
  if (!variableName.test(name)) {
    throw new InvalidInputError(
      `"${name}" cannot be a variable name: use letters, digits, "_" and ".", starting with a letter.`,
      'Change the variable name.',
    );
  }
  tl.setVariable(name, value, options.secret ?? false, false);
}

export type CaptureMode = 'ignore' | 'asVariables' | 'asJSON';

/**
 * The stack's outputs as pipeline outputs: one variable per output key (with an optional prefix), or one
 * JSON variable `<stackName>Outputs` — the AWS Toolkit's two modes — and always printed (secret values masked).
 */
export function publishStackOutputs(
  stackName: string,
  outputs: Record<string, string>,
  options: { mode: CaptureMode; secret: boolean; prefix?: string; jobVariable?: boolean },
): string[] {
  const published: string[] = [];
  if (options.mode === 'asVariables') {
    for (const [key, value] of Object.entries(outputs)) {
      const name = `${options.prefix ?? ''}${key}`;
      publishOutput(name, value, { secret: options.secret, jobVariable: options.jobVariable ?? false });
      published.push(name);
    }
  } else if (options.mode === 'asJSON') {
    const name = `${options.prefix ?? ''}${jsonVariableStem(stackName)}Outputs`;
    // Secrets must be single-line (task-lib refuses multi-line secret values), so the JSON is compact.
    publishOutput(name, JSON.stringify(outputs), {
      secret: options.secret,
      jobVariable: options.jobVariable ?? false,
    });
    published.push(name);
  }
  return published;
}

/** Stack names may contain `-`, which variable names may not; the toolkit's `<stack>Outputs` name is kept otherwise. */
function jsonVariableStem(stackName: string): string {
  return stackName.replace(/[^A-Za-z0-9_]/g, '_');
}
