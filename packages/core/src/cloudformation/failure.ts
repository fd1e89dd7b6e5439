import type { Stack, StackEvent } from '@aws-sdk/client-cloudformation';
import { StackOperationFailedError, howToWatch } from './errors';
import { rootCauses } from './events';
import type { StackOperation } from './stack';

/** What to do next, by the status the failed operation left the stack in. */
function fixFor(stackName: string, status: string, region: string): string {
  switch (status) {
    case 'UPDATE_ROLLBACK_COMPLETE':
      return 'The stack was rolled back to its previous state; fix the cause above and re-run.';
    case 'ROLLBACK_COMPLETE':
      return 'Nothing was kept; fix the cause above and re-run (Keyless deletes the ROLLBACK_COMPLETE stack and creates it again).';
    case 'UPDATE_ROLLBACK_FAILED':
      return `The rollback failed too: run aws cloudformation continue-update-rollback --stack-name ${stackName} --region ${region} (or delete the stack), then re-run.`;
    case 'ROLLBACK_FAILED':
    case 'DELETE_FAILED':
      return `Some resources could not be deleted: delete the stack (keyless cloudformation delete --stack-name ${stackName}, with --retain-resources if needed), then re-run.`;
    case 'CREATE_FAILED':
    case 'UPDATE_FAILED':
      return 'Rollback was disabled, so the resources stay as they failed; fix the cause above and re-run.';
    case 'DELETE_COMPLETE':
      return 'The stack was deleted because on-failure is DELETE; fix the cause above and re-run.';
    default:
      return `Fix the cause above and re-run; ${howToWatch(stackName, region)}.`;
  }
}

/** The typed failure for a stack operation, naming the first failed resources and their reasons. */
export function failureFor(
  stackName: string,
  operation: StackOperation,
  stack: Stack,
  events: StackEvent[],
  region: string,
): StackOperationFailedError {
  const status = stack.StackStatus ?? 'UNKNOWN';
  const causes = rootCauses(events, stackName);
  const cause = causes.length
    ? causes
        .map((failed) => `${failed.logicalId} (${failed.type}) ${failed.status}: ${failed.reason}`)
        .join('; ')
    : (stack.StackStatusReason ?? 'CloudFormation gave no reason');
  return new StackOperationFailedError(
    stackName,
    status,
    causes,
    `Stack ${stackName} ${operation} failed (${status}): ${cause}`,
    fixFor(stackName, status, region),
  );
}
