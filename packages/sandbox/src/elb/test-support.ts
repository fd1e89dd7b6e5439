import { createServer, request, type Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Fleet, Instance, InstanceState } from '../fleet/types';

/**
 * Test doubles for the ELB tests: "instances" that are plain node:http servers on loopback ports, and a Fleet
 * that knows only them. Each app answers its version on any path, can be told to fail its health path, and
 * serves `/slow?ms=N` to hold a request in flight.
 */
export interface FakeApp {
  readonly instanceId: string;
  readonly port: number;
  readonly version: string;
  healthStatus: number;
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startFakeApp(instanceId: string, version: string): Promise<FakeApp> {
  const requests: string[] = [];
  const app: FakeApp = {
    instanceId,
    port: 0,
    version,
    healthStatus: 200,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname === '/health') {
      response.writeHead(app.healthStatus, { 'content-type': 'text/plain' });
      response.end(app.healthStatus === 200 ? 'ok' : 'failing');
      return;
    }
    requests.push(url.pathname);
    const delayMs = url.pathname === '/slow' ? Number(url.searchParams.get('ms') ?? '0') : 0;
    setTimeout(() => {
      response.writeHead(200, { 'content-type': 'text/plain', 'x-instance': instanceId });
      response.end(version);
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(app, { port: (server.address() as AddressInfo).port });
  return app;
}

/** A Fleet holding only the given apps as running instances; anything else a test does not need throws. */
export function fakeFleet(
  apps: FakeApp[],
): Fleet & { setState(instanceId: string, state: InstanceState): void } {
  const instances = new Map<string, Instance>();
  for (const app of apps) {
    instances.set(app.instanceId, {
      instanceId: app.instanceId,
      state: 'running',
      rootDir: '/nonexistent',
      port: app.port,
      privateIpAddress: '127.0.0.1',
      imageId: 'ami-12345678',
      instanceType: 't3.micro',
      securityGroupIds: [],
      tags: {},
      launchTime: new Date(),
    });
  }
  const unsupported = (): never => {
    throw new Error('not part of the fake fleet');
  };
  return {
    instance: (id) => instances.get(id),
    instances: () => [...instances.values()].filter((i) => i.state !== 'terminated'),
    setState(instanceId, state) {
      const instance = instances.get(instanceId);
      if (instance) instance.state = state;
    },
    runInstances: unsupported,
    terminateInstances: unsupported,
    trackProcessGroup: unsupported,
    createLaunchTemplate: unsupported,
    launchTemplate: unsupported,
    createAutoScalingGroup: unsupported,
    autoScalingGroup: unsupported,
    updateAutoScalingGroup: unsupported,
    deleteAutoScalingGroup: unsupported,
    stop: async () => undefined,
  };
}

/** Instance ids in EC2's shape (i- and 17 hex digits), distinct per call. */
let counter = 0;
export function fakeInstanceId(): string {
  counter += 1;
  return `i-${(0x10000000000000000n + BigInt(Date.now()) * 4096n + BigInt(counter)).toString(16).slice(-17)}`;
}

/** GET through the proxy; resolves with status and body, or the connection error's code. */
export async function get(
  url: string,
  init: { agent?: Agent } = {},
): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = request(url, { agent: init.agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      response.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    req.end();
  });
}
