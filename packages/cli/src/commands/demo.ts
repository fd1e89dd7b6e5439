import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getCallerIdentity, resolveCredentials } from '@keyless/core';
import { loadSandboxConfig, startSandbox } from '@keyless/sandbox';
import { parseCommandLine, UsageError } from '../usage';
import { describeRemaining } from './credentials';
import type { CommandContext } from '../command';

export const demoHelp = `keyless demo — the blog's system on this machine (what \`npm start\` runs).

Usage: keyless demo [--config examples/sample-app/sandbox.yml] [--verbose]

Starts the sandbox seeded with the blog's prerequisites (Entra tenant issuer, the agent VM's user-assigned
managed identity, the IAM OIDC provider and the role whose trust policy pins aud and sub), then does the
pipeline's credential step exactly as the blog's agent does — a token from the Azure IMDS managed-identity
endpoint, exchanged with STS AssumeRoleWithWebIdentity — prints the assumed identity and stops everything.

Examples:
  npm start                                   # from the repository root
  keyless demo --verbose                      # also show every sandbox request (secrets stay masked)
  keyless demo --config my-sandbox.yml        # your own tenant, identity and role names`;

const sampleConfig = join('examples', 'sample-app', 'sandbox.yml');

export async function runDemo(argv: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandLine('demo', argv, {
    config: { type: 'string' },
    verbose: { type: 'boolean', short: 'v' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    context.stdout(`${demoHelp}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}".`, 'demo');
  const configPath = values.config ? resolve(context.cwd, values.config) : findSampleConfig(context.cwd);
  const config = await loadSandboxConfig(configPath);
  const identity = config.azure?.managedIdentities[0];
  const audience = config.azure?.resources[0];
  const role = config.iam?.roles?.[0];
  if (!identity || !audience || !role) {
    throw new UsageError(
      `${configPath} needs an azure section (a resource and a managed identity) and an IAM role for the demo.`,
      'demo',
    );
  }
  const reporter = context.reporter({ verbose: values.verbose ?? false, quiet: true });
  const step = (text: string) => context.stdout(`${reporter.secrets.mask(text)}\n`);

  step(`Keyless demo — the AWS blog's pipeline, on this machine`);
  const sandbox = await startSandbox({ port: 0, config: configPath, log: (line) => reporter.debug(line) });
  try {
    const roleArn = `arn:aws:iam::${sandbox.accountId}:role/${role.name}`;
    step(
      `1. Sandbox up at ${sandbox.url}: Entra tenant ${config.azure!.tenantId}, IAM OIDC provider, role ${role.name}`,
    );
    step(`2. Credential step: managed identity ${identity.name} asks IMDS for a token for ${audience},`);
    step(`   then STS AssumeRoleWithWebIdentity(${roleArn})`);
    const started = performance.now();
    const resolved = await resolveCredentials(
      {
        provider: 'azure-managed-identity',
        audience,
        clientId: identity.clientId,
        roleArn,
        sessionName: 'AWSAssumeRole',
        region: sandbox.region,
        azureImdsEndpoint: sandbox.url,
        endpoints: { default: sandbox.url },
      },
      { env: context.env, reporter },
    );
    const credentials = await resolved.provider();
    const caller = await getCallerIdentity(resolved, { env: context.env, reporter });
    const elapsed = Math.round(performance.now() - started);
    step(`3. Assumed identity (${elapsed} ms, no stored keys anywhere):`);
    step(`     account  ${caller.account}`);
    step(`     arn      ${caller.arn}`);
    step(
      `     expires  ${credentials.expiration?.toISOString() ?? 'never'}${credentials.expiration ? ` (${describeRemaining(credentials.expiration)})` : ''}`,
    );
    step(`   via ${resolved.describe()}`);
    step('The keys themselves were registered as secrets and never printed. Sandbox stopped.');
    return 0;
  } finally {
    await sandbox.close();
  }
}

/** The sample lives in the repository; look for it from the working directory and from the CLI's own location. */
function findSampleConfig(cwd: string): string {
  for (const start of [cwd, dirname(fileURLToPath(import.meta.url))]) {
    let dir = start;
    for (;;) {
      const candidate = join(dir, sampleConfig);
      if (existsSync(candidate)) return candidate;
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw new UsageError(`Cannot find ${sampleConfig} from ${cwd}; pass --config FILE.`, 'demo');
}
