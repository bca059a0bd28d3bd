// Edge cases found by trying convertd as a new user would: URLs that expire, long names,
// malformed requests and values the database cannot hold.
import net from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { api, eventually, startStack, type Stack } from '../../../test/harness';

let stack: Stack;
let key: string;

beforeAll(async () => {
  stack = await startStack({ env: { SIGNED_URL_TTL: '1', UPLOAD_IDLE_MS: '1500' } });
  key = (await stack.createUser()).key;
});

afterAll(async () => {
  await stack?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function upload(url: string, name: string, content: string) {
  const body = new FormData();
  body.append('file', new Blob([content]), name);
  return fetch(url, { method: 'POST', body });
}

describe('signed URLs', () => {
  it('are signed afresh each time a task is shown, so an expired form can be fetched again', async () => {
    const created = await api(stack, key, 'POST', '/v2/import/upload');
    const stale: string = created.json.data.result.form.url;
    await sleep(2100);
    const refused = await upload(stale, 'late.txt', 'too late');
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'INVALID_SIGNATURE' });

    const again = await api(stack, key, 'GET', `/v2/tasks/${created.json.data.id}`);
    const fresh: string = again.json.data.result.form.url;
    expect(fresh).not.toBe(stale);
    expect((await upload(fresh, 'late.txt', 'in time')).status).toBe(201);
  });

  it('keep export downloads reachable, long file names included', async () => {
    const name = `${'Långt_filnamn_med_svenska_bokstäver_'.repeat(6)}slut.txt`;
    expect(name.length).toBeGreaterThan(200);
    const job = await api(stack, key, 'POST', '/v2/jobs', {
      tasks: {
        in: { operation: 'import/raw', file: 'long name, short content', filename: name },
        out: { operation: 'export/url', input: 'in' },
      },
    });
    const show = () => api(stack, key, 'GET', `/v2/jobs/${job.json.data.id}`);
    const finished = await eventually(async () => {
      const current = await show();
      return current.json.data.status === 'finished' ? current.json.data : null;
    });
    const first = finished.tasks.find((t: { name: string }) => t.name === 'out').result.files[0];
    expect(first.filename).toBe(name);
    const download = await fetch(first.url);
    expect(download.status).toBe(200);
    expect(await download.text()).toBe('long name, short content');

    await sleep(2100);
    expect((await fetch(first.url)).status).toBe(403);
    const later = (await show()).json.data.tasks.find((t: { name: string }) => t.name === 'out')
      .result.files[0];
    expect((await fetch(later.url)).status).toBe(200);
  });
});

describe('malformed requests', () => {
  it('answer a malformed URL with a JSON error', async () => {
    const res = await api(stack, key, 'GET', '/v2/jobs/%zz');
    expect(res.status).toBe(400);
    expect(res.json.code).toBe('BAD_REQUEST');
  });

  it('answer oversized headers with a JSON 431', async () => {
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(new URL(stack.url).port), '127.0.0.1', () => {
        socket.write(
          `GET /v2/users/me HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        );
      });
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(raw).toContain('Content-Type: application/json');
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toEqual({
      message: 'Request Header Fields Too Large',
      code: 'HEADERS_TOO_LARGE',
    });
  });

  it('refuse NUL characters and absurd pages with 422 instead of failing in the database', async () => {
    const tag = await api(stack, key, 'POST', '/v2/jobs', {
      tag: 'a\u0000b',
      tasks: { in: { operation: 'import/upload' } },
    });
    expect(tag.status).toBe(422);
    expect(Object.keys(tag.json.errors)).toEqual(['tag']);
    for (const route of [
      '/v2/jobs?filter[tag]=a%00b',
      '/v2/tasks?filter[operation]=a%00b',
      '/v2/jobs?page=99999999999999999999',
    ]) {
      const res = await api(stack, key, 'GET', route);
      expect(res.status).toBe(422);
      expect(res.json.code).toBe('INVALID_DATA');
    }
    const huge = await api(stack, key, 'POST', '/v2/jobs', {
      tag: 'x'.repeat(1001),
      tasks: { in: { operation: 'import/upload' } },
    });
    expect(huge.status).toBe(422);
    expect(huge.json.errors.tag).toEqual(['The tag may not be greater than 1000 characters.']);
  });
});

describe('creating a job on the sync API', () => {
  const tasks = {
    in: { operation: 'import/raw', file: 'made and waited for', filename: 'sync.txt' },
    out: { operation: 'export/url', input: 'in' },
  };

  it('waits until the job ends', async () => {
    const res = await fetch(`${stack.syncUrl}/v2/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tasks }),
    });
    expect(res.status).toBe(201);
    const job = ((await res.json()) as { data: { status: string; links: { self: string } } }).data;
    expect(job.status).toBe('finished');
    expect(job.links.self.startsWith(stack.url)).toBe(true);
  });

  it('redirects to the first exported file when asked', async () => {
    const res = await fetch(`${stack.syncUrl}/v2/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tasks, redirect: true }),
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    const location = res.headers.get('location')!;
    expect(location).toMatch(new RegExp(`^${stack.url}/download/`));
    expect(await (await fetch(location)).text()).toBe('made and waited for');
  });

  it('does not wait on the main API', async () => {
    const res = await api(stack, key, 'POST', '/v2/jobs', {
      tasks: { up: { operation: 'import/upload' } },
    });
    expect(res.status).toBe(201);
    expect(res.json.data.status).toBe('waiting');
    expect(res.json.data.tasks[0].message).toBe('Waiting for file upload');
  });
});

describe('import/upload with redirect', () => {
  it('sends a browser form upload on to the redirect URL', async () => {
    const created = await api(stack, key, 'POST', '/v2/import/upload', {
      redirect: 'https://app.example/done?x=1',
    });
    const body = new FormData();
    body.append('file', new Blob(['from a browser form']), 'form.txt');
    const res = await fetch(created.json.data.result.form.url, {
      method: 'POST',
      body,
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('https://app.example/done?x=1');
    const task = await api(stack, key, 'GET', `/v2/tasks/${created.json.data.id}`);
    expect(task.json.data.status).toBe('finished');

    const bad = await api(stack, key, 'POST', '/v2/import/upload', {
      redirect: 'javascript:alert(1)',
    });
    expect(bad.status).toBe(422);
    expect(Object.keys(bad.json.errors)).toEqual(['redirect']);
  });
});

describe('found in review', () => {
  it('fails tasks outside a job that wait on it when the job is deleted', async () => {
    const job = await api(stack, key, 'POST', '/v2/jobs', {
      tasks: { up: { operation: 'import/upload' } },
    });
    const upload = job.json.data.tasks[0].id;
    const outside = await api(stack, key, 'POST', '/v2/export/url', { input: upload });
    expect(outside.json.data.status).toBe('waiting');

    expect((await api(stack, key, 'DELETE', `/v2/jobs/${job.json.data.id}`)).status).toBe(204);
    const after = await api(stack, key, 'GET', `/v2/tasks/${outside.json.data.id}`);
    expect(after.json.data).toMatchObject({ status: 'error', code: 'INPUT_TASK_FAILED' });
  });

  it('takes an engine_version by whole version parts, and refuses one that names no served version', async () => {
    const version = stack.worker!.context.engines.get('libreoffice')!.version;
    const [major = ''] = version.split('.');
    const job = (engine_version: string) =>
      api(stack, key, 'POST', '/v2/jobs', {
        tasks: {
          in: { operation: 'import/raw', file: 'x', filename: 'x.txt' },
          c: { operation: 'convert', input: 'in', output_format: 'pdf', engine_version },
        },
      });
    // Every worker consumes a queue per version prefix: `7`, `7.4`, `7.4.7`, `7.4.7.2`.
    expect((await job(major)).status).toBe(201);
    for (const wrong of [`${major}9`, `${version}.1`, `${major}.`]) {
      const res = await job(wrong);
      expect(res.status).toBe(422);
      expect(Object.keys(res.json.errors)).toEqual(['tasks.c.engine_version']);
    }
  });

  it('answers 404 for a DELETE of an id that only looks like a UUID', async () => {
    for (const id of ['a'.repeat(36), '-'.repeat(36)]) {
      const res = await api(stack, key, 'DELETE', `/v2/jobs/${id}`);
      expect(res.status).toBe(404);
      expect(res.json.code).toBe('NOT_FOUND');
    }
  });

  it('does not keep a part Content-Type that cannot be sent back as a header', async () => {
    const created = await api(stack, key, 'POST', '/v2/jobs', {
      tasks: { up: { operation: 'import/upload' }, out: { operation: 'export/url', input: 'up' } },
    });
    const form = created.json.data.tasks.find((t: { name: string }) => t.name === 'up').result.form;
    const boundary = 'b0undary';
    const body = Buffer.from(
      `--${boundary}\r\ncontent-disposition:form-data;name="file";filename=snow.txt\r\n` +
        `content-type:text/plain; x=\u2603\r\n\r\nlet it snow\r\n--${boundary}--\r\n`,
    );
    const res = await fetch(form.url, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
    });
    expect(res.status).toBe(201);
    const done = await eventually(async () => {
      const job = await api(stack, key, 'GET', `/v2/jobs/${created.json.data.id}`);
      return job.json.data.status === 'finished' ? job.json.data : null;
    });
    const file = done.tasks.find((t: { name: string }) => t.name === 'out').result.files[0];
    const download = await fetch(file.url);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await download.text()).toBe('let it snow');
  });

  it('drops an upload that stops sending, and the task waits for a new one', async () => {
    const created = await api(stack, key, 'POST', '/v2/import/upload');
    const url = new URL(created.json.data.result.form.url);
    const socket = net.connect(Number(url.port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      `POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n` +
        `Content-Length: 100000\r\n\r\n--b\r\ncontent-disposition:form-data;name="file";filename=a.txt\r\n\r\nsome bytes`,
    );
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await eventually(
      async () =>
        (await api(stack, key, 'GET', `/v2/tasks/${created.json.data.id}`)).json.data.status ===
        'processing',
    );

    await closed;
    const task = await eventually(async () => {
      const res = await api(stack, key, 'GET', `/v2/tasks/${created.json.data.id}`);
      return res.json.data.status === 'waiting' ? res.json.data : null;
    });
    expect(task.result.form.url).toMatch(/\/upload\//);
  });
});

describe('names that try to be paths', () => {
  it('keep only the last segment of a file name and refuse path-like formats', async () => {
    const job = await api(stack, key, 'POST', '/v2/jobs', {
      tasks: {
        in: { operation: 'import/raw', file: 'not a password file', filename: '../../etc/passwd' },
        win: { operation: 'import/raw', file: 'nor this', filename: 'C:\\Windows\\..\\evil.txt' },
        out: { operation: 'export/url', input: ['in', 'win'] },
      },
    });
    const done = await eventually(async () => {
      const res = await api(stack, key, 'GET', `/v2/jobs/${job.json.data.id}`);
      return res.json.data.status === 'finished' ? res.json.data : null;
    });
    const files = done.tasks.find((t: { name: string }) => t.name === 'out').result.files;
    expect(files.map((f: { filename: string }) => f.filename)).toEqual(['passwd', 'evil.txt']);
    for (const file of files) {
      expect(file.url).toMatch(new RegExp(`^${stack.url}/download/[0-9a-f-]{36}/[0-9a-f-]{36}/`));
    }

    for (const format of ['../pdf', 'pdf/../../x', '..', 'a\\b']) {
      const res = await api(stack, key, 'POST', '/v2/jobs', {
        tasks: {
          in: { operation: 'import/raw', file: 'x', filename: 'x.txt' },
          c: { operation: 'convert', input: 'in', output_format: format },
        },
      });
      expect(res.status).toBe(422);
      expect(Object.keys(res.json.errors)).toEqual(['tasks.c.output_format']);
    }
  });
});

describe('found in the second trial', () => {
  it('refuses deeply nested payloads with 422 instead of overflowing the stack', async () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 3000; i += 1) {
      deep = [deep];
    }
    const alone = await api(stack, key, 'POST', '/v2/import/raw', {
      file: 'x',
      filename: 'x.txt',
      extra: deep,
    });
    expect(alone.status).toBe(422);
    expect(alone.json.errors.extra[0]).toMatch(/nested more than 32 levels/);
    const inJob = await api(stack, key, 'POST', '/v2/jobs', {
      tasks: { in: { operation: 'import/raw', file: 'x', filename: 'x.txt', extra: deep } },
    });
    expect(inJob.status).toBe(422);
  });

  it('shortens names over 255 bytes in the stem and keeps the extension', async () => {
    const job = await api(stack, key, 'POST', '/v2/jobs', {
      tasks: { in: { operation: 'import/raw', file: 'x', filename: `${'é'.repeat(300)}.docx` } },
    });
    const done = await eventually(async () => {
      const res = await api(stack, key, 'GET', `/v2/jobs/${job.json.data.id}`);
      return res.json.data.status === 'finished' ? res.json.data : null;
    });
    const name: string = done.tasks[0].result.files[0].filename;
    expect(name.endsWith('.docx')).toBe(true);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
    expect(name.startsWith('éééé')).toBe(true);
  });

  it('takes numbers sent as strings, and wants a boolean redirect', async () => {
    const ok = await api(stack, key, 'POST', '/v2/import/raw', {
      file: 'x',
      filename: 'x.txt',
      timeout: '10',
    });
    expect(ok.status).toBe(201);
    const bad = await api(stack, key, 'POST', '/v2/import/raw', {
      file: 'x',
      filename: 'x.txt',
      timeout: 'ten',
    });
    expect(bad.status).toBe(422);
    const redirect = await api(stack, key, 'POST', '/v2/jobs', {
      redirect: 'yes',
      tasks: { up: { operation: 'import/upload' } },
    });
    expect(redirect.status).toBe(422);
    expect(Object.keys(redirect.json.errors)).toEqual(['redirect']);
  });
});
