// import/azure/blob and export/azure/blob through the official node SDK against Azurite (its
// blob service, in memory, on a free port), using the `endpoint` extension.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  BlobServiceClient,
  ContainerSASPermissions,
  StorageSharedKeyCredential,
  type ContainerClient,
} from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { api, freePort } from '../../../test/harness';
import { byName, createJob, expectFinished, sdkStack, taskOf, waitJob } from './support';
import { readAll, spawnServer, type ChildServer } from './storage-support';

// Azurite's documented development account.
const ACCOUNT = 'devstoreaccount1';
const KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const AZURITE = path.resolve(import.meta.dirname, '../../../node_modules/.bin/azurite-blob');

const sdk = sdkStack('azure');
let azurite: ChildServer;
let endpoint: string;
let container: ContainerClient;
let workspace: string;

beforeAll(async () => {
  const port = await freePort();
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'convertd-azurite-'));
  azurite = await spawnServer(
    AZURITE,
    [
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(port),
      '--inMemoryPersistence',
      '--silent',
      '--disableTelemetry',
      '--skipApiVersionCheck',
    ],
    port,
    workspace,
  );
  endpoint = `http://127.0.0.1:${port}/${ACCOUNT}`;
  const service = new BlobServiceClient(endpoint, new StorageSharedKeyCredential(ACCOUNT, KEY));
  container = service.getContainerClient('files');
  await container.create();
  await put('in/report.txt', 'quarterly report\n');
  await put('batch/a.txt', 'first');
  await put('batch/b.txt', 'second');
  await put('other/c.txt', 'not in the batch');
});

afterAll(async () => {
  await azurite?.stop();
  fs.rmSync(workspace, { recursive: true, force: true });
});

async function put(name: string, content: string): Promise<void> {
  await container.getBlockBlobClient(name).upload(content, Buffer.byteLength(content));
}

async function get(name: string): Promise<string> {
  const res = await container.getBlobClient(name).download();
  return (await readAll(res.readableStreamBody!)).toString();
}

const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

const account = () => ({
  storage_account: ACCOUNT,
  storage_access_key: KEY,
  container: 'files',
  endpoint,
});

describe('Azure Blob Storage through the official SDK', () => {
  it('imports a blob, converts nothing, and exports it under a new name', async () => {
    const job = await sdk.runJob({
      in: { operation: 'import/azure/blob', ...account(), blob: 'in/report.txt' },
      out: {
        operation: 'export/azure/blob',
        input: 'in',
        ...account(),
        blob: 'out/copy.txt',
        metadata: { origin: 'convertd' },
      },
    });

    expectFinished(job);
    expect(taskOf(job, 'in').result?.files).toEqual([
      expect.objectContaining({ filename: 'report.txt', size: 17 }),
    ]);
    expect(await get('out/copy.txt')).toBe('quarterly report\n');
    const props = await container.getBlobClient('out/copy.txt').getProperties();
    expect(props.metadata).toEqual({ origin: 'convertd' });
  });

  it('imports every blob under a prefix and exports them with a SAS token under a prefix', async () => {
    const sas = await container.generateSasUrl({
      permissions: ContainerSASPermissions.parse('rcwl'),
      expiresOn: new Date(Date.now() + 3_600_000),
    });
    const token = new URL(sas).search;
    const { storage_access_key: _key, ...bySas } = { ...account(), sas_token: token };

    const job = await sdk.runJob({
      in: { operation: 'import/azure/blob', ...bySas, blob_prefix: 'batch/' },
      out: { operation: 'export/azure/blob', input: 'in', ...bySas, blob_prefix: 'copies/' },
    });

    expectFinished(job);
    expect(taskOf(job, 'in').result?.files?.map((f) => f.filename)).toEqual(['a.txt', 'b.txt']);
    expect([await get('copies/a.txt'), await get('copies/b.txt')]).toEqual(['first', 'second']);
  });

  it('checks a sandbox key’s blob import against the whitelist', async () => {
    const user = await sdk.stack.createUser({ sandbox: true, credits: 0 });
    const tasks = {
      in: { operation: 'import/azure/blob', ...account(), blob: 'in/report.txt' },
      out: { operation: 'export/url', input: 'in' },
    };
    const refused = await waitJob(
      sdk.stack,
      user.key,
      (await createJob(sdk.stack, user.key, tasks)).id,
    );
    expect(byName(refused, 'in')).toMatchObject({
      code: 'SANDBOX_FILE_NOT_ALLOWED',
      result: { files: [{ filename: 'report.txt', md5: md5(Buffer.from('quarterly report\n')) }] },
    });

    const allowed = await api(sdk.stack, user.key, 'POST', '/v2/users/me/sandbox/files', {
      md5: md5(Buffer.from('quarterly report\n')),
    });
    expect(allowed.status).toBe(201);
    const done = await waitJob(
      sdk.stack,
      user.key,
      (await createJob(sdk.stack, user.key, tasks)).id,
    );
    expect(done.status).toBe('finished');
    expect(byName(done, 'out').result.files[0].filename).toBe('report.txt');
  });

  it('streams a 9 MB blob in and out (several upload blocks)', async () => {
    const big = randomBytes(9 * 1024 * 1024);
    await container.getBlockBlobClient('big/data.bin').uploadData(big);

    const job = await sdk.runJob({
      in: { operation: 'import/azure/blob', ...account(), blob: 'big/data.bin' },
      out: { operation: 'export/azure/blob', input: 'in', ...account(), blob: 'big/copy.bin' },
    });

    expectFinished(job);
    const copy = await readAll(
      (await container.getBlobClient('big/copy.bin').download()).readableStreamBody!,
    );
    expect(md5(copy)).toBe(md5(big));
    const blocks = await container.getBlockBlobClient('big/copy.bin').getBlockList('committed');
    expect(blocks.committedBlocks?.length).toBeGreaterThan(1);
  });

  it('numbers several exported files with the placeholder of blob', async () => {
    const job = await sdk.runJob({
      in: { operation: 'import/azure/blob', ...account(), blob_prefix: 'batch/' },
      out: {
        operation: 'export/azure/blob',
        input: 'in',
        ...account(),
        blob: 'numbered/part-%02d.txt',
      },
    });

    expectFinished(job);
    expect([await get('numbered/part-01.txt'), await get('numbered/part-02.txt')]).toEqual([
      'first',
      'second',
    ]);
  });
});

describe('Azure Blob Storage failures', () => {
  const failing = async (task: Record<string, unknown>) => {
    const created = await createJob(sdk.stack, sdk.key, { t: task });
    return byName(await waitJob(sdk.stack, sdk.key, created.id), 't');
  };

  it('names a missing blob', async () => {
    const task = await failing({
      operation: 'import/azure/blob',
      ...account(),
      blob: 'in/nothing.txt',
    });
    expect(task).toMatchObject({ status: 'error', code: 'IMPORT_FAILED' });
    expect(task.message).toBe('The blob "in/nothing.txt" does not exist.');
  });

  it('names a missing container', async () => {
    const task = await failing({
      operation: 'import/azure/blob',
      ...account(),
      container: 'nope',
      blob_prefix: 'x',
    });
    expect(task).toMatchObject({ status: 'error', code: 'IMPORT_FAILED' });
    expect(task.message).toBe('The Azure container does not exist.');
  });

  it('says authentication failed for a wrong key, without the key', async () => {
    const wrong = Buffer.from('not the key of this account at all').toString('base64');
    const task = await failing({
      operation: 'import/azure/blob',
      ...account(),
      storage_access_key: wrong,
      blob: 'in/report.txt',
    });
    expect(task).toMatchObject({ status: 'error', code: 'IMPORT_FAILED' });
    expect(task.message).toMatch(/authentication failed|denied access/);
    expect(task.message).not.toContain(wrong);
  });

  it('says the host refused the connection when nothing listens there', async () => {
    const port = await freePort();
    const task = await failing({
      operation: 'import/azure/blob',
      ...account(),
      endpoint: `http://127.0.0.1:${port}/${ACCOUNT}`,
      blob: 'in/report.txt',
    });
    expect(task).toMatchObject({ status: 'error', code: 'IMPORT_FAILED' });
    expect(task.message).toBe('Azure Blob Storage refused the connection (ECONNREFUSED).');
  });
});

describe('Azure Blob Storage fields at creation', () => {
  it('accepts made-up credentials (they are only tried when the task runs)', async () => {
    const res = await api(sdk.stack, sdk.key, 'POST', '/v2/import/azure/blob', {
      storage_account: 'someaccount',
      storage_access_key: 'c2VjcmV0',
      container: 'box',
      blob: 'file.pdf',
    });
    expect(res.status).toBe(201);
    expect(res.json.data.operation).toBe('import/azure/blob');
  });

  it('refuses a task without account, credentials or blob, naming each field', async () => {
    const res = await api(sdk.stack, sdk.key, 'POST', '/v2/import/azure/blob', {
      container: 'box',
    });
    expect(res.status).toBe(422);
    expect(res.json.code).toBe('INVALID_DATA');
    expect(Object.keys(res.json.errors).sort()).toEqual([
      'blob',
      'storage_access_key',
      'storage_account',
    ]);
  });

  it('refuses an export without input and with a bad endpoint', async () => {
    const res = await api(sdk.stack, sdk.key, 'POST', '/v2/export/azure/blob', {
      ...account(),
      endpoint: 'ftp://example.com',
    });
    expect(res.status).toBe(422);
    expect(Object.keys(res.json.errors).sort()).toEqual(['endpoint', 'input']);
  });
});
