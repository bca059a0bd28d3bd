// A real S3-compatible server (s3rver, on disk) on 127.0.0.1 for one test file or stack.
// s3rver checks access key ids but not v4 signatures: a wrong secret goes unnoticed there.
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import S3rver from 's3rver';

import { freePort } from './harness';

/** s3rver's one account. */
export const S3_ACCESS_KEY_ID = 'S3RVER';
export const S3_SECRET_ACCESS_KEY = 'S3RVER';

export interface S3Server {
  endpoint: string;
  port: number;
  /** Every request that reached the server (newest last): `METHOD /path?query` and headers. */
  requests: { line: string; headers: http.IncomingHttpHeaders }[];
  close(): Promise<void>;
}

export async function startS3Server(buckets: readonly string[] = []): Promise<S3Server> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'convertd-s3-'));
  const port = await freePort();
  const server = new S3rver({
    address: '127.0.0.1',
    port,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  });
  await server.run();
  // A recording proxy in front, so tests can see what the SDK sent (parts of a multipart upload).
  const requests: S3Server['requests'] = [];
  const proxy = http.createServer((req, res) => {
    requests.push({ line: `${req.method} ${req.url}`, headers: req.headers });
    const upstream = http.request(
      { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  const front = await freePort();
  await new Promise<void>((resolve) => proxy.listen(front, '127.0.0.1', resolve));

  return {
    endpoint: `http://127.0.0.1:${front}`,
    port: front,
    requests,
    async close() {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
      await server.close();
      await fs.rm(directory, { recursive: true, force: true });
    },
  };
}
