import type { Stack } from '@aws-sdk/client-cloudformation';

/** A stack's outputs for front ends to publish: values by OutputKey, and by ExportName for exported ones. */
export interface StackOutputs {
  outputs: Record<string, string>;
  exports: Record<string, string>;
}

export function stackOutputs(stack: Stack | undefined): StackOutputs {
  const outputs: Record<string, string> = {};
  const exports: Record<string, string> = {};
  for (const output of stack?.Outputs ?? []) {
    if (!output.OutputKey) continue;
    const value = output.OutputValue ?? '';
    outputs[output.OutputKey] = value;
    if (output.ExportName) exports[output.ExportName] = value;
  }
  return { outputs, exports };
}
