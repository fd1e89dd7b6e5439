// AWSShellScript@1: the AWS Toolkit's inputs (same names, defaults and meaning) mapped onto core's
// prepareScript + runWithCredentials; credentials exist only in the script's environment.
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname } from 'node:path';
import {
  prepareScript,
  scriptInterpreters,
  splitArguments,
  type ScriptInterpreter,
  type ScriptSource,
} from '@keyless/core';
import {
  forwardChildLine,
  runChildWithTaskCredentials,
  runTask,
  type TaskContext,
  type TaskInputs,
} from '../../src';

const taskName = 'AWSShellScript';

interface Settings {
  interpreter: ScriptInterpreter;
  source: ScriptSource;
  args: string[];
  /** undefined: the toolkit's automatic choice (System.DefaultWorkingDirectory, else the script's folder). */
  workingDirectory?: string;
  failOnStandardError: boolean;
  useTokenFile: boolean;
}

/** Every input checked before anything runs: a wrong value fails here, naming the input and the fix. */
function readSettings(inputs: TaskInputs, ctx: TaskContext): Settings {
  const scriptType = inputs.choice('scriptType', ['filePath', 'inline'], 'filePath');
  const source: ScriptSource =
    scriptType === 'filePath'
      ? { file: inputs.requiredPath('filePath', 'when scriptType is filePath') }
      : { inline: inputs.required('inlineScript', 'when scriptType is inline') };
  const settings: Settings = {
    interpreter: inputs.choice('scriptInterpreter', scriptInterpreters, 'bash'),
    source,
    args: splitArguments(inputs.optional('arguments') ?? '', `${taskName}: the input "arguments"`),
    failOnStandardError: inputs.boolean('failOnStandardError', false),
    useTokenFile: inputs.boolean('useTokenFile', false),
  };
  if (inputs.boolean('disableAutoCwd', false)) {
    // The agent roots an empty filePath input at the sources directory; read back, that is our cwd.
    settings.workingDirectory = inputs.path('workingDirectory') ?? ctx.cwd;
  }
  return settings;
}

void runTask(taskName, async (ctx) => {
  const settings = readSettings(ctx.inputs, ctx);
  // Interpreter and script file are checked before credentials are fetched: no network call for a typo.
  const script = await prepareScript({
    interpreter: settings.interpreter,
    source: settings.source,
    args: settings.args,
    env: ctx.env,
    cwd: ctx.cwd,
    tempDirectory: ctx.env.AGENT_TEMPDIRECTORY || tmpdir(),
    fileLabel: `${taskName}: the input "filePath"`,
  });
  try {
    const cwd =
      settings.workingDirectory ?? (ctx.env.SYSTEM_DEFAULTWORKINGDIRECTORY || dirname(script.scriptPath));
    // The toolkit created the working directory when it was missing (mkdirP); so do we.
    await mkdir(cwd, { recursive: true });
    const result = await runChildWithTaskCredentials(ctx, {
      command: script.command,
      args: script.args,
      cwd,
      label: 'The script',
      useTokenFile: settings.useTokenFile,
      failOnStandardError: settings.failOnStandardError,
      onLine: (line) => forwardChildLine(ctx, line),
    });
    if (result.failure) throw result.failure;
    return { result: 'Succeeded', message: 'The script exited with code 0.' };
  } finally {
    await script.cleanup();
  }
});
