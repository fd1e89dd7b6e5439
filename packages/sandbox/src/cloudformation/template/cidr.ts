import { messages } from './messages';
import { TemplateError } from './types';

function parseIpv4(address: string): number | undefined {
  const octets = address.split('.');
  if (octets.length !== 4) return undefined;
  let value = 0;
  for (const octet of octets) {
    if (!/^\d{1,3}$/.test(octet) || Number(octet) > 255) return undefined;
    value = value * 256 + Number(octet);
  }
  return value;
}

function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/**
 * Fn::Cidr: `count` consecutive subnets with `hostBits` host bits each (so prefix /32-hostBits), carved from
 * the start of `block`. IPv4 only: the sandbox's VPCs are IPv4.
 */
export function cidrSubnets(block: string, count: number, hostBits: number): string[] {
  const [address, prefixText] = block.split('/');
  const base = parseIpv4(address ?? '');
  const prefix = Number(prefixText);
  if (base === undefined || !/^\d{1,2}$/.test(prefixText ?? '') || prefix > 32) {
    throw new TemplateError(messages.cidrShape());
  }
  if (count < 1 || count > 256 || hostBits < 0 || hostBits > 32 - prefix) {
    throw new TemplateError(messages.cidrShape());
  }
  const subnetSize = 2 ** hostBits;
  const blockSize = 2 ** (32 - prefix);
  if (count * subnetSize > blockSize) throw new TemplateError(messages.cidrTooSmall(block));
  const network = base - (base % blockSize);
  return Array.from(
    { length: count },
    (_, index) => `${formatIpv4(network + index * subnetSize)}/${32 - hostBits}`,
  );
}
