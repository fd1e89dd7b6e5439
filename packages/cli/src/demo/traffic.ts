import { request } from 'node:http';

export interface TrafficReport {
  total: number;
  failures: number;
  /** Response bodies of `/version` and how often each was served. */
  versions: Map<string, number>;
  /** The first few failures, for the story. */
  samples: string[];
}

/**
 * Keeps asking the site for its version, as a visitor would during a release, so the demo can show that the
 * blue/green cutover dropped no request. A fresh connection per request: keep-alive would pin one backend and
 * hide a gap at the switch.
 */
export function startTraffic(url: string, concurrency = 2): { stop(): Promise<TrafficReport> } {
  const report: TrafficReport = { total: 0, failures: 0, versions: new Map(), samples: [] };
  let running = true;
  const fail = (why: string) => {
    report.failures += 1;
    if (report.samples.length < 5) report.samples.push(why);
  };
  const once = () =>
    new Promise<void>((resolve) => {
      const req = request(`${url}/version`, { agent: false, timeout: 5000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          report.total += 1;
          if (res.statusCode === 200) report.versions.set(body, (report.versions.get(body) ?? 0) + 1);
          else fail(`HTTP ${res.statusCode}: ${body.slice(0, 80)}`);
          resolve();
        });
        res.on('error', (error) => {
          fail(error.message);
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timed out after 5 s')));
      req.on('error', (error) => {
        report.total += 1;
        fail(error.message);
        resolve();
      });
      req.end();
    });
  const workers = Array.from({ length: concurrency }, async () => {
    while (running) {
      await once();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(workers);
      return report;
    },
  };
}
