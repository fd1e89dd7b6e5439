import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InvalidInputError } from '@keyless/core/errors';

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
    return parseArgs({ args: negativeValuesJoined(argv, options), options, strict: true, allowPositionals });
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    const unknown = /Unknown option '([^']+)'/.exec(text);
    if (unknown) throw new UsageError(`Unknown option ${unknown[1]} for \`keyless ${command}\`.`, command);
    const positional = /Unexpected argument '([^']+)'/.exec(text);
    if (positional) throw new UsageError(`Unexpected argument "${positional[1]}".`, command);
    throw new UsageError(text.split('\n')[0] ?? text, command);
  }
}

/**
 * `--timeout -5` as `--timeout=-5`: parseArgs reads a value starting with "-" as a missing value ("argument is
 * ambiguous"); joined, the option's own check can say what is wrong with -5.
 */
function negativeValuesJoined(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    if (arg === '--') {
      out.push(...argv.slice(index));
      break;
    }
    const next = argv[index + 1];
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : undefined;
    if (name && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      index++;
      continue;
    }
    out.push(arg);
  }
  return out;
}

/** Parses a whole number option, naming the option when it is not one. */
export function integerOption(
  command: string,
  name: string,
  value: string | undefined,
  range?: { min: number; max: number },
): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value))
    throw new UsageError(`--${name} must be a whole number, got "${value}".`, command);
  const number = Number(value);
  if (range && (number < range.min || number > range.max)) {
    throw new UsageError(`--${name} must be between ${range.min} and ${range.max}, got ${number}.`, command);
  }
  if (number < 0) throw new UsageError(`--${name} must be 0 or more, got ${number}.`, command);
  return number;
}

/**
 * Rewrites `--list a b` as `--list a --list b` for the given list options, so they read like the AWS CLI's
 * (`--parameter-overrides A=1 B=2`). Everything after `--` is left alone.
 */
export function expandListFlags(argv: string[], listFlags: ReadonlySet<string>): string[] {
  const out: string[] = [];
  let list: string | undefined;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    if (arg === '--') {
      out.push(...argv.slice(index));
      break;
    }
    if (arg.startsWith('-')) {
      const name = arg.replace(/^--?/, '').split('=')[0]!;
      list = listFlags.has(name) && !arg.includes('=') ? name : undefined;
      out.push(arg);
      if (list !== undefined && index + 1 < argv.length) out.push(argv[++index]!);
      continue;
    }
    out.push(...(list ? [`--${list}`, arg] : [arg]));
  }
  return out;
}

/** Values of a repeatable option, each also split on commas. */
export function splitList(values: string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter(Boolean);
}
