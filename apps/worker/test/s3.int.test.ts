// import/s3 and export/s3 through the official node SDK against a real S3-compatible server
// (s3rver, behind a proxy that records what the SDK sent): single keys, prefixes, key
// placeholders, metadata, multipart, and failures told without secrets.
import { createHash } from 'node:crypto';
import net from 'node:net';

import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { ConvertdCloudConvert } from '@convertd/cloudconvert-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { api, freePort, startStack, type Stack } from '../../../test/harness';
import {
  S3_ACCESS_KEY_ID,
  S3_SECRET_ACCESS_KEY,
  startS3Server,
  type S3Server,
} from '../../../test/s3-server';
import { EXPORT_PART_SIZE } from '../src/operations/s3/export-s3';
import { byName, createJob, download, waitJob, waitTask, type Json } from './support';

let s3: S3Server;
let bucket: S3Client;
let stack: Stack;
let key: string;
let cc: ConvertdCloudConvert;

const BIG = Buffer.alloc(EXPORT_PART_SIZE * 2 + 4321);
for (let i = 0; i < BIG.length; i += 512) {
  BIG.writeUInt32LE(i, i);
}

beforeAll(async () => {
  s3 = await startS3Server();
  bucket = new S3Client({
    region: 'eu-central-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: S3_ACCESS_KEY_ID, secretAccessKey: S3_SECRET_ACCESS_KEY },
  });
  for (const name of ['source', 'target']) {
    await bucket.send(new CreateBucketCommand({ Bucket: name }));
  }
  const put = (k: string, body: string | Buffer, type?: string) =>
    bucket.send(new PutObjectCommand({ Bucket: 'source', Key: k, Body: body, ContentType: type }));
  await put('docs/report.txt', 'the report', 'text/plain');
  await put('batch/a.txt', 'first');
  await put('batch/b.txt', 'second');
  await put('batch/sub/c.txt', 'third');
  await put('batch/folder/', '');
  await put('big/blob.bin', BIG);

  // No engines: imports and exports run on the `io` queue of any worker.
  stack = await startStack({ workerOptions: { engines: [] } });
  key = (await stack.createUser()).key;
  cc = new ConvertdCloudConvert(key, { url: stack.url, syncUrl: stack.syncUrl });
});

afterAll(async () => {
  bucket?.destroy();
  await stack?.close();
  await s3?.close();
});

/** The connection fields of the test bucket, as a user would send them. */
function on(name: string, extra: Json = {}): Json {
  return {
    bucket: name,
    region: 'eu-central-1',
    endpoint: s3.endpoint,
    access_key_id: S3_ACCESS_KEY_ID,
    secret_access_key: S3_SECRET_ACCESS_KEY,
    ...extra,
  };
}

async function object(k: string) {
  const got = await bucket.send(new GetObjectCommand({ Bucket: 'target', Key: k }));
  return { got, body: Buffer.from(await got.Body!.transformToByteArray()) };
}

describe('import/s3', () => {
  it('imports one key under its own name or the filename asked, through the SDK', async () => {
    const job = await cc.jobs.create({
      tasks: {
        plain: { operation: 'import/s3', ...on('source', { key: 'docs/report.txt' }) },
        named: {
          operation: 'import/s3',
          ...on('source', { key: 'docs/report.txt', filename: 'renamed.txt' }),
        },
        out: { operation: 'export/url', input: ['plain', 'named'] },
      },
    } as never);
    const done = await cc.jobs.wait(job.id);
    expect(done.status).toBe('finished');
    const files = byName(done, 'out').result.files as Json[];
    expect(files.map((f) => f.filename)).toEqual(['report.txt', 'renamed.txt']);
    for (const f of files) {
      expect((await download(f.url)).toString()).toBe('the report');
    }
    const plain = byName(done, 'plain').result.files[0];
    expect(plain).toMatchObject({
      filename: 'report.txt',
      size: 10,
      md5: createHash('md5').update('the report').digest('hex'),
    });
  });

  it('imports every object under a key prefix as a file of the task, folders skipped', async () => {
    const task = await api(
      stack,
      key,
      'POST',
      '/v2/import/s3',
      on('source', { key_prefix: 'batch/' }),
    );
    expect(task.status).toBe(201);
    const done = await waitTask(stack, key, task.json.data.id);
    expect(done.status).toBe('finished');
    expect((done.result.files as Json[]).map((f) => [f.filename, f.size])).toEqual([
      ['a.txt', 5],
      ['b.txt', 6],
      ['c.txt', 5],
    ]);
  });
});

describe('import/s3 with a sandbox key', () => {
  const md5 = (text: string) => createHash('md5').update(text).digest('hex');

  it('imports only whitelisted objects, and an instant export lists them for free', async () => {
    const user = await stack.createUser({ sandbox: true, credits: 0 });
    const allow = async (text: string) =>
      expect(
        (await api(stack, user.key, 'POST', '/v2/users/me/sandbox/files', { md5: md5(text) }))
          .status,
      ).toBe(201);
    const tasks = {
      s3: { operation: 'import/s3', ...on('source', { key_prefix: 'batch/' }) },
      out: { operation: 'export/url', input: 's3' },
    };
    await allow('first');
    await allow('second');

    const refused = await waitJob(stack, user.key, (await createJob(stack, user.key, tasks)).id);
    expect(byName(refused, 's3')).toMatchObject({
      status: 'error',
      code: 'SANDBOX_FILE_NOT_ALLOWED',
      message: 'The file c.txt is not whitelisted for sandbox use',
    });
    expect(byName(refused, 'out')).toMatchObject({ status: 'error', code: 'INPUT_TASK_FAILED' });
    expect(
      await stack.deps.db.taskFile.count({ where: { taskId: byName(refused, 's3').id } }),
    ).toBe(0);

    await allow('third');
    const done = await waitJob(stack, user.key, (await createJob(stack, user.key, tasks)).id);
    expect(done.status).toBe('finished');
    expect(byName(done, 'out').result.files.map((f: Json) => f.filename)).toEqual([
      'a.txt',
      'b.txt',
      'c.txt',
    ]);
    expect(byName(done, 's3').credits).toBe(0);
    expect(byName(done, 'out').credits).toBe(0);
    expect((await download(byName(done, 'out').result.files[2].url)).toString()).toBe('third');
  });
});

describe('export/s3', () => {
  it('writes several files under a key with placeholders, with metadata, cache control and tags', async () => {
    const job = await cc.jobs.create({
      tasks: {
        in: { operation: 'import/s3', ...on('source', { key_prefix: 'batch/' }) },
        out: {
          operation: 'export/s3',
          input: 'in',
          ...on('target', {
            key: 'results/%s-%02d.txt',
            metadata: { origin: 'convertd', run: 7 },
            cache_control: 'max-age=60',
            tagging: { project: 'alpha' },
            // As the .NET SDK sends it (its enum's member name).
            acl: 'BucketOwnerFullControl',
          }),
        },
      },
    } as never);
    const done = await cc.jobs.wait(job.id);
    expect(done.status).toBe('finished');
    const keys = ['results/a.txt-01.txt', 'results/b.txt-02.txt', 'results/c.txt-03.txt'];
    expect((byName(done, 'out').result.files as Json[]).map((f) => f.key)).toEqual(keys);
    const first = await object(keys[0]!);
    expect(first.body.toString()).toBe('first');
    expect(first.got.Metadata).toEqual({ origin: 'convertd', run: '7' });
    expect(first.got.CacheControl).toBe('max-age=60');
    expect(first.got.ContentType).toBe('text/plain; charset=utf-8');
    expect((await object(keys[2]!)).body.toString()).toBe('third');
    // s3rver keeps neither tags nor ACLs: what the SDK sent is checked instead.
    const puts = s3.requests.filter((r) => r.line.startsWith('PUT /target/results/'));
    expect(puts).toHaveLength(3);
    for (const put of puts) {
      expect(put.headers['x-amz-tagging']).toBe('project=alpha');
      expect(put.headers['x-amz-acl']).toBe('bucket-owner-full-control');
    }
  });

  it('numbers a plain key per file and puts key_prefix before each file name', async () => {
    const numbered = await runExport({ key: 'plain/out.txt' });
    expect(numbered.status).toBe('finished');
    expect((numbered.result.files as Json[]).map((f) => f.key)).toEqual([
      'plain/out-1.txt',
      'plain/out-2.txt',
      'plain/out-3.txt',
    ]);
    const prefixed = await runExport({ key_prefix: 'pre/' });
    expect((prefixed.result.files as Json[]).map((f) => f.key)).toEqual([
      'pre/a.txt',
      'pre/b.txt',
      'pre/c.txt',
    ]);
    const listed = await bucket.send(
      new ListObjectsV2Command({ Bucket: 'target', Prefix: 'pre/' }),
    );
    expect(listed.Contents?.map((o) => o.Key)).toEqual(['pre/a.txt', 'pre/b.txt', 'pre/c.txt']);
  });

  it('sends a file larger than the part size in parts, intact', async () => {
    const before = s3.requests.length;
    const job = await cc.jobs.create({
      tasks: {
        in: { operation: 'import/s3', ...on('source', { key: 'big/blob.bin' }) },
        out: { operation: 'export/s3', input: 'in', ...on('target', { key: 'copies/blob.bin' }) },
      },
    } as never);
    const done = await cc.jobs.wait(job.id);
    expect(done.status).toBe('finished');
    const sent = s3.requests
      .slice(before)
      .map((r) => r.line)
      .filter((r) => r.startsWith('PUT /target/copies/blob.bin'));
    // Three parts of a multipart upload, not one PUT of the whole file.
    expect(sent.filter((r) => /[?&]partNumber=\d+/.test(r))).toHaveLength(3);
    const head = await bucket.send(
      new HeadObjectCommand({ Bucket: 'target', Key: 'copies/blob.bin' }),
    );
    expect(head.ContentLength).toBe(BIG.length);
    const copy = (await object('copies/blob.bin')).body;
    expect(createHash('md5').update(copy).digest('hex')).toBe(
      createHash('md5').update(BIG).digest('hex'),
    );
  });
});

describe('failures', () => {
  const SECRET = 'wJalrXUtnFEMI-very-secret-value';

  it('says the bucket does not exist', async () => {
    const failed = await runImport(on('no-such-bucket', { key: 'x.txt' }));
    expect(failed).toMatchObject({
      code: 'IMPORT_FAILED',
      message: 'The bucket no-such-bucket does not exist.',
    });
  });

  it('says the key does not exist', async () => {
    const failed = await runImport(on('source', { key: 'docs/missing.txt' }));
    expect(failed).toMatchObject({
      code: 'IMPORT_FAILED',
      message: 'The key docs/missing.txt does not exist in the bucket source.',
    });
  });

  it('says an empty prefix matched nothing', async () => {
    const failed = await runImport(on('source', { key_prefix: 'nothing/' }));
    expect(failed.message).toBe(
      'No object of the bucket source starts with the key prefix "nothing/".',
    );
  });

  it('refuses wrong credentials without repeating them', async () => {
    const failed = await runImport(
      on('source', {
        key: 'docs/report.txt',
        access_key_id: 'AKIAWRONGKEY',
        secret_access_key: SECRET,
      }),
    );
    expect(failed).toMatchObject({
      code: 'IMPORT_FAILED',
      message: 'The S3 service does not know the access key id.',
    });
    const shown = JSON.stringify(failed);
    expect(shown).not.toContain(SECRET);
    expect(shown).not.toContain('AKIAWRONGKEY');
  });

  it('says an unreachable host refused the connection', async () => {
    const closed = await freePort();
    const failed = await runImport(
      on('source', { key: 'docs/report.txt', endpoint: `http://127.0.0.1:${closed}` }),
    );
    expect(failed).toMatchObject({
      code: 'IMPORT_FAILED',
      message: 'The S3 endpoint 127.0.0.1 refused the connection.',
    });
  });

  it('ends at the task deadline when the endpoint accepts but never answers', async () => {
    const silent = net.createServer(() => undefined);
    const port = await freePort();
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
    try {
      const task = await api(
        stack,
        key,
        'POST',
        '/v2/import/s3',
        on('source', { key: 'docs/report.txt', endpoint: `http://127.0.0.1:${port}`, timeout: 2 }),
      );
      const failed = await waitTask(stack, key, task.json.data.id);
      expect(failed).toMatchObject({ status: 'error', code: 'ENGINE_TIMEOUT' });
    } finally {
      silent.close();
    }
  });

  it('fails an export to a missing bucket with EXPORT_FAILED', async () => {
    const imported = await api(stack, key, 'POST', '/v2/import/raw', {
      file: 'x',
      filename: 'x.txt',
    });
    await waitTask(stack, key, imported.json.data.id);
    const task = await api(stack, key, 'POST', '/v2/export/s3', {
      input: imported.json.data.id,
      ...on('missing-target', { key: 'x.txt', secret_access_key: SECRET }),
    });
    expect(task.status).toBe(201);
    const failed = await waitTask(stack, key, task.json.data.id);
    expect(failed).toMatchObject({
      code: 'EXPORT_FAILED',
      message: 'The bucket missing-target does not exist.',
    });
    expect(JSON.stringify(failed)).not.toContain(SECRET);
  });

  it('checks the endpoint against the outbound policy', async () => {
    const strict = await startStack({
      workerOptions: { engines: [] },
      env: { CONVERTD_ALLOW_PRIVATE_URLS: 'false' },
    });
    try {
      const user = await strict.createUser();
      const task = await api(
        strict,
        user.key,
        'POST',
        '/v2/import/s3',
        on('source', { key: 'docs/report.txt' }),
      );
      const failed = await waitTask(strict, user.key, task.json.data.id);
      expect(failed.code).toBe('URL_NOT_ALLOWED');
    } finally {
      await strict.close();
    }
  });
});

describe('validation at creation', () => {
  it('takes fake credentials (checked when the task runs) and names each bad field', async () => {
    const fakeImport = await api(stack, key, 'POST', '/v2/import/s3', {
      bucket: 'b',
      region: 'us-east-1',
      access_key_id: 'fake',
      secret_access_key: 'fake',
      key: 'in.pdf',
    });
    expect(fakeImport.status).toBe(201);
    const upload = await api(stack, key, 'POST', '/v2/import/upload');
    const faked = await api(stack, key, 'POST', '/v2/export/s3', {
      input: upload.json.data.id,
      bucket: 'b',
      region: 'us-east-1',
      access_key_id: 'fake',
      secret_access_key: 'fake',
      key: 'out.pdf',
    });
    expect(faked.status).toBe(201);
    expect(faked.json.data.status).toBe('waiting');

    const bad = await api(stack, key, 'POST', '/v2/jobs', {
      tasks: {
        in: { operation: 'import/s3', region: 'x', access_key_id: 'a', secret_access_key: 's' },
        out: {
          operation: 'export/s3',
          input: 'in',
          ...on('b', {
            key: 'k',
            key_prefix: 'p/',
            acl: 'everyone',
            metadata: { a: { b: 1 } },
            endpoint: 'ftp://x',
          }),
        },
      },
    });
    expect(bad.status).toBe(422);
    expect(bad.json.code).toBe('INVALID_DATA');
    expect(Object.keys(bad.json.errors).sort()).toEqual([
      'tasks.in.bucket',
      'tasks.in.key',
      'tasks.out.acl',
      'tasks.out.endpoint',
      'tasks.out.key_prefix',
      'tasks.out.metadata',
    ]);
  });
});

async function runImport(fields: Json): Promise<Json> {
  const task = await api(stack, key, 'POST', '/v2/import/s3', fields);
  expect(task.status).toBe(201);
  const done = await waitTask(stack, key, task.json.data.id);
  expect(done.status).toBe('error');
  return done;
}

async function runExport(keyFields: Json): Promise<Json> {
  const job = await cc.jobs.create({
    tasks: {
      in: { operation: 'import/s3', ...on('source', { key_prefix: 'batch/' }) },
      out: { operation: 'export/s3', input: 'in', ...on('target', keyFields) },
    },
  } as never);
  const done = await cc.jobs.wait(job.id);
  return byName(done, 'out');
}
