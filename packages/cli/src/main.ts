// Narrow entry points, not the package index: every command starts through this file, and the index would
// make each of them load the whole engine (2.6 MB of JavaScript) before doing anything.
import { InvalidInputError, isKeylessError } from '@keyless/core/errors';
import { StreamReporter } from '@keyless/core/reporter';
import type { CommandContext } from './command';

const version = '0.1.0';

export const mainHelp = `keyless ${version} — deploy to AWS from any CI with no stored AWS keys.

Usage: keyless <command> [options]      (keyless <command> --help for each)

Commands:
  credentials     exchange this pipeline's OIDC identity for short-lived AWS credentials; show who you are
  cloudformation  create, update or delete a stack (change sets, events, outputs), waiting for the result
  codedeploy      deploy a revision with CodeDeploy (appspec checked, zipped, uploaded, followed); validate; run locally
  s3              upload a folder's files to a bucket (globs, content types, cache control, encryption), in parallel
  exec            run a command with refreshing AWS credentials in its environment only
  sandbox         start the local AWS-compatible sandbox and identity providers on 127.0.0.1
  pipeline        run an azure-pipelines.yml locally the way Azure Pipelines does (real tasks, masked log, run record)
  demo            the blog's system on this machine (what \`npm start\` runs)

Exit codes: 0 success, 1 failure, 2 usage error.

Examples:
  keyless credentials --provider github --role-arn arn:aws:iam::123456789012:role/deploy --region us-east-1
  keyless exec --provider gitlab --role-arn arn:aws:iam::123456789012:role/deploy --region eu-west-1 -- aws s3 ls
  keyless cloudformation deploy --stack-name web --template-file infrastructure.yml --provider github \\
    --role-arn arn:aws:iam::123456789012:role/deploy --region us-east-1
  keyless codedeploy deploy --application web --deployment-group prod --bundle ./app --bucket my-artifacts \\
    --provider github --role-arn arn:aws:iam::123456789012:role/deploy --region us-east-1
  keyless sandbox --port 0
  keyless pipeline run azure-pipelines.yml --agent .keyless/agent.yml`;

type Command = (argv: string[], context: CommandContext) => Promise<number>;

// Loaded on demand: `keyless credentials` should not pay for parsing the sandbox's code, and start-up
// time is what a pipeline step pays on every run.
const commands: Record<string, () => Promise<Command>> = {
  credentials: async () => (await import('./commands/credentials')).runCredentials,
  cloudformation: async () => (await import('./commands/cloudformation')).runCloudFormation,
  codedeploy: async () => (await import('./commands/codedeploy')).runCodeDeploy,
  s3: async () => (await import('./commands/s3')).runS3,
  exec: async () => (await import('./commands/exec')).runExec,
  sandbox: async () => (await import('./commands/sandbox')).runSandbox,
  pipeline: async () => (await import('./commands/pipeline')).runPipelineCommand,
  demo: async () => (await import('./commands/demo')).runDemo,
};

export async function main(argv: string[], context: CommandContext): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    context.stdout(`${mainHelp}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    context.stdout(`${version}\n`);
    return 0;
  }
  const load = commands[name];
  if (!load) {
    throw new InvalidInputError(
      `Unknown command "${name}". Commands: ${Object.keys(commands).join(', ')}.`,
      'run `keyless --help` for the commands and examples',
    );
  }
  return (await load())(rest, context);
}

export function processContext(): CommandContext {
  let reporter: StreamReporter | undefined;
  let interrupted: Promise<NodeJS.Signals> | undefined;
  return {
    env: process.env,
    cwd: process.cwd(),
    stdout: (text) => process.stdout.write(text),
    reporter: (options) => (reporter ??= new StreamReporter(options)),
    // Installed only by commands that handle Ctrl-C themselves; others keep the default (exit at once).
    interrupted: () =>
      (interrupted ??= new Promise((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve(signal));
      })),
  };
}

export async function run(): Promise<void> {
  const context = processContext();
  try {
    process.exitCode = await main(process.argv.slice(2), context);
  } catch (error) {
    const reporter = context.reporter();
    if (isKeylessError(error)) {
      reporter.error(error.toUserText());
      process.exitCode = error.exitCode;
    } else {
      // An unexpected failure is a bug in Keyless: say so plainly, keep the detail for --verbose.
      const text = error instanceof Error ? error.message : String(error);
      reporter.error(
        `unexpected failure: ${text}\n  Fix: re-run with --verbose and report it if it persists.`,
      );
      reporter.debug(error instanceof Error && error.stack ? error.stack : text);
      process.exitCode = 1;
    }
  }
  // Servers and timers may keep the loop alive after the command is done; the command's result is final.
  process.exit(process.exitCode ?? 0);
}
