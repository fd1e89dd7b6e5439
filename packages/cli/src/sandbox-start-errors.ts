import { InvalidInputError, KeylessError } from '@keyless/core';

/** The sandbox could not listen where it was asked to (the port is taken). */
export class SandboxStartError extends KeylessError {
  readonly code = 'SandboxStart';
}

/**
 * The sandbox shares no code with core, so its start-up failures are plain Errors. The ones a person causes — a
 * config file that is missing, malformed or wrong, a port already in use — become errors that say what to change;
 * anything else is returned as it is (a bug, reported as such).
 */
export function explainSandboxStartFailure(error: unknown, configPath: string | undefined): unknown {
  if (!(error instanceof Error)) return error;
  const errno = error as NodeJS.ErrnoException & { port?: number };
  if (errno.code === 'EADDRINUSE') {
    return new SandboxStartError(
      `Port ${errno.port ?? '?'} on 127.0.0.1 is already in use, so the sandbox cannot listen there.`,
      'Stop what is using it, or pass --port 0 to take a free port (the URL is printed).',
    );
  }
  const match = /^(Invalid|Cannot parse|Cannot read) sandbox config\b/.exec(error.message);
  if (!match) return error;
  const file = configPath ?? 'the sandbox config';
  const fix = `Fix ${file} (examples/sample-app/sandbox.yml shows every key); nothing was started.`;
  const cause = (error.cause as NodeJS.ErrnoException | undefined)?.code;
  if (match[1] === 'Cannot read' && cause === 'ENOENT') {
    return new InvalidInputError(
      `The sandbox config file ${file} does not exist.`,
      'Check the --config path (relative paths start from the working directory).',
    );
  }
  if (match[1] === 'Invalid') {
    // One problem reads best on one line; several stay a list under the file's name.
    const [headline = '', ...problems] = error.message.split('\n').map((line) => line.trim());
    const text =
      problems.length === 1 ? `${headline.replace(/:$/, '')}: ${problems[0]}` : error.message.trimEnd();
    return new InvalidInputError(text, fix);
  }
  // The YAML parser appends a code frame after "line L, column C:"; the position is enough.
  const firstLine = (error.message.split('\n')[0] ?? error.message).replace(/:\s*$/, '.');
  return new InvalidInputError(firstLine, fix);
}
