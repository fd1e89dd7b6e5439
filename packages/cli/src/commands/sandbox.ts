import { randomInt } from 'node:crypto';
import { parseFaultSpec, startSandbox, type FaultRule } from '@keyless/sandbox';
import { integerOption, parseCommandLine, UsageError } from '../usage';
import type { CommandContext } from '../command';
import { explainSandboxStartFailure } from '../sandbox-start-errors';

export const sandboxHelp = `keyless sandbox — a local, faithful AWS endpoint and the identity providers a pipeline talks to.

Usage: keyless sandbox [--port 4566] [--config FILE] [--time-scale N] [--max-session-seconds N]
                       [--faults SPEC] [--fault-seed N] [--verbose]

One HTTP server on 127.0.0.1 serves AWS STS and IAM (SigV4-verified, AWS's errors), OIDC issuers with
discovery and JWKS, the Azure IMDS managed-identity endpoint, the Azure DevOps OIDC endpoint, the GitHub
Actions ID-token endpoint and EC2 instance metadata. It runs until Ctrl-C.

Options:
  --port N                 listen port (default 4566; 0 picks a free one and prints it)
  --config FILE            YAML/JSON seed: account, issuers, identities, IAM providers and roles
                           (example: examples/sample-app/sandbox.yml)
  --time-scale N           simulated waits and lifetimes last 1/N as long (default 1)
  --max-session-seconds N  cap every issued AWS session's lifetime (to rehearse expiry)
  --faults SPEC            fail AWS calls at random, per service and operation: rules separated by ';',
                           each service[:Operation]=kind:rate[,kind:rate...], kinds throttle, 5xx, reset,
                           slow (slow:0.1@500 for 500 ms) and duplicate (processed, answer lost)
  --fault-seed N           seed for --faults, to replay a run (default: random, printed at start)
  -v, --verbose            log every request (never secrets)

Examples:
  keyless sandbox --config examples/sample-app/sandbox.yml
  keyless sandbox --port 0 --max-session-seconds 20
  keyless sandbox --faults '*=throttle:0.2,5xx:0.05,reset:0.02;codedeploy:CreateDeployment=duplicate:0.3'`;

export async function runSandbox(argv: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandLine('sandbox', argv, {
    port: { type: 'string' },
    config: { type: 'string' },
    'time-scale': { type: 'string' },
    'max-session-seconds': { type: 'string' },
    faults: { type: 'string' },
    'fault-seed': { type: 'string' },
    verbose: { type: 'boolean', short: 'v' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    context.stdout(`${sandboxHelp}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}".`, 'sandbox');
  const timeScale = values['time-scale'] === undefined ? undefined : Number(values['time-scale']);
  if (timeScale !== undefined && !(timeScale > 0)) {
    throw new UsageError(`--time-scale must be a positive number, got "${values['time-scale']}".`, 'sandbox');
  }
  let faults: FaultRule[] | undefined;
  try {
    faults = values.faults === undefined ? undefined : parseFaultSpec(values.faults);
  } catch (error) {
    throw new UsageError(`${(error as Error).message}.`, 'sandbox');
  }
  // Chosen here when not given, so it can be printed: a failing rehearsal can then be replayed.
  const faultSeed =
    integerOption('sandbox', 'fault-seed', values['fault-seed'], { min: 0, max: 2 ** 31 - 1 }) ??
    (faults ? randomInt(0, 2 ** 31) : undefined);
  const reporter = context.reporter({ verbose: values.verbose ?? false });
  const sandbox = await startSandbox({
    port: integerOption('sandbox', 'port', values.port, { min: 0, max: 65535 }) ?? 4566,
    config: values.config,
    timeScale,
    maxSessionSeconds: integerOption('sandbox', 'max-session-seconds', values['max-session-seconds'], {
      min: 1,
      max: 43200,
    }),
    ...(faults ? { faults } : {}),
    ...(faultSeed !== undefined ? { faultSeed } : {}),
    log: (line) => reporter.debug(line),
  }).catch((error: unknown) => {
    throw explainSandboxStartFailure(error, values.config);
  });
  context.stdout(
    [
      `Keyless sandbox listening on ${sandbox.url} (account ${sandbox.accountId}, region ${sandbox.region})`,
      `  AWS endpoint       ${sandbox.url}   (aws --endpoint-url ${sandbox.url} …, or AWS_ENDPOINT_URL=${sandbox.url})`,
      `  Azure IMDS         ${sandbox.url}/metadata/identity/oauth2/token   (--azure-imds-endpoint ${sandbox.url})`,
      `  EC2 metadata       ${sandbox.url}/latest/   (--ec2-metadata-endpoint ${sandbox.url})`,
      `  control API        ${sandbox.url}/_sandbox/health`,
      ...(faults?.length
        ? [
            `  faults             ${values.faults} (seed ${faultSeed}; counts at ${sandbox.url}/_sandbox/fault-stats)`,
          ]
        : []),
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  const signal = await context.interrupted();
  reporter.info(`keyless sandbox: ${signal} received, stopping.`);
  await sandbox.close();
  return 0;
}
