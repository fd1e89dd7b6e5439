import type { Agent } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { InvalidInputError } from '../errors';

/**
 * Addresses that must never go through a proxy: loopback (local sandboxes) and link-local (Azure IMDS and
 * EC2 instance metadata at 169.254.169.254 — a proxy would answer for a different machine, if at all).
 */
const neverProxied = new BlockList();
neverProxied.addSubnet('127.0.0.0', 8, 'ipv4');
neverProxied.addSubnet('169.254.0.0', 16, 'ipv4');
neverProxied.addAddress('::1', 'ipv6');
neverProxied.addSubnet('fe80::', 10, 'ipv6');

export function isNeverProxiedHost(hostname: string): boolean {
  const host = stripBrackets(hostname).toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const family = isIP(host);
  if (family === 4) return neverProxied.check(host, 'ipv4');
  if (family === 6) return neverProxied.check(host, 'ipv6');
  return false;
}

/** The proxy URL the environment asks for when calling `target`, or undefined for a direct connection. */
export function proxyUrlFor(target: string | URL, env: NodeJS.ProcessEnv): string | undefined {
  const url = typeof target === 'string' ? new URL(target) : target;
  if (isNeverProxiedHost(url.hostname)) return undefined;
  const candidates =
    url.protocol === 'https:'
      ? [env.HTTPS_PROXY, env.https_proxy, env.HTTP_PROXY, env.http_proxy]
      : [env.HTTP_PROXY, env.http_proxy];
  const proxy = candidates.find((value) => value && value.trim() !== '')?.trim();
  if (!proxy) return undefined;
  if (matchesNoProxy(url, env.NO_PROXY ?? env.no_proxy ?? '')) return undefined;
  return proxy;
}

/** An agent that tunnels through the configured proxy, or undefined when `target` should be reached directly. */
export function proxyAgentFor(target: string | URL, env: NodeJS.ProcessEnv): Agent | undefined {
  const proxy = proxyUrlFor(target, env);
  if (!proxy) return undefined;
  let proxyUrl: URL;
  try {
    proxyUrl = new URL(proxy.includes('://') ? proxy : `http://${proxy}`);
  } catch {
    throw new InvalidInputError(
      `The proxy setting "${redactUserInfo(proxy)}" is not a URL.`,
      'Set HTTPS_PROXY to a URL such as http://proxy.example.com:3128, or unset it.',
    );
  }
  return new HttpsProxyAgent(proxyUrl);
}

/**
 * NO_PROXY semantics as curl and most tools read them: comma/space separated; `*` disables proxying;
 * `example.com` and `.example.com` match the host and its subdomains; `host:port` also requires the port;
 * IPv4 CIDR blocks match addresses inside them.
 */
export function matchesNoProxy(target: URL, noProxy: string): boolean {
  const host = stripBrackets(target.hostname).toLowerCase();
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  for (const rawEntry of noProxy.split(/[\s,]+/)) {
    const entry = rawEntry.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    const { entryHost, entryPort } = splitHostPort(entry);
    if (entryPort && entryPort !== port) continue;
    if (entryHost.includes('/')) {
      if (cidrContains(entryHost, host)) return true;
      continue;
    }
    const bare = entryHost.replace(/^\*?\./, '');
    if (!bare) continue;
    if (host === bare || host.endsWith(`.${bare}`)) return true;
  }
  return false;
}

function splitHostPort(entry: string): { entryHost: string; entryPort?: string } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { entryHost: bracketed[1] ?? '', entryPort: bracketed[2] };
  const colonCount = entry.split(':').length - 1;
  if (colonCount === 1) {
    const [entryHost = '', entryPort] = entry.split(':');
    if (entryPort && /^\d+$/.test(entryPort)) return { entryHost, entryPort };
  }
  return { entryHost: entry };
}

function cidrContains(cidr: string, host: string): boolean {
  const [network = '', bitsText = ''] = cidr.split('/');
  const bits = Number(bitsText);
  const family = isIP(network);
  if (!family || isIP(host) !== family || !Number.isInteger(bits)) return false;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const list = new BlockList();
  try {
    list.addSubnet(network, bits, type);
  } catch {
    return false;
  }
  return list.check(host, type);
}

function stripBrackets(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

function redactUserInfo(proxy: string): string {
  return proxy.replace(/\/\/[^@/]*@/, '//***@');
}
