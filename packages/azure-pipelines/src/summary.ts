import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { tl } from './task-lib';

/**
 * Attaches a Markdown section to the run's summary page (`task.uploadsummary`). The file goes to the agent's
 * temp directory, which the agent empties between jobs; the agent copies it when it processes the command.
 */
export function uploadSummary(title: string, markdown: string, mask: (text: string) => string): void {
  const directory = tl.getVariable('Agent.TempDirectory') || tmpdir();
  const file = join(directory, `keyless-${randomUUID()}.md`);
  writeFileSync(file, mask(`### ${title}\n\n${markdown.trimEnd()}\n`), { mode: 0o600 });
  tl.uploadSummary(file);
}

/** Escapes text for a Markdown table cell. */
export function cell(text: string | number | undefined): string {
  return String(text ?? '')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, ' ');
}

export function table(headers: string[], rows: Array<Array<string | number | undefined>>): string {
  const lines = [`| ${headers.join(' | ')} |`, `|${headers.map(() => ' --- ').join('|')}|`];
  for (const row of rows) lines.push(`| ${row.map(cell).join(' | ')} |`);
  return lines.join('\n');
}
