// A webhook receiver on 127.0.0.1 for tests: records every request with its raw body, answers
// with the statuses it is told to (then 200), and can start later on a port chosen in advance.
import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';

import { freePort } from './harness';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body parsed (webhook bodies are JSON). */
  json: { event: string; job: Record<string, any> };
}

export class Receiver {
  readonly received: Received[] = [];
  /** Statuses of the next answers, in order; 200 once they are used up. */
  readonly answers: number[] = [];
  /** Milliseconds to hold the answer to a request of this event (an ordering test's slow reply). */
  readonly holds = new Map<string, number>();
  /** `received <event>` and `answered <event>` as they happened, per path. */
  readonly log: { path: string; jobId: string; entry: string }[] = [];
  private server: http.Server | null = null;

  private constructor(readonly port: number) {}

  /** A receiver whose port is reserved now; `listen` when it should start answering. */
  static async create(): Promise<Receiver> {
    return new Receiver(await freePort());
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** What arrived at `path` for job `jobId`, in arrival order. */
  at(path: string, jobId?: string): Received[] {
    return this.received.filter((r) => r.path === path && (!jobId || r.json.job.id === jobId));
  }

  listen(): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const received: Received = {
          path: req.url ?? '',
          headers: req.headers,
          body,
          json: JSON.parse(body.toString('utf8')),
        };
        this.received.push(received);
        const note = (what: string) =>
          this.log.push({
            path: received.path,
            jobId: String(received.json.job?.id),
            entry: `${what} ${received.json.event}`,
          });
        note('received');
        res.statusCode = this.answers.shift() ?? 200;
        setTimeout(
          () => {
            note('answered');
            res.end('ok');
          },
          this.holds.get(received.json.event) ?? 0,
        );
      });
    });
    this.server = server;

    return new Promise((resolve) => server.listen(this.port, '127.0.0.1', resolve));
  }

  close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) {
      return Promise.resolve();
    }

    return new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  }
}
