import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InvalidInputError } from '@keyless/core';

/** A command-line mistake: exit code 2, with a pointer to the command's help. */
export class UsageError extends InvalidInputError {
  constructor(message: string, command: string) {
    super(message, `run \`keyless ${command} --help\` for the options and examples`);
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * node:util parseArgs, with its TypeErrors turned into one-line usage errors for a person.
 * `allowPositionals` lets `exec` take the command after `--`.
 */
export function parseCommandLine<T extends Options>(
  command: string,
  argv: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    const unknown = /Unknown option '([^']+)'/.exec(text);
    if (unknown) throw new UsageError(`Unknown option ${unknown[1]} for \`keyless ${command}\`.`, command);
    const positional = /Unexpected argument '([^']+)'/.exec(text);
    if (positional) throw new UsageError(`Unexpected argument "${positional[1]}".`, command);
    throw new UsageError(text.split('\n')[0] ?? text, command);
  }
}

/** Parses a whole number option, naming the option when it is not one. */
export function integerOption(
  command: string,
  name: string,
  value: string | undefined,
  range?: { min: number; max: number },
): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value))
    throw new UsageError(`--${name} must be a whole number, got "${value}".`, command);
  const number = Number(value);
  if (range && (number < range.min || number > range.max)) {
    throw new UsageError(`--${name} must be between ${range.min} and ${range.max}, got ${number}.`, command);
  }
  return number;
}
