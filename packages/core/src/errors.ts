/**
 * Every failure a user can act on is a KeylessError subclass: `message` says what went wrong (naming the
 * input or resource), `fix` says what to change. Front ends print `message` then `fix`, never a stack.
 */
export abstract class KeylessError extends Error {
  /** Stable machine-readable kind, e.g. `RegionMissing`. */
  abstract readonly code: string;
  /** Process exit code front ends should use: 2 for usage errors, 1 otherwise. */
  readonly exitCode: number = 1;

  constructor(
    message: string,
    /** What the user should change. One sentence. */
    readonly fix?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  /** The one- or two-line text shown to a person. */
  toUserText(): string {
    return this.fix ? `${this.message}\n  Fix: ${this.fix}` : this.message;
  }
}

/** An input is missing, malformed or contradicts another: the user's invocation is wrong. */
export class InvalidInputError extends KeylessError {
  readonly code = 'InvalidInput';
  override readonly exitCode = 2;
}

export function isKeylessError(value: unknown): value is KeylessError {
  return value instanceof KeylessError;
}
