// import/openstack and export/openstack through the official node SDK. No Keystone or Swift
// installs here, so the test serves a stand-in on 127.0.0.1: Keystone v3 and v2.0 password auth
// that checks the credentials it is sent and answers a catalogue with two regions, and a Swift
// that checks the token on every call and keeps objects in memory. It proves what our client
// sends and how it reads the answers, not compatibility with every real deployment.
import { randomUUID } from 'node:crypto';
import type http from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { api, eventually } from '../../../test/harness';
import {
  byName,
  createJob,
  expectFinished,
  sdkStack,
  startServer,
  taskOf,
  waitJob,
  waitStatus,
  waitTask,
  type TestServer,
} from './support';
import { readAll } from './storage-support';

const USER = 'demo';
const PASSWORD = 'demo-password';
const PROJECT = 'demo-project';

const sdk = sdkStack('openstack');
let server: TestServer;
const tokens = new Set<string>();
/** Objects by `<region>/<container>/<name>`. */
const objects = new Map<string, Buffer>();
const authBodies: unknown[] = [];

beforeAll(async () => {
  server = await startServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });
  objects.set('RegionTwo/files/in/report.txt', Buffer.from('swift report\n'));
  objects.set('RegionTwo/files/batch/a.txt', Buffer.from('first'));
  objects.set('RegionTwo/files/batch/b.txt', Buffer.from('second'));
  objects.set('RegionTwo/files/batch/', Buffer.alloc(0));
  objects.set('RegionOne/files/in/report.txt', Buffer.from('wrong region'));
});

afterAll(async () => {
  await server?.close();
});

async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', server.origin);
  const body = await readAll(req);
  const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(value));
  };
  const catalogue = (region: string) => `${server.origin}/swift/${region}/v1/AUTH_demo`;

  if (url.pathname.startsWith('/hang/')) {
    return; // never answers: the task's deadline has to end the call
  }
  if (req.method === 'POST' && url.pathname === '/identity/v3/auth/tokens') {
    const sent = JSON.parse(body.toString());
    authBodies.push(sent);
    const user = sent.auth?.identity?.password?.user;
    const ok =
      sent.auth?.identity?.methods?.[0] === 'password' &&
      user?.name === USER &&
      user?.password === PASSWORD &&
      user?.domain?.name === 'Default' &&
      sent.auth?.scope?.project?.name === PROJECT;
    if (!ok) {
      json(401, { error: { code: 401, title: 'Unauthorized' } });
      return;
    }
    const token = randomUUID();
    tokens.add(token);
    const endpoints = ['RegionOne', 'RegionTwo'].flatMap((region) => [
      { interface: 'public', region_id: region, region, url: catalogue(region) },
      {
        interface: 'internal',
        region_id: region,
        region,
        url: 'http://10.0.0.1:8080/v1/AUTH_demo',
      },
    ]);
    json(
      201,
      {
        token: {
          catalog: [
            { type: 'identity', endpoints: [] },
            { type: 'object-store', endpoints },
          ],
        },
      },
      {
        'x-subject-token': token,
      },
    );
    return;
  }
  if (req.method === 'POST' && url.pathname === '/identity/v2.0/tokens') {
    const sent = JSON.parse(body.toString());
    const creds = sent.auth?.passwordCredentials;
    if (
      creds?.username !== USER ||
      creds?.password !== PASSWORD ||
      sent.auth?.tenantName !== PROJECT
    ) {
      json(401, { error: { code: 401 } });
      return;
    }
    const token = randomUUID();
    tokens.add(token);
    json(200, {
      access: {
        token: { id: token },
        serviceCatalog: [
          {
            type: 'object-store',
            endpoints: [{ region: 'RegionTwo', publicURL: catalogue('RegionTwo') }],
          },
        ],
      },
    });
    return;
  }

  const swift = /^\/swift\/([^/]+)\/v1\/AUTH_demo\/([^/]+)(?:\/(.*))?$/.exec(url.pathname);
  if (!swift) {
    json(404, {});
    return;
  }
  if (!tokens.has(String(req.headers['x-auth-token']))) {
    json(401, {});
    return;
  }
  const [, region, container, encoded] = swift;
  if (container !== 'files') {
    json(404, {});
    return;
  }
  const key = (name: string) => `${region}/${container}/${name}`;
  if (encoded === undefined && req.method === 'GET') {
    const prefix = url.searchParams.get('prefix') ?? '';
    const marker = url.searchParams.get('marker') ?? '';
    const names = [...objects.keys()]
      .filter((k) => k.startsWith(key(prefix)))
      .map((k) => k.slice(key('').length))
      .filter((n) => n > marker)
      .sort()
      .slice(0, 2); // small pages, so the client has to follow the marker
    if (names.length === 0) {
      res.writeHead(204).end();
      return;
    }
    json(
      200,
      names.map((name) => ({ name, bytes: objects.get(key(name))!.length })),
    );
    return;
  }
  const name = decodeURIComponent(encoded ?? '');
  if (req.method === 'GET') {
    const object = objects.get(key(name));
    if (!object) {
      json(404, {});
      return;
    }
    res.writeHead(200, { 'content-length': String(object.length) }).end(object);
    return;
  }
  if (req.method === 'PUT') {
    if (Number(req.headers['content-length']) !== body.length) {
      json(400, {});
      return;
    }
    objects.set(key(name), body);
    res.writeHead(201).end();
    return;
  }
  json(405, {});
}

const account = (version = 'v3') => ({
  auth_url: `${server.origin}/identity/${version}`,
  username: USER,
  password: PASSWORD,
  region: 'RegionTwo',
  container: 'files',
  ...(version === 'v2.0' ? { tenant_name: PROJECT } : { project_name: PROJECT }),
});

describe('OpenStack Swift through the official SDK', () => {
  it('imports an object with Keystone v3 and exports it under a prefix, in the region asked', async () => {
    const job = await sdk.runJob({
      in: { operation: 'import/openstack', ...account(), file: 'in/report.txt' },
      out: { operation: 'export/openstack', input: 'in', ...account(), file_prefix: 'out/' },
    });

    expectFinished(job);
    expect(taskOf(job, 'in').result?.files).toEqual([
      expect.objectContaining({ filename: 'report.txt', size: 13 }),
    ]);
    expect(objects.get('RegionTwo/files/out/report.txt')?.toString()).toBe('swift report\n');
    expect(authBodies.at(-1)).toMatchObject({
      auth: { identity: { methods: ['password'] }, scope: { project: { name: PROJECT } } },
    });
  });

  it('imports every object under a prefix with Keystone v2.0, following the listing marker', async () => {
    const job = await sdk.runJob({
      in: { operation: 'import/openstack', ...account('v2.0'), file_prefix: 'batch/' },
      out: {
        operation: 'export/openstack',
        input: 'in',
        ...account('v2.0'),
        file: 'joined/part-%d.txt',
      },
    });

    expectFinished(job);
    expect(taskOf(job, 'in').result?.files?.map((f) => f.filename)).toEqual(['a.txt', 'b.txt']);
    expect(objects.get('RegionTwo/files/joined/part-1.txt')?.toString()).toBe('first');
    expect(objects.get('RegionTwo/files/joined/part-2.txt')?.toString()).toBe('second');
  });
});

describe('OpenStack failures', () => {
  const failing = async (task: Record<string, unknown>) => {
    const created = await createJob(sdk.stack, sdk.key, { t: task });
    return byName(await waitJob(sdk.stack, sdk.key, created.id), 't');
  };

  it('says Keystone refused a wrong password, without the password', async () => {
    const task = await failing({
      operation: 'import/openstack',
      ...account(),
      password: 'not-the-password',
      file: 'in/report.txt',
    });
    expect(task).toMatchObject({ status: 'error', code: 'IMPORT_FAILED' });
    expect(task.message).toBe(
      'Keystone refused the user name or password (authentication failed).',
    );
  });

  it('names a missing container and a missing object', async () => {
    const container = await failing({
      operation: 'import/openstack',
      ...account(),
      container: 'nope',
      file_prefix: 'x',
    });
    expect(container.message).toBe('The OpenStack container does not exist.');
    const object = await failing({
      operation: 'import/openstack',
      ...account(),
      file: 'in/none.txt',
    });
    expect(object.message).toBe(
      'The OpenStack object "in/none.txt" does not exist (or its container does not).',
    );
  });

  it('names a region the catalogue does not have', async () => {
    const imported = await failing({
      operation: 'import/openstack',
      ...account(),
      region: 'Mars',
      file: 'in/report.txt',
    });
    expect(imported.message).toBe(
      'OpenStack has no object store in the region "Mars" (regions: RegionOne, RegionTwo).',
    );
  });
});

describe('OpenStack deadline', () => {
  it('ends a task whose Keystone never answers at the task timeout', async () => {
    const created = await createJob(sdk.stack, sdk.key, {
      t: {
        operation: 'import/openstack',
        ...account(),
        auth_url: `${server.origin}/hang/v3`,
        file: 'in/report.txt',
        timeout: 2,
      },
    });
    const task = byName(await waitJob(sdk.stack, sdk.key, created.id), 't');
    expect(task).toMatchObject({ status: 'error', code: 'ENGINE_TIMEOUT' });
  });
});

describe('OpenStack cancel', () => {
  it('ends a task waiting on Keystone when it is cancelled', async () => {
    const created = await api(sdk.stack, sdk.key, 'POST', '/v2/import/openstack', {
      ...account(),
      auth_url: `${server.origin}/hang/v3`,
      file: 'in/report.txt',
    });
    const id = created.json.data.id as string;
    await waitStatus(sdk.stack, sdk.key, id, 'processing');
    await eventually(async () => server.requests.some((r) => r.url.startsWith('/hang/')));
    expect((await api(sdk.stack, sdk.key, 'POST', `/v2/tasks/${id}/cancel`)).status).toBe(200);

    const task = await waitTask(sdk.stack, sdk.key, id);
    expect(task).toMatchObject({ status: 'error', code: 'CANCELLED' });
  });
});

describe('OpenStack fields at creation', () => {
  it('accepts made-up credentials', async () => {
    const res = await api(sdk.stack, sdk.key, 'POST', '/v2/import/openstack', {
      auth_url: 'https://auth.example.com/v3',
      username: 'u',
      password: 'p',
      region: 'r',
      container: 'c',
      file: 'f.pdf',
    });
    expect(res.status).toBe(201);
  });

  it('refuses missing fields, naming each', async () => {
    const res = await api(sdk.stack, sdk.key, 'POST', '/v2/import/openstack', {
      username: 'u',
      container: 'c',
    });
    expect(res.status).toBe(422);
    expect(Object.keys(res.json.errors).sort()).toEqual(['auth_url', 'file', 'password', 'region']);
  });

  it('creates a task whose auth_url is no URL, as Java does, and fails it when it runs', async () => {
    const created = await api(sdk.stack, sdk.key, 'POST', '/v2/import/openstack', {
      auth_url: 'some-auth-url',
      username: 'some-username',
      password: 'some-password',
      region: 'some-region',
      container: 'some-container',
      file: 'some-file',
    });
    expect(created.status).toBe(201);
    const task = await waitTask(sdk.stack, sdk.key, created.json.data.id as string);
    expect(task).toMatchObject({
      status: 'error',
      code: 'IMPORT_FAILED',
      message: 'The auth_url is not an http or https URL.',
    });
  });
});
