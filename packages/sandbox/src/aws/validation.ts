import { AwsError } from './errors';

/**
 * Collects parameter-constraint failures and reports them as AWS's Coral services do:
 * "2 validation errors detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: …; Value …".
 * Sensitive members (tokens) are reported without their value, as AWS does.
 */
export class ParameterValidation {
  private readonly failures: string[] = [];

  private fail(
    field: string,
    value: string | number | undefined,
    constraint: string,
    sensitive = false,
  ): void {
    const shown = value === undefined ? 'null ' : sensitive ? '' : `'${value}' `;
    this.failures.push(`Value ${shown}at '${field}' failed to satisfy constraint: ${constraint}`);
  }

  /** Required string with a length range and optional pattern; returns whether it passed. */
  string(
    field: string,
    value: string | undefined,
    rule: {
      min: number;
      max: number;
      pattern?: RegExp;
      patternText?: string;
      sensitive?: boolean;
      required?: boolean;
    },
  ): boolean {
    if (value === undefined) {
      if (rule.required ?? true) this.fail(field, undefined, 'Member must not be null');
      return !(rule.required ?? true);
    }
    if (value.length < rule.min)
      this.fail(field, value, `Member must have length greater than or equal to ${rule.min}`, rule.sensitive);
    else if (value.length > rule.max)
      this.fail(field, value, `Member must have length less than or equal to ${rule.max}`, rule.sensitive);
    else if (rule.pattern && !rule.pattern.test(value)) {
      this.fail(
        field,
        value,
        `Member must satisfy regular expression pattern: ${rule.patternText ?? rule.pattern.source}`,
        rule.sensitive,
      );
    } else return true;
    return false;
  }

  integer(field: string, value: number | undefined, min: number, max: number): void {
    if (value === undefined) return;
    if (value < min) this.fail(field, value, `Member must have value greater than or equal to ${min}`);
    else if (value > max) this.fail(field, value, `Member must have value less than or equal to ${max}`);
  }

  throwIfFailed(): void {
    const n = this.failures.length;
    if (n === 0) return;
    throw new AwsError(
      'ValidationError',
      `${n} validation error${n === 1 ? '' : 's'} detected: ${this.failures.join('; ')}`,
    );
  }
}
