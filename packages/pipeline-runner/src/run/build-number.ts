/**
 * Build (run) numbers from the root `name:` format, as the Azure Pipelines server computes them: date and
 * time tokens, `$(Rev:r)` revision counters and variables. Only the revision needs state; it is kept by the
 * caller, keyed by the number with its revision left out, so it restarts at 1 whenever anything else changes
 * (the next day, a new version prefix).
 */
import { KeylessError } from '@keyless/core';
import { updateRunnerState } from './state';

export const defaultBuildNumberFormat = '$(Date:yyyyMMdd)$(Rev:.r)';

export class BuildNumberError extends KeylessError {
  readonly code = 'BuildNumber';
}

export interface BuildNumberContext {
  /** When the run was queued. The server formats in the organisation's time zone; the default zone is UTC. */
  date: Date;
  /** Predefined variables (Build.BuildId, Build.DefinitionName, …) and pipeline variables, case-insensitive. */
  variable(name: string): string | undefined;
}

/** Tokens that only mean something in a build number (they are not variables). */
const tokenAliases: Record<string, string> = {
  builddefinitionname: 'Build.DefinitionName',
  buildid: 'Build.BuildId',
  sourcebranchname: 'Build.SourceBranchName',
  teamproject: 'System.TeamProject',
};

const revisionPattern = /\$\(Rev:([^)r]*)(r+)\)/gi;
const macroPattern = /\$\(([^()]+)\)/g;

/**
 * The part of a build number that decides its revision: the formatted number with each `$(Rev:…)` left
 * as a placeholder. Two runs with the same key share one counter.
 */
export function revisionKey(format: string, context: BuildNumberContext): string {
  return expandTokens(format.replace(revisionPattern, '\u0000REV\u0000'), context);
}

/** Whether the format has a revision counter at all (only then does a counter need to be advanced). */
export function hasRevision(format: string): boolean {
  return new RegExp(revisionPattern.source, 'i').test(format);
}

/** The build number for a format, with `revision` (1-based) substituted into every `$(Rev:…)`. */
export function formatBuildNumber(format: string, context: BuildNumberContext, revision: number): string {
  const withRevision = format.replace(revisionPattern, (_match, prefix: string, digits: string) => {
    return `${prefix}${String(revision).padStart(digits.length, '0')}`;
  });
  const number = expandTokens(withRevision, context).trim();
  checkBuildNumber(number, format);
  return number;
}

/** The server's rules for a build number; `build.updatebuildnumber` values are checked the same way. */
export function checkBuildNumber(number: string, source: string): void {
  const invalid = /["/:<>\\|?@*]/.exec(number);
  const problem =
    number === ''
      ? 'is empty'
      : invalid
        ? `contains "${invalid[0]}", which a build number may not contain ("/:<>\\|?@* and double quotes are not allowed)`
        : number.length > 255
          ? 'is longer than 255 characters'
          : number.endsWith('.')
            ? 'ends with "."'
            : undefined;
  if (problem) {
    throw new BuildNumberError(
      `The build number "${number}" (from "${source}") ${problem}.`,
      'change the pipeline\'s root `name:` (or the build.updatebuildnumber value) to use letters, digits, ".", "_" and "-".',
    );
  }
}

function expandTokens(text: string, context: BuildNumberContext): string {
  return text.replace(macroPattern, (match, inner: string) => {
    const token = inner.trim();
    const colon = token.indexOf(':');
    const name = (colon < 0 ? token : token.slice(0, colon)).toLowerCase();
    const argument = colon < 0 ? undefined : token.slice(colon + 1);
    const date = context.date;
    switch (name) {
      case 'date':
        return formatDate(date, argument ?? 'yyyyMMdd');
      case 'year':
        return formatDate(date, argument ?? 'yyyy');
      case 'month':
        return String(date.getUTCMonth() + 1);
      case 'dayofmonth':
        return String(date.getUTCDate());
      case 'dayofyear':
        return String(dayOfYear(date));
      case 'hours':
        return String(date.getUTCHours());
      case 'minutes':
        return String(date.getUTCMinutes());
      case 'seconds':
        return String(date.getUTCSeconds());
    }
    if (argument !== undefined) return match;
    return context.variable(tokenAliases[name] ?? token) ?? match;
  });
}

/** The .NET custom date format subset people use in build numbers; other letters are kept as written. */
export function formatDate(date: Date, format: string): string {
  const parts: Record<string, string> = {
    yyyy: String(date.getUTCFullYear()).padStart(4, '0'),
    yy: String(date.getUTCFullYear() % 100).padStart(2, '0'),
    MM: String(date.getUTCMonth() + 1).padStart(2, '0'),
    M: String(date.getUTCMonth() + 1),
    dd: String(date.getUTCDate()).padStart(2, '0'),
    d: String(date.getUTCDate()),
    HH: String(date.getUTCHours()).padStart(2, '0'),
    H: String(date.getUTCHours()),
    mm: String(date.getUTCMinutes()).padStart(2, '0'),
    m: String(date.getUTCMinutes()),
    ss: String(date.getUTCSeconds()).padStart(2, '0'),
    s: String(date.getUTCSeconds()),
  };
  return format.replace(/yyyy|yy|MM|M|dd|d|HH|H|mm|m|ss|s/g, (token) => parts[token] ?? token);
}

function dayOfYear(date: Date): number {
  const start = Date.UTC(date.getUTCFullYear(), 0, 1);
  return Math.floor((date.getTime() - start) / 86_400_000) + 1;
}

/**
 * Hands out the next build id and the build number under the state lock. The revision counter is kept per
 * pipeline file and per number-without-revision, so it restarts at 1 when the date (or a prefix) changes.
 */
export async function allocateBuild(
  workDirectory: string,
  pipelineFile: string,
  format: string,
  date: Date,
  variables: (buildId: number) => BuildNumberContext['variable'],
): Promise<{ buildId: number; buildNumber: string }> {
  return updateRunnerState(workDirectory, (state) => {
    const buildId = state.lastBuildId + 1;
    const context: BuildNumberContext = { date, variable: variables(buildId) };
    let revision = 1;
    let key: string | undefined;
    if (hasRevision(format)) {
      key = `${pipelineFile}\n${revisionKey(format, context)}`;
      revision = (state.revisions[key] ?? 0) + 1;
    }
    const buildNumber = formatBuildNumber(format, context, revision);
    state.lastBuildId = buildId;
    if (key !== undefined) state.revisions[key] = revision;
    return { buildId, buildNumber };
  });
}
