// With private addresses refused (the production default), imports from and exports to other
// people's storage end URL_NOT_ALLOWED before anything connects to a loopback or private host.
import net from 'node:net';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startStack, type Stack } from '../../../test/harness';
import { byName, createJob, waitJob } from './support';

let stack: Stack;
let key: string;
let listener: net.Server;
let port: number;
let connections = 0;

beforeAll(async () => {
  stack = await startStack({ env: { CONVERTD_ALLOW_PRIVATE_URLS: 'false' } });
  ({ key } = await stack.createUser());
  // Any protocol: the test only counts connections, and there must be none.
  listener = net.createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  port = (listener.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => listener?.close(resolve));
  await stack?.close();
});

describe('outbound policy on remote storage', () => {
  it.each([
    [
      'Azure Blob (IPv4 loopback endpoint)',
      () => ({
        operation: 'import/azure/blob',
        storage_account: 'devstoreaccount1',
        storage_access_key: 'a2V5',
        container: 'files',
        blob: 'a.txt',
        endpoint: `http://127.0.0.1:${port}/devstoreaccount1`,
      }),
    ],
    [
      'Google Cloud Storage (localhost endpoint)',
      () => ({
        operation: 'import/google-cloud-storage',
        project_id: 'p',
        bucket: 'b',
        client_email: 'e@example.com',
        private_key: 'k',
        file: 'a.txt',
        endpoint: `http://localhost:${port}`,
      }),
    ],
    [
      'OpenStack (IPv4-mapped IPv6 auth_url)',
      () => ({
        operation: 'import/openstack',
        auth_url: `http://[::ffff:127.0.0.1]:${port}/v3`,
        username: 'u',
        password: 'p',
        region: 'r',
        container: 'c',
        file: 'a.txt',
      }),
    ],
    [
      'SFTP (loopback host)',
      () => ({
        operation: 'import/sftp',
        host: '127.0.0.1',
        port,
        username: 'u',
        password: 'p',
        file: '/a.txt',
      }),
    ],
    [
      'SFTP (private host)',
      () => ({
        operation: 'import/sftp',
        host: '10.0.0.1',
        username: 'u',
        password: 'p',
        file: '/a',
      }),
    ],
  ] as const)('refuses %s with URL_NOT_ALLOWED and connects nowhere', async (_label, task) => {
    const created = await createJob(stack, key, { t: task() });
    const failed = byName(await waitJob(stack, key, created.id), 't');

    expect(failed).toMatchObject({ status: 'error', code: 'URL_NOT_ALLOWED', result: null });
    expect(failed.message).toMatch(/loopback, private or link-local address/);
    expect(connections).toBe(0);
  });
});
