/**
 * Holds every secret (keys, session tokens, JWTs, access tokens) seen in this process and masks them in text.
 * A value is masked in the forms it tends to leak in: raw, base64, base64url, URL-encoded and JSON-escaped.
 */
export class SecretRegistry {
  private readonly forms = new Set<string>();
  private readonly listeners: Array<(value: string) => void> = [];
  private pattern: RegExp | undefined;

  /** Values shorter than this are not treated as secrets (they would mask ordinary words). */
  static readonly minimumLength = 6;

  add(value: string | undefined): void {
    if (!value) return;
    const trimmed = value.trim();
    if (trimmed.length < SecretRegistry.minimumLength || this.forms.has(trimmed)) return;
    for (const form of encodedForms(trimmed)) this.forms.add(form);
    this.pattern = undefined;
    for (const listener of this.listeners) listener(trimmed);
  }

  /** Called with each newly registered raw secret (Azure Pipelines emits `task.setsecret`). */
  onAdd(listener: (value: string) => void): void {
    this.listeners.push(listener);
  }

  has(value: string): boolean {
    return this.forms.has(value);
  }

  mask(text: string): string {
    if (this.forms.size === 0 || !text) return text;
    this.pattern ??= new RegExp(
      [...this.forms]
        .sort((a, b) => b.length - a.length)
        .map(escapeRegExp)
        .join('|'),
      'g',
    );
    return text.replace(this.pattern, '***');
  }
}

export function encodedForms(value: string): string[] {
  const forms = new Set<string>([value]);
  forms.add(Buffer.from(value, 'utf8').toString('base64'));
  forms.add(Buffer.from(value, 'utf8').toString('base64url'));
  forms.add(encodeURIComponent(value));
  forms.add(JSON.stringify(value).slice(1, -1));
  return [...forms].filter((form) => form.length >= SecretRegistry.minimumLength);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
