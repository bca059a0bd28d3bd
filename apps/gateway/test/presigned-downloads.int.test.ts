// S3_PRESIGNED_DOWNLOADS on STORAGE_DRIVER=s3: export URLs stay ours and answer with a redirect
// to a presigned URL of the bucket, which serves the file under the user's name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { api, eventually, startStack, type Stack } from '../../../test/harness';

let stack: Stack;
let key: string;

beforeAll(async () => {
  stack = await startStack({
    storage: 's3',
    workerOptions: { engines: [] },
    env: { S3_PRESIGNED_DOWNLOADS: 'true' },
  });
  key = (await stack.createUser()).key;
});

afterAll(async () => {
  await stack?.close();
});

describe('presigned downloads', () => {
  it('redirects a GET of an export URL to the bucket; HEAD is still answered by us', async () => {
    const created = await api(stack, key, 'POST', '/v2/jobs', {
      tasks: {
        raw: { operation: 'import/raw', file: 'from the bucket', filename: 'Bericht März.txt' },
        out: { operation: 'export/url', input: 'raw' },
      },
    });
    expect(created.status).toBe(201);
    const job = await eventually(async () => {
      const res = await api(stack, key, 'GET', `/v2/jobs/${created.json.data.id}`);
      return res.json.data.status === 'finished' ? res.json.data : null;
    });
    const url = job.tasks.find((t: { name: string }) => t.name === 'out').result.files[0].url;
    expect(url.startsWith(`${stack.url}/download/`)).toBe(true);

    const redirect = await fetch(url, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get('location')!;
    expect(location.startsWith(`${stack.s3!.endpoint}/${stack.env.S3_BUCKET}/tasks/`)).toBe(true);
    expect(location).toContain('X-Amz-Signature=');

    const followed = await fetch(url);
    expect(followed.status).toBe(200);
    expect(await followed.text()).toBe('from the bucket');
    expect(followed.headers.get('content-disposition')).toContain(
      "filename*=UTF-8''Bericht%20M%C3%A4rz.txt",
    );

    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('15');

    const forged = await fetch(url.replace(/signature=[0-9a-f]+/, 'signature=00'), {
      redirect: 'manual',
    });
    expect(forged.status).toBe(403);
  });
});
