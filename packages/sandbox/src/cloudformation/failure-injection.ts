import type { ProviderAction } from './providers/types';

/**
 * Sandbox-only failure injection for rollback tests. A resource's Metadata may carry
 *
 *   Metadata:
 *     Keyless::Sandbox:
 *       FailOn: [create]            # any of create | update | delete
 *       Reason: "Simulated outage"  # optional
 *
 * and the sandbox then fails that provider action with that reason. Real AWS ignores Metadata, so the template
 * stays valid and behaves normally there; without the key nothing changes here either. Changing Metadata is a
 * Modify, so adding FailOn: [update] to an existing resource makes exactly that update fail.
 */
export const FAILURE_METADATA_KEY = 'Keyless::Sandbox';
export const DEFAULT_INJECTED_REASON = 'Failure injected by the sandbox (Metadata Keyless::Sandbox FailOn)';

export function injectedFailure(
  metadata: Record<string, unknown> | undefined,
  action: ProviderAction,
): string | undefined {
  const settings = metadata?.[FAILURE_METADATA_KEY];
  if (typeof settings !== 'object' || settings === null) return undefined;
  const { FailOn: failOn, Reason: reason } = settings as { FailOn?: unknown; Reason?: unknown };
  const actions = Array.isArray(failOn) ? failOn : [failOn];
  if (!actions.some((a) => typeof a === 'string' && a.toLowerCase() === action)) return undefined;
  return typeof reason === 'string' && reason !== '' ? reason : DEFAULT_INJECTED_REASON;
}
