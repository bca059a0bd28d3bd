// A real S3-compatible server (s3rver, on disk) on 127.0.0.1 for one test file or stack.
// s3rver checks access key ids but not v4 signatures: a wrong secret goes unnoticed there.
import fs from 'node:fs/promises';
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

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    async close() {
      await server.close();
      await fs.rm(directory, { recursive: true, force: true });
    },
  };
}
