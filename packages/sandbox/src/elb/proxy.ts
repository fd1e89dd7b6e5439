import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Target, TargetGroupState } from './target-group';

/** Where the listener forwards: one group, or several weighted (ForwardConfig). */
export type ForwardTargets = Array<{ group: TargetGroupState; weight: number }>;

/** Request bodies are buffered so a request can be retried on another target after a connection failure. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

/** Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are not forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function errorPage(status: 502 | 503 | 413): string {
  const title =
    status === 503
      ? '503 Service Temporarily Unavailable'
      : status === 502
        ? '502 Bad Gateway'
        : '413 Request Entity Too Large';
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n</body>\r\n</html>\r\n`;
}

/**
 * An Application Load Balancer's data plane: an HTTP reverse proxy on its own 127.0.0.1 port. Each request is
 * routed on its own (a keep-alive client connection is never pinned to a target), to a target its group considers
 * routable now; a target that refuses the connection is replaced by another once before answering 502.
 */
export class LoadBalancerProxy {
  private readonly server: Server;
  private readonly agent = new Agent({ keepAlive: true });
  private boundPort = 0;

  constructor(
    private readonly options: {
      name: string;
      /** The default listener's forward targets, or undefined when the load balancer has no listener. */
      forwardTargets(): ForwardTargets | undefined;
      log(line: string): void;
    },
  ) {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        this.options.log(`elb ${this.options.name}: proxy failure ${(error as Error).message}`);
        if (!response.headersSent) this.answer(response, 502);
        else response.destroy();
      });
    });
  }

  get port(): number {
    return this.boundPort;
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      // Loopback only: the proxy fronts sandbox instances, never anything reachable from outside.
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (this.server.address() as AddressInfo).port;
    return this.boundPort;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    this.agent.destroy();
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const forward = this.options.forwardTargets();
    if (forward === undefined) {
      // No listener means nothing listens: the client sees its connection dropped, as on a port ELB does not serve.
      request.socket.destroy();
      return;
    }
    const body = await readBody(request);
    if (body === undefined) {
      this.answer(response, 413);
      return;
    }
    const group = chooseGroup(forward);
    const first = group?.pick();
    if (!group || !first) {
      this.answer(response, 503);
      return;
    }
    let target: Target = first;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.forwardTo(group, target, request, body, response);
      if (outcome.kind !== 'connect-failed') return;
      const retry: Target | undefined =
        attempt > 1 ? undefined : (group.pick(target) ?? (outcome.reusedSocket ? target : undefined));
      if (!retry) {
        this.answer(response, 502);
        return;
      }
      target = retry;
    }
  }

  /** One attempt; `connect-failed` means the target never answered, so the request may go elsewhere. */
  private forwardTo(
    group: TargetGroupState,
    target: Target,
    request: IncomingMessage,
    body: Buffer,
    response: ServerResponse,
  ): Promise<{ kind: 'answered' } | { kind: 'connect-failed'; reusedSocket: boolean }> {
    const port = group.runningInstancePort(target.instanceId);
    if (port === undefined) return Promise.resolve({ kind: 'connect-failed', reusedSocket: false });
    target.begin();
    return new Promise((resolve) => {
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        target.end();
      };
      const upstream = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: request.method,
          path: request.url,
          headers: forwardedHeaders(request, body, this.boundPort),
          agent: this.agent,
        },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.statusMessage, responseHeaders(answer.headers));
          answer.pipe(response);
          answer.on('end', finish);
          answer.on('error', () => {
            finish();
            response.destroy();
          });
          resolve({ kind: 'answered' });
        },
      );
      upstream.on('error', () => {
        if (response.headersSent) return;
        finish();
        resolve({ kind: 'connect-failed', reusedSocket: upstream.reusedSocket });
      });
      // A client that gives up mid-request ends the upstream request too, so draining sees it finish.
      response.once('close', () => {
        if (!response.writableFinished) upstream.destroy();
        finish();
      });
      upstream.end(body);
    });
  }

  private answer(response: ServerResponse, status: 502 | 503 | 413): void {
    const page = errorPage(status);
    response.writeHead(status, {
      server: 'awselb/2.0',
      'content-type': 'text/html',
      'content-length': String(Buffer.byteLength(page)),
    });
    response.end(page);
  }
}

function chooseGroup(forward: ForwardTargets): TargetGroupState | undefined {
  const weighted = forward.filter((entry) => entry.weight > 0);
  const total = weighted.reduce((sum, entry) => sum + entry.weight, 0);
  let point = Math.random() * total;
  for (const entry of weighted) {
    point -= entry.weight;
    if (point < 0) return entry.group;
  }
  return weighted[weighted.length - 1]?.group;
}

function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        request.removeAllListeners('data');
        request.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function forwardedHeaders(request: IncomingMessage, body: Buffer, listenerPort: number): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
  }
  const client = request.socket.remoteAddress ?? '127.0.0.1';
  const prior = request.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = prior ? `${String(prior)}, ${client}` : client;
  headers['x-forwarded-proto'] = 'http';
  headers['x-forwarded-port'] = String(listenerPort);
  if (body.length > 0 || request.headers['content-length'] !== undefined)
    headers['content-length'] = String(body.length);
  return headers;
}

function responseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
  }
  return out;
}
