// Sandbox STS throughput: AssumeRoleWithWebIdentity with full validation (JWT signature, IAM provider, trust
// policy, session minting) against a sandbox in its own process, driven over keep-alive HTTP at a few concurrency
// levels. Peer, measured in the same run with the same client: a bare node:http server answering a static 200 XML
// body — the ceiling of this harness, so the ratio says how much of it STS keeps.
// Run: node --import tsx bench/sandbox-sts-throughput.ts [secondsPerLevel]
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request as httpRequest, Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { percentile } from './lib';

const ROLE_NAME = 'bench-deployer';
const ACCOUNT = '123456789012';
const ISSUER = 'https://sts.windows.net/bench-tenant/';
const AUDIENCE = 'api://keyless-bench';
const SUBJECT = 'bench-identity-object-id';
const LEVELS = [1, 16, 64];
const SECONDS_PER_LEVEL = Number(process.argv[3] ?? process.argv[2] ?? '') || 1.7;

async function serveSandbox(): Promise<void> {
  const { startSandbox } = await import('../packages/sandbox/src/index');
  const sandbox = await startSandbox({
    port: 0,
    config: {
      account: { id: ACCOUNT },
      issuers: [{ id: 'entra', issuer: ISSUER }],
      iam: {
        oidcProviders: [{ url: ISSUER, clientIds: [AUDIENCE] }],
        roles: [
          {
            name: ROLE_NAME,
            assumeRolePolicyDocument: {
              Version: '2012-10-17',
              Statement: {
                Effect: 'Allow',
                Principal: {
                  Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/sts.windows.net/bench-tenant/`,
                },
                Action: 'sts:AssumeRoleWithWebIdentity',
                Condition: {
                  StringEquals: {
                    'sts.windows.net/bench-tenant/:aud': AUDIENCE,
                    'sts.windows.net/bench-tenant/:sub': SUBJECT,
                  },
                },
              },
            },
          },
        ],
      },
    },
  });
  process.stdout.write(`READY ${sandbox.url}\n`);
}

function serveStatic(): void {
  const body = Buffer.from(
    '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult/>' +
      '<ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>\n',
  );
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'text/xml', 'content-length': String(body.length) });
      response.end(body);
    });
  });
  server.listen(0, '127.0.0.1', () =>
    process.stdout.write(`READY http://127.0.0.1:${(server.address() as AddressInfo).port}\n`),
  );
}

async function startChild(mode: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /READY (\S+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`${mode} exited early (${code})`)));
  });
  return { url, child };
}

function post(agent: Agent, url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface LevelResult {
  concurrency: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

async function drive(
  url: string,
  bodies: string[],
  concurrency: number,
  seconds: number,
): Promise<LevelResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const body = bodies[next++ % bodies.length]!;
        const t0 = performance.now();
        const status = await post(agent, url, body);
        latencies.push(performance.now() - t0);
        if (status !== 200) errors++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  return {
    concurrency,
    requestsPerSecond: Math.round(latencies.length / elapsed),
    p50Ms: Number(percentile(latencies, 50).toFixed(2)),
    p99Ms: Number(percentile(latencies, 99).toFixed(2)),
    errors,
  };
}

async function main(): Promise<void> {
  const sandbox = await startChild('--serve-sandbox');
  const peer = await startChild('--serve-static');
  try {
    // A pool of genuine tokens, minted through the sandbox's control API before the clock starts.
    const bodies: string[] = [];
    for (let i = 0; i < 64; i++) {
      const response = await fetch(`${sandbox.url}/_sandbox/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ issuer: 'entra', claims: { aud: AUDIENCE, sub: SUBJECT } }),
      });
      const { token } = (await response.json()) as { token: string };
      bodies.push(
        new URLSearchParams({
          Action: 'AssumeRoleWithWebIdentity',
          Version: '2011-06-15',
          RoleArn: `arn:aws:iam::${ACCOUNT}:role/${ROLE_NAME}`,
          RoleSessionName: `bench-${i}`,
          WebIdentityToken: token,
        }).toString(),
      );
    }
    await drive(sandbox.url, bodies, 8, 0.5); // warm-up (JIT, key caches)
    await drive(peer.url, bodies, 8, 0.5);
    const sandboxLevels: LevelResult[] = [];
    const peerLevels: LevelResult[] = [];
    for (const level of LEVELS) {
      sandboxLevels.push(await drive(sandbox.url, bodies, level, SECONDS_PER_LEVEL));
      peerLevels.push(await drive(peer.url, bodies, level, SECONDS_PER_LEVEL));
      console.log(
        `concurrency ${level}: sandbox ${JSON.stringify(sandboxLevels.at(-1))} peer ${JSON.stringify(peerLevels.at(-1))}`,
      );
    }
    const best = sandboxLevels.reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a));
    const bestPeer = peerLevels.reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a));
    const target = 1000;
    console.log(
      JSON.stringify({
        measure: 'sandbox AssumeRoleWithWebIdentity throughput (full validation)',
        keyless: best.requestsPerSecond,
        peer: bestPeer.requestsPerSecond,
        peerName: 'bare node:http static 200 XML (harness ceiling)',
        unit: 'requests/s',
        ratio: Number((best.requestsPerSecond / bestPeer.requestsPerSecond).toFixed(3)),
        target: `>= ${target} requests/s`,
        met: best.requestsPerSecond >= target && best.errors === 0,
        p50Ms: best.p50Ms,
        p99Ms: best.p99Ms,
        levels: { sandbox: sandboxLevels, peer: peerLevels },
      }),
    );
  } finally {
    sandbox.child.kill();
    peer.child.kill();
  }
}

const mode = process.argv[2];
if (mode === '--serve-sandbox') await serveSandbox();
else if (mode === '--serve-static') serveStatic();
else await main();
