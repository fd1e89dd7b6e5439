/** The end-of-run summary the runner prints: one row per step, issue counts, outputs and where the files are. */
import type { RunRecord } from './record';

/** `1 error`, `2 errors`. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** `label` followed by the display name when it differs from the name: `Build.A "Compile"`. */
export function labelled(label: string, name: string, display: string): string {
  return display === name ? label : `${label} "${display}"`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

/** Lines of the summary; values are already masked in the record. */
export function renderSummary(record: RunRecord): string[] {
  const rows: string[][] = [['Stage', 'Job', 'Step', 'Result', 'Duration']];
  for (const stage of record.stages) {
    if (stage.jobs.length === 0)
      rows.push([stage.name, '-', '-', stage.result, formatDuration(stage.durationMs)]);
    for (const job of stage.jobs) {
      if (job.steps.length === 0)
        rows.push([stage.name, job.name, '-', job.result, formatDuration(job.durationMs)]);
      for (const step of job.steps) {
        rows.push([stage.name, job.name, step.displayName, step.result, formatDuration(step.durationMs)]);
      }
    }
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const table = rows.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd(),
  );
  const { counts } = record;
  const lines = [
    '##[section]Summary',
    ...table,
    '',
    `Result: ${record.result} — build ${record.buildNumber}, ${plural(counts.steps, 'step')}, ` +
      `${counts.failed} failed, ${counts.skipped} skipped, ${plural(counts.issues.errors, 'error')}, ` +
      `${plural(counts.issues.warnings, 'warning')}, ${formatDuration(record.durationMs)}`,
  ];
  const outputs = record.stages.flatMap((stage) =>
    stage.jobs.flatMap((job) =>
      Object.entries(job.outputs).map(([key, value]) => `  ${stage.name}.${job.name}: ${key} = ${value}`),
    ),
  );
  if (outputs.length > 0) lines.push('Output variables:', ...outputs);
  if (record.buildTags.length > 0) lines.push(`Build tags: ${record.buildTags.join(', ')}`);
  lines.push(`Run record: ${record.recordFile}`, `Log: ${record.logFile}`);
  return lines;
}
