import { InvalidInputError } from '@keyless/core';
import { tl } from './task-lib';

/**
 * Reads task inputs with the agent's semantics (empty means absent; only `true`, any case, is true) and turns
 * every malformed value into an error that names the input, what was given and what is accepted.
 */
export class TaskInputs {
  constructor(private readonly taskName: string) {}

  /** The raw value, or undefined when empty. */
  optional(name: string): string | undefined {
    const value = tl.getInput(name, false);
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  required(name: string, why?: string): string {
    const value = this.optional(name);
    if (value === undefined) {
      throw new InvalidInputError(
        `${this.taskName}: the input "${name}" is required${why ? ` ${why}` : ''} but is empty.`,
        `Set "${name}" in the step's inputs.`,
      );
    }
    return value;
  }

  /** The agent's boolean rule (`true` in any case is true), but a value that is neither true nor false is refused. */
  boolean(name: string, fallback: boolean): boolean {
    const value = this.optional(name);
    if (value === undefined) return fallback;
    if (/^true$/i.test(value)) return true;
    if (/^false$/i.test(value)) return false;
    throw new InvalidInputError(
      `${this.taskName}: the input "${name}" must be true or false, not "${value}".`,
      `Set "${name}: true" or "${name}: false".`,
    );
  }

  integer(name: string, options: { min: number; max: number; fallback?: number }): number | undefined {
    const value = this.optional(name);
    if (value === undefined) return options.fallback;
    const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < options.min || parsed > options.max) {
      throw new InvalidInputError(
        `${this.taskName}: the input "${name}" must be a whole number from ${options.min} to ${options.max}, not "${value}".`,
        `Set "${name}" to a number in that range.`,
      );
    }
    return parsed;
  }

  /** One of a closed set, matched case-insensitively; the canonical spelling is returned. */
  choice<T extends string>(name: string, allowed: readonly T[], fallback: T): T;
  choice<T extends string>(name: string, allowed: readonly T[], fallback?: undefined): T | undefined;
  choice<T extends string>(name: string, allowed: readonly T[], fallback?: T): T | undefined {
    const value = this.optional(name);
    if (value === undefined) return fallback;
    const match = allowed.find((option) => option.toLowerCase() === value.toLowerCase());
    if (match === undefined) {
      throw new InvalidInputError(
        `${this.taskName}: the input "${name}" is "${value}", which is not one of: ${allowed.join(', ')}.`,
        `Set "${name}" to one of those values.`,
      );
    }
    return match;
  }

  /** A multi-line or comma-separated list: one item per line (or comma), blanks dropped. */
  list(name: string, separator: RegExp = /\r?\n/): string[] {
    const value = this.optional(name);
    if (value === undefined) return [];
    return value
      .split(separator)
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }

  /**
   * A filePath input: the agent turns an empty filePath into the sources directory, so only a path the user
   * actually supplied is returned. Relative paths resolve against the working directory, as the agent's do.
   */
  path(name: string): string | undefined {
    if (!tl.filePathSupplied(name)) return undefined;
    return tl.getPathInput(name, false, false) || undefined;
  }

  requiredPath(name: string, why?: string): string {
    const value = this.path(name);
    if (value === undefined) {
      throw new InvalidInputError(
        `${this.taskName}: the input "${name}" is required${why ? ` ${why}` : ''} but is empty.`,
        `Set "${name}" to a path relative to the repository root.`,
      );
    }
    return value;
  }
}
