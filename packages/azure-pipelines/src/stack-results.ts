import {
  InvalidInputError,
  isKeylessError,
  StackOperationFailedError,
  type ChangeSetSummary,
} from '@keyless/core';
import type { TaskInputs } from './inputs';
import { publishOutput, publishStackOutputs, type CaptureMode, type StackOutputEntry } from './outputs';
import { table } from './summary';

const variableName = /^[A-Za-z_][A-Za-z0-9_.]*$/;
/** The outputs the stack tasks declare in task.json (outputVariables). */
export const stackTaskOutputs = ['stackId', 'stackOutputsJson'] as const;
const captureModes = ['ignore', 'asVariables', 'asJSON'] as const;

/** The AWS Toolkit's output inputs (outputVariable, captureStackOutputs, captureAsSecuredVars) plus our prefix. */
export interface StackOutputSettings {
  /** Receives the stack id, as a job variable (the toolkit's meaning) and as an output. */
  outputVariable?: string;
  capture: CaptureMode;
  /** Captured outputs and stackOutputsJson are secret variables, and their values are not shown. */
  secure: boolean;
  prefix?: string;
}

/** Reads and checks the output inputs before anything is deployed, so a bad name fails first. */
export function readStackOutputSettings(inputs: TaskInputs, taskName: string): StackOutputSettings {
  const outputVariable = inputs.optional('outputVariable');
  const prefix = inputs.optional('outputVariablePrefix');
  for (const [input, value] of [
    ['outputVariable', outputVariable],
    ['outputVariablePrefix', prefix],
  ] as const) {
    if (value !== undefined && !variableName.test(value)) {
      throw new InvalidInputError(
        `${taskName}: the input "${input}" is "${value}", which is not a variable name.`,
        'Use letters, digits, "_" and ".", starting with a letter or "_".',
      );
    }
  }
  return {
    ...(outputVariable ? { outputVariable } : {}),
    capture: inputs.choice('captureStackOutputs', captureModes, 'ignore'),
    secure: inputs.boolean('captureAsSecuredVars', true),
    ...(prefix ? { prefix } : {}),
  };
}

/**
 * Publishes a stack's results: `stackId` and `stackOutputsJson` always (as outputs, so other jobs and stages
 * can read them), the stack id under `outputVariable`, and the outputs in the captureStackOutputs mode, also as
 * job variables as the toolkit set them. Returns the names of the captured variables.
 */
export function publishStackResult(
  stack: {
    stackName: string;
    stackId: string;
    outputs: Record<string, string>;
    outputList?: StackOutputEntry[];
  },
  settings: StackOutputSettings,
): string[] {
  publishOutput('stackId', stack.stackId);
  publishOutput('stackOutputsJson', JSON.stringify(stack.outputs), { secret: settings.secure });
  if (settings.outputVariable) publishOutput(settings.outputVariable, stack.stackId, { jobVariable: true });
  return publishStackOutputs(stack.stackName, stack.outputs, {
    mode: settings.capture,
    secret: settings.secure,
    jobVariable: true,
    ...(settings.prefix ? { prefix: settings.prefix } : {}),
    ...(stack.outputList ? { outputList: stack.outputList } : {}),
  });
}

/** The log line listing the outputs; values are hidden when they are published as secrets. */
export function describeOutputs(outputs: Record<string, string>, secure: boolean): string {
  const entries = Object.entries(outputs);
  if (entries.length === 0) return 'The stack has no outputs.';
  return `Stack outputs${secure ? ' (values hidden: captureAsSecuredVars is true)' : ''}:\n${entries
    .map(([key, value]) => `  ${key} = ${secure ? '***' : value}`)
    .join('\n')}`;
}

export interface StackSummary {
  stackName: string;
  region: string;
  /** e.g. "Created", "Up to date", "Failed". */
  outcome: string;
  status?: string;
  stackId?: string;
  changeSet?: ChangeSetSummary;
  outputs?: Record<string, string>;
  secure?: boolean;
  captured?: string[];
  error?: unknown;
}

/** The run summary section of a stack task: outcome, change set, outputs and, on failure, why. */
export function stackSummaryMarkdown(summary: StackSummary): string {
  const status =
    summary.status ?? (summary.error instanceof StackOperationFailedError ? summary.error.status : undefined);
  const parts = [
    `**${summary.outcome}**: stack \`${summary.stackName}\` in ${summary.region}${status ? ` (${status})` : ''}`,
  ];
  if (summary.stackId) parts.push(`Stack id: \`${summary.stackId}\``);
  if (summary.error !== undefined) parts.push(...failureMarkdown(summary.error));
  if (summary.changeSet) parts.push(summary.changeSet.markdown);
  const outputs = Object.entries(summary.outputs ?? {});
  if (outputs.length > 0) {
    parts.push(
      `**Outputs**${summary.secure ? ' (values hidden: captureAsSecuredVars)' : ''}`,
      table(
        ['Key', 'Value'],
        outputs.map(([key, value]) => [key, summary.secure ? '***' : value]),
      ),
    );
  }
  if (summary.captured?.length)
    parts.push(`Published as variables: ${summary.captured.map((name) => `\`${name}\``).join(', ')}`);
  return parts.join('\n\n');
}

function failureMarkdown(error: unknown): string[] {
  const message = error instanceof Error ? error.message : String(error);
  const parts = [`> ${message.replace(/\r?\n/g, ' ')}`];
  if (isKeylessError(error) && error.fix) parts.push(`**Fix:** ${error.fix}`);
  if (error instanceof StackOperationFailedError && error.rootCauses.length > 0) {
    parts.push(
      '**Failed resources**',
      table(
        ['Logical ID', 'Type', 'Status', 'Reason'],
        error.rootCauses.map((cause) => [cause.logicalId, cause.type, cause.status, cause.reason]),
      ),
    );
  }
  return parts;
}
