import type { HostedIssuer, SandboxContext } from '../context';

/** Config sections name their issuer by id; the exact `iss` URL is accepted too, so either spelling works. */
export function resolveIssuer(ctx: SandboxContext, reference: string): HostedIssuer | undefined {
  return ctx.issuers.byId(reference) ?? ctx.issuers.byIssuer(reference);
}

/** The issuer's configured lifetime wins over the real service's own default (simulated seconds). */
export function tokenLifetimeSeconds(
  ctx: SandboxContext,
  issuer: HostedIssuer,
  serviceDefault: number,
): number {
  return ctx.config.issuers?.find((entry) => entry.id === issuer.id)?.tokenLifetimeSeconds ?? serviceDefault;
}
