import type { DiagnosticsErrorCode } from './types';

/** A lifecycle event's failure as the agent reports it to the service (ScriptError in hook_executor.rb). */
export class AgentError extends Error {
  constructor(
    readonly errorCode: Exclude<DiagnosticsErrorCode, 'Success'>,
    message: string,
    readonly scriptName = '',
    readonly logTail = '',
  ) {
    super(message);
    this.name = 'AgentError';
  }
}

/** Anything unexpected is UnknownError, with the underlying message, as the agent reports a Ruby exception. */
export function toAgentError(error: unknown): AgentError {
  if (error instanceof AgentError) return error;
  return new AgentError('UnknownError', error instanceof Error ? error.message : String(error));
}
