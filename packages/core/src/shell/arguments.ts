import { InvalidInputError } from '../errors';

/**
 * Splits one argument string into arguments the way a POSIX shell would, without evaluating anything:
 * whitespace separates; '…' is literal; "…" keeps spaces (\" and \\ escape inside it); outside quotes a
 * backslash escapes whitespace, a quote or a backslash. Any other backslash stays as it is, so Windows paths
 * (`C:\work\out`) survive. No variables, globs or command substitution: `$HOME` stays `$HOME`.
 *
 * `what` names the input in the error for an unterminated quote (e.g. `the input "awsArguments"`).
 */
export function splitArguments(text: string, what = 'the arguments'): string[] {
  const args: string[] = [];
  let current = '';
  // Distinguishes "no argument yet" from an empty quoted argument ("").
  let started = false;
  let index = 0;
  const escapable = (char: string | undefined) => char !== undefined && /[\s'"\\]/.test(char);
  while (index < text.length) {
    const char = text[index]!;
    if (/\s/.test(char)) {
      if (started) args.push(current);
      current = '';
      started = false;
      index++;
      continue;
    }
    started = true;
    if (char === "'") {
      const end = text.indexOf("'", index + 1);
      if (end === -1) throw unterminated("'", text, index, what);
      current += text.slice(index + 1, end);
      index = end + 1;
    } else if (char === '"') {
      index++;
      let closed = false;
      while (index < text.length) {
        const inner = text[index]!;
        if (inner === '"') {
          closed = true;
          index++;
          break;
        }
        if (inner === '\\' && (text[index + 1] === '"' || text[index + 1] === '\\')) {
          current += text[index + 1];
          index += 2;
          continue;
        }
        current += inner;
        index++;
      }
      if (!closed) throw unterminated('"', text, text.lastIndexOf('"'), what);
    } else if (char === '\\' && escapable(text[index + 1])) {
      // A backslash-newline joins lines, as in a shell.
      if (text[index + 1] !== '\n') current += text[index + 1];
      index += 2;
    } else {
      current += char;
      index++;
    }
  }
  if (started) args.push(current);
  return args;
}

function unterminated(quote: string, text: string, at: number, what: string): InvalidInputError {
  const excerpt = text.slice(Math.max(0, at - 10), at + 20);
  return new InvalidInputError(
    `${what} has an unterminated ${quote} quote (near \`${excerpt}\`).`,
    `Close the quote, or escape a literal ${quote} with a backslash${quote === "'" ? ' inside "…"' : ''}.`,
  );
}
