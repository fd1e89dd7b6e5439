import { createServer } from 'node:net';

/**
 * Hands out free 127.0.0.1 ports, one per instance. A port is found by binding port 0 and releasing it; ports
 * handed out are never handed out again in this sandbox, so a terminated instance's lingering sockets (or a
 * daemon that outlived its SIGTERM by a moment) can never answer for a new instance.
 */
export class LoopbackPorts {
  private readonly handedOut = new Set<number>();

  async allocate(): Promise<number> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const port = await probeFreePort();
      if (!this.handedOut.has(port)) {
        this.handedOut.add(port);
        return port;
      }
    }
    throw new Error('Could not find a free 127.0.0.1 port that was not already handed out');
  }
}

function probeFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('No port assigned'))));
    });
  });
}
