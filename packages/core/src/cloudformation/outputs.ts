import type { Stack } from '@aws-sdk/client-cloudformation';

/** One output as DescribeStacks gives it (the shape the AWS Toolkit published as `<stack>Outputs`). */
export interface StackOutputEntry {
  OutputKey: string;
  OutputValue: string;
  Description?: string;
  ExportName?: string;
}

/**
 * A stack's outputs for front ends to publish: values by OutputKey, by ExportName for exported ones, and the
 * list as DescribeStacks returns it.
 */
export interface StackOutputs {
  outputs: Record<string, string>;
  exports: Record<string, string>;
  outputList: StackOutputEntry[];
}

export function stackOutputs(stack: Stack | undefined): StackOutputs {
  const outputs: Record<string, string> = {};
  const exports: Record<string, string> = {};
  const outputList: StackOutputEntry[] = [];
  for (const output of stack?.Outputs ?? []) {
    if (!output.OutputKey) continue;
    const value = output.OutputValue ?? '';
    outputs[output.OutputKey] = value;
    if (output.ExportName) exports[output.ExportName] = value;
    outputList.push({
      OutputKey: output.OutputKey,
      OutputValue: value,
      ...(output.Description ? { Description: output.Description } : {}),
      ...(output.ExportName ? { ExportName: output.ExportName } : {}),
    });
  }
  return { outputs, exports, outputList };
}
