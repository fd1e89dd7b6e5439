import type { Change } from '@aws-sdk/client-cloudformation';

/** One resource change, flattened from DescribeChangeSet's `Changes[].ResourceChange`. */
export interface ResourceChangeLine {
  action: string;
  logicalId: string;
  type: string;
  physicalId?: string;
  /** `True`, `False` or `Conditional` for Modify; empty otherwise. */
  replacement?: string;
}

/** What a change set will do, for people: plain text for logs, a Markdown table for build summaries. */
export interface ChangeSetSummary {
  changes: ResourceChangeLine[];
  counts: { add: number; modify: number; remove: number; other: number };
  text: string;
  markdown: string;
}

export function summarizeChanges(
  changeSetName: string,
  stackName: string,
  changes: Change[],
): ChangeSetSummary {
  const lines: ResourceChangeLine[] = changes
    .map((change) => change.ResourceChange)
    .filter((change) => change !== undefined)
    .map((change) => ({
      action: change.Action ?? 'Unknown',
      logicalId: change.LogicalResourceId ?? '?',
      type: change.ResourceType ?? '?',
      ...(change.PhysicalResourceId ? { physicalId: change.PhysicalResourceId } : {}),
      ...(change.Action === 'Modify' && change.Replacement ? { replacement: change.Replacement } : {}),
    }));
  const counts = { add: 0, modify: 0, remove: 0, other: 0 };
  for (const line of lines) {
    if (line.action === 'Add') counts.add++;
    else if (line.action === 'Modify') counts.modify++;
    else if (line.action === 'Remove') counts.remove++;
    else counts.other++;
  }
  const headline =
    `Change set ${changeSetName} for stack ${stackName}: ` +
    `${counts.add} to add, ${counts.modify} to modify, ${counts.remove} to remove` +
    (counts.other ? `, ${counts.other} other` : '');
  return {
    changes: lines,
    counts,
    text: renderText(headline, lines),
    markdown: renderMarkdown(headline, lines),
  };
}

function replacementNote(line: ResourceChangeLine): string {
  if (line.replacement === 'True') return 'REPLACED';
  if (line.replacement === 'Conditional') return 'may be replaced';
  return '';
}

function renderText(headline: string, lines: ResourceChangeLine[]): string {
  if (lines.length === 0) return headline;
  const width = (pick: (line: ResourceChangeLine) => string) =>
    Math.max(...lines.map((line) => pick(line).length));
  const actionWidth = width((line) => line.action);
  const idWidth = width((line) => line.logicalId);
  const typeWidth = width((line) => line.type);
  const rows = lines.map((line) =>
    `  ${line.action.padEnd(actionWidth)}  ${line.logicalId.padEnd(idWidth)}  ${line.type.padEnd(typeWidth)}  ${replacementNote(line)}`.trimEnd(),
  );
  return [headline, ...rows].join('\n');
}

/** Pipes and newlines would break a table row. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function renderMarkdown(headline: string, lines: ResourceChangeLine[]): string {
  const out = [`**${cell(headline)}**`, ''];
  if (lines.length === 0) return out[0]!;
  out.push('| Action | Logical ID | Type | Replacement |', '| --- | --- | --- | --- |');
  for (const line of lines) {
    out.push(
      `| ${cell(line.action)} | ${cell(line.logicalId)} | ${cell(line.type)} | ${cell(line.replacement ?? '')} |`,
    );
  }
  return out.join('\n');
}
