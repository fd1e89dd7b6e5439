// The hostile suite's evidence locker. Every hostile test file registers what it produced (logs, run records,
// summaries, the sandbox's own log, printed lines) and every secret it created or saw minted (sandbox session
// keys and JWTs, access tokens, root keys). Each file scans its own outputs at its end; with
// KEYLESS_HOSTILE_ARTIFACTS set (scripts/test-hostile.mjs sets it), the collector also persists both lists
// there, so secrets.hostile.test.ts can scan every text of the whole suite for every secret of the whole suite,
// and the runner can add up the counts each file reported.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { encodedForms } from '@keyless/core';

export const artifactsDirectory = process.env.KEYLESS_HOSTILE_ARTIFACTS || undefined;

/** What each file reports to the runner (summed into the suite's closing counts). */
export interface HostileCounts {
  faultsInjected?: number;
  runsCompleted?: number;
  badInputsTried?: number;
  [name: string]: number | undefined;
}

export interface CollectedText {
  label: string;
  text: string;
}

export interface SecretHit {
  /** The first characters of the secret only: the report must not leak what it found. */
  secret: string;
  form: 'raw' | 'encoded';
  label: string;
}

export class HostileCollector {
  private readonly texts: CollectedText[] = [];
  private readonly secretValues = new Set<string>();
  private readonly counts: HostileCounts = {};

  /** `name`: a file-system-safe name, unique in the suite (the test file's base name). */
  constructor(readonly name: string) {}

  addSecret(value: string | undefined): void {
    const trimmed = value?.trim();
    if (trimmed) this.secretValues.add(trimmed);
  }

  addSecrets(values: Iterable<string>): void {
    for (const value of values) this.addSecret(value);
  }

  addText(label: string, text: string): void {
    this.texts.push({ label, text });
  }

  /** Read now: the temp folders these live in are removed when the test ends. */
  async addFile(path: string, label = path): Promise<void> {
    this.addText(label, await readFile(path, 'utf8'));
  }

  /**
   * Every file under an agent work folder that a run leaves for people to read: run.log, run.json and the
   * step summaries and uploaded copies under <n>/files (not the tasks' temp folders, which hold no output).
   */
  async addRunnerOutputs(workDirectory: string): Promise<number> {
    let added = 0;
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const path = join(dir, entry.name);
        const rel = relative(workDirectory, path);
        if (entry.isDirectory()) {
          if (!entry.name.startsWith('_')) await walk(path);
        } else if (/(^|\/)(run\.log|run\.json)$|(^|\/)files\//.test(rel)) {
          await this.addFile(path, `runner:${rel}`);
          added++;
        }
      }
    };
    await walk(workDirectory);
    return added;
  }

  count(name: keyof HostileCounts, value: number): void {
    this.counts[name] = (this.counts[name] ?? 0) + value;
  }

  get secretCount(): number {
    return this.secretValues.size;
  }

  get textCount(): number {
    return this.texts.length;
  }

  /** This file's own scan: every registered secret, in every encoded form, in every registered text. */
  leaks(): SecretHit[] {
    return scanForSecrets(this.texts, this.secretValues);
  }

  /** Writes the texts, the secrets and the counts to KEYLESS_HOSTILE_ARTIFACTS (nothing without it). */
  async persist(): Promise<void> {
    if (!artifactsDirectory) return;
    await mkdir(artifactsDirectory, { recursive: true });
    const base = join(artifactsDirectory, this.name);
    await writeFile(`${base}.texts.json`, JSON.stringify(this.texts));
    await writeFile(`${base}.secrets.json`, JSON.stringify([...this.secretValues]));
    await writeFile(
      `${base}.report.json`,
      JSON.stringify({
        name: this.name,
        counts: this.counts,
        texts: this.texts.length,
        secrets: this.secretValues.size,
      }),
    );
  }
}

/** Scans texts for secrets in the forms they leak in: raw, base64, base64url, URL-encoded, JSON-escaped. */
export function scanForSecrets(texts: CollectedText[], secrets: Iterable<string>): SecretHit[] {
  const hits: SecretHit[] = [];
  for (const secret of secrets) {
    const forms = encodedForms(secret);
    for (const { label, text } of texts) {
      const found = forms.find((form) => text.includes(form));
      if (found !== undefined) {
        hits.push({ secret: `${secret.slice(0, 4)}…`, form: found === secret ? 'raw' : 'encoded', label });
      }
    }
  }
  return hits;
}

/** The whole suite's persisted texts and secrets (read by the final scan). */
export async function readPersisted(
  directory: string,
): Promise<{ texts: CollectedText[]; secrets: Set<string>; files: string[] }> {
  const texts: CollectedText[] = [];
  const secrets = new Set<string>();
  const files: string[] = [];
  for (const name of (await readdir(directory)).sort()) {
    if (name.endsWith('.texts.json')) {
      files.push(name);
      const owner = name.slice(0, -'.texts.json'.length);
      for (const entry of JSON.parse(await readFile(join(directory, name), 'utf8')) as CollectedText[])
        texts.push({ label: `${owner}: ${entry.label}`, text: entry.text });
    } else if (name.endsWith('.secrets.json')) {
      for (const value of JSON.parse(await readFile(join(directory, name), 'utf8')) as string[])
        secrets.add(value);
    }
  }
  return { texts, secrets, files };
}
