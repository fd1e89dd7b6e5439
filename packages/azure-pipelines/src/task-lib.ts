// The one import of azure-pipelines-task-lib: every task bundle must contain exactly one copy, because the
// library keeps process-wide state (its vault of inputs and secrets, known variables) in module scope.
import * as tl from 'azure-pipelines-task-lib/task';

export { tl };
