import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { TokenSourceError } from '../errors';
import { toOidcToken } from '../jwt';
import type { OidcToken, TokenSource } from '../types';
import type { TokenSourceContext } from './context';

/** STS accepts at most 20,000 characters of WebIdentityToken. */
export const maxTokenFileChars = 20_000;

/** A JWT read from a file (e.g. a projected Kubernetes token, or one kept fresh by another process). */
export class TokenFileSource implements TokenSource {
  readonly name = 'token-file' as const;
  readonly path: string;

  constructor(
    path: string,
    private readonly context: TokenSourceContext,
  ) {
    this.path = resolve(context.cwd ?? process.cwd(), path);
  }

  describe(): string {
    return `token file ${this.path}`;
  }

  async getToken(): Promise<OidcToken> {
    const text = await readTokenFile(this.path);
    return toOidcToken(text, 'token-file', this.context.reporter, `token file ${this.path}`);
  }
}

/**
 * Reads a token file without following symlinks: lstat gives a clear message, O_NOFOLLOW closes the race
 * between the check and the open. Refuses anything but a regular file, and anything over STS's size limit.
 */
export async function readTokenFile(path: string): Promise<string> {
  const fail = (message: string, fix: string, cause?: unknown) =>
    new TokenSourceError('token-file', message, fix, cause === undefined ? undefined : { cause });
  try {
    const info = await lstat(path);
    if (info.isSymbolicLink()) {
      throw fail(
        `The token file ${path} is a symbolic link; it is refused.`,
        'Point at the real file, not a link to it.',
      );
    }
    if (info.isDirectory())
      throw fail(`The token file ${path} is a directory.`, 'Give the path of the token file itself.');
  } catch (error) {
    if (error instanceof TokenSourceError) throw error;
    throw describeFsError(error, path, fail);
  }
  // O_NOFOLLOW does not exist on Windows; there the lstat check above is what we have.
  const flags = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);
  let text: string;
  try {
    const handle = await open(path, flags);
    try {
      const info = await handle.stat();
      if (!info.isFile())
        throw fail(
          `The token file ${path} is not a regular file.`,
          'Give the path of a regular file holding the JWT.',
        );
      const buffer = Buffer.alloc(maxTokenFileChars * 4 + 1);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      text = buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof TokenSourceError) throw error;
    throw describeFsError(error, path, fail);
  }
  const token = text.trim();
  if (!token)
    throw fail(
      `The token file ${path} is empty.`,
      'Make sure whatever writes the token has run before this step.',
    );
  if (token.length > maxTokenFileChars) {
    throw fail(
      `The token file ${path} holds more than ${maxTokenFileChars} characters; it is not a single JWT.`,
      'The file must contain only the JWT.',
    );
  }
  return token;
}

function describeFsError(
  error: unknown,
  path: string,
  fail: (message: string, fix: string, cause?: unknown) => TokenSourceError,
): TokenSourceError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT')
    return fail(
      `The token file ${path} does not exist.`,
      'Check the path (relative paths are resolved against the working directory).',
      error,
    );
  if (code === 'ELOOP')
    return fail(
      `The token file ${path} is a symbolic link; it is refused.`,
      'Point at the real file, not a link to it.',
      error,
    );
  if (code === 'EACCES' || code === 'EPERM')
    return fail(
      `The token file ${path} is not readable by this process.`,
      'Fix the file permissions.',
      error,
    );
  if (code === 'EISDIR')
    return fail(`The token file ${path} is a directory.`, 'Give the path of the token file itself.', error);
  return fail(
    `The token file ${path} could not be read (${code ?? 'unknown error'}).`,
    'Check the path and permissions.',
    error,
  );
}
