/**
 * Whether the pipeline's CI `trigger:` would start a run for a push to the given branch. The local runner
 * always runs what it is asked to; this only reports what Azure DevOps would have done.
 */
import type { Trigger } from '../model';

export interface TriggerVerdict {
  wouldRun: boolean;
  reason: string;
}

export function ciTriggerVerdict(trigger: Trigger, sourceBranch: string): TriggerVerdict {
  if (!trigger.enabled) return { wouldRun: false, reason: 'the CI trigger is `none`' };
  const included = trigger.branches.include.find((pattern) => branchMatches(pattern, sourceBranch));
  if (included === undefined) {
    return {
      wouldRun: false,
      reason: `${sourceBranch} matches no branch in trigger.branches.include (${trigger.branches.include.join(', ')})`,
    };
  }
  const excluded = trigger.branches.exclude.find((pattern) => branchMatches(pattern, sourceBranch));
  if (excluded !== undefined) {
    return {
      wouldRun: false,
      reason: `${sourceBranch} is excluded by trigger.branches.exclude "${excluded}"`,
    };
  }
  return { wouldRun: true, reason: `${sourceBranch} matches trigger branch "${included}"` };
}

/** Branch filters: `main` means refs/heads/main; `*` matches anything (slashes too); case-insensitive. */
export function branchMatches(pattern: string, sourceBranch: string): boolean {
  const qualified = pattern === '*' || pattern.startsWith('refs/') ? pattern : `refs/heads/${pattern}`;
  const source = qualified
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 'i').test(sourceBranch);
}
