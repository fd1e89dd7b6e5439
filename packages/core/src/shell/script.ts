import { randomUUID } from 'node:crypto';
import { rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InvalidInputError } from '../errors';
import { ExecutableNotFoundError } from './errors';
import { findExecutable } from './executables';

export const scriptInterpreters = ['bash', 'sh', 'pwsh'] as const;
export type ScriptInterpreter = (typeof scriptInterpreters)[number];

export type ScriptSource = { file: string } | { inline: string };

export interface ScriptOptions {
  interpreter: ScriptInterpreter;
  source: ScriptSource;
  /** Arguments after the script path. */
  args?: string[];
  /** The child's environment; its PATH decides which interpreter runs. */
  env: NodeJS.ProcessEnv;
  /** Base for a relative script path (default: the process's working directory). */
  cwd?: string;
  /** Where an inline script is written (default os.tmpdir()); the agent's temp directory in a pipeline. */
  tempDirectory?: string;
  /** How messages name the script file, e.g. `AWSShellScript: the input "filePath"`. */
  fileLabel?: string;
}

export interface PreparedScript {
  /** The interpreter's full path. */
  command: string;
  args: string[];
  scriptPath: string;
  /** Removes an inline script's temporary file (a no-op for a script file). */
  cleanup(): Promise<void>;
}

const installHint: Record<ScriptInterpreter, string> = {
  bash: 'Install bash on the agent (or choose scriptInterpreter sh).',
  sh: 'Install a POSIX sh on the agent (or choose scriptInterpreter bash).',
  pwsh: 'Install PowerShell 7 on the agent (https://aka.ms/install-powershell), or choose scriptInterpreter bash or sh.',
};

/**
 * The command line that runs a script file or an inline script with bash, sh or pwsh. An inline script is
 * written to a private temporary file (mode 0700) that `cleanup` removes. Fails before anything runs when the
 * interpreter is not installed or the script file does not exist.
 */
export async function prepareScript(options: ScriptOptions): Promise<PreparedScript> {
  const { interpreter } = options;
  const command = findExecutable(interpreter, options.env);
  if (!command) {
    throw new ExecutableNotFoundError(
      `The script interpreter ${interpreter} is not installed on this machine (not found on PATH).`,
      installHint[interpreter],
    );
  }
  let scriptPath: string;
  let cleanup = async (): Promise<void> => undefined;
  if ('file' in options.source) {
    scriptPath = resolve(options.cwd ?? process.cwd(), options.source.file);
    const info = await stat(scriptPath).catch(() => undefined);
    if (!info?.isFile()) {
      const label = options.fileLabel ?? 'The script file';
      throw new InvalidInputError(
        `${label}: ${scriptPath} ${info ? 'is not a file' : 'does not exist'}.`,
        'Give the path of the script file, relative to the repository root ($(System.DefaultWorkingDirectory)) or absolute.',
      );
    }
  } else {
    const extension = interpreter === 'pwsh' ? 'ps1' : 'sh';
    scriptPath = join(options.tempDirectory ?? tmpdir(), `keyless-script-${randomUUID()}.${extension}`);
    await writeFile(scriptPath, inlineScriptText(interpreter, options.source.inline), { mode: 0o700 });
    cleanup = () => rm(scriptPath, { force: true });
  }
  const args = options.args ?? [];
  return {
    command,
    args:
      interpreter === 'pwsh'
        ? ['-NoLogo', '-NoProfile', '-NonInteractive', '-File', scriptPath, ...args]
        : [scriptPath, ...args],
    scriptPath,
    cleanup,
  };
}

function inlineScriptText(interpreter: ScriptInterpreter, text: string): string {
  if (interpreter !== 'pwsh') {
    // Text pasted from a Windows editor: a CR ends every command with a stray character in bash and sh.
    return `${text.replace(/\r\n/g, '\n')}\n`;
  }
  // As Microsoft's PowerShell task does: errors stop the script, and a failing native command's exit code
  // becomes the script's (pwsh -File otherwise exits 0 after it).
  return [
    "$ErrorActionPreference = 'Stop'",
    text,
    'if ((Test-Path -LiteralPath variable:\\LASTEXITCODE)) { exit $LASTEXITCODE }',
    '',
  ].join('\n');
}
