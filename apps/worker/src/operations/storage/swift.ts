// `import/openstack` and `export/openstack`: OpenStack Swift behind Keystone password auth (v3,
// or v2.0 when `auth_url` names it). No official JS client exists; this is the few calls we need,
// streamed over node:http through the outbound policy.
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';

import { policyAgent } from '@convertd/outbound';

import type { OperationRun } from '../index';
import { networkProblem } from './errors';
import {
  checkHost,
  payloadOf,
  quote,
  runRemoteExport,
  runRemoteImport,
  text,
  type RemoteService,
  type RemoteStore,
} from './remote';

const LABEL = 'OpenStack';
const MAX_AUTH_BODY_BYTES = 4 * 1024 * 1024;

/** An HTTP answer we did not expect; `step` says which call it was, for the message. */
class SwiftError extends Error {
  constructor(
    readonly step: 'auth' | 'container' | 'object',
    readonly status: number,
  ) {
    super(`${step} answered HTTP ${status}`);
  }
}

/** A catalogue or token that does not say what we need (wrong region, no object store). */
class CatalogError extends Error {}

export const openstack: RemoteService = {
  label: LABEL,
  single: 'file',
  many: 'file_prefix',
  connect,
  explain,
};

export const runOpenstackImport = (run: OperationRun) => runRemoteImport(run, openstack);
export const runOpenstackExport = (run: OperationRun) => runRemoteExport(run, openstack);

interface Session {
  token: string;
  storageUrl: string;
}

async function connect(run: OperationRun, signal: AbortSignal): Promise<RemoteStore> {
  const payload = payloadOf(run);
  const authUrl = URL.canParse(text(payload, 'auth_url') ?? '')
    ? new URL(text(payload, 'auth_url')!)
    : undefined;
  if (authUrl === undefined || !/^https?:$/.test(authUrl.protocol)) {
    throw new CatalogError('The auth_url is not an http or https URL.');
  }
  await checkHost(run, authUrl.hostname);
  const send = sender(run.ctx.config.allowPrivateUrls, signal);
  const session = /\/v2\.0\/?$/.test(authUrl.pathname)
    ? await authV2(send, authUrl, payload)
    : await authV3(send, authUrl, payload);
  await checkHost(run, new URL(session.storageUrl).hostname);

  const container = `${session.storageUrl.replace(/\/$/, '')}/${encodeURIComponent(text(payload, 'container') ?? '')}`;
  const headers = { 'x-auth-token': session.token };
  const objectUrl = (name: string) =>
    `${container}/${name.split('/').map(encodeURIComponent).join('/')}`;

  return {
    async list(prefix) {
      const names: { name: string }[] = [];
      let marker = '';
      for (;;) {
        const query = new URLSearchParams({ format: 'json', prefix, marker });
        const res = await send('GET', `${container}?${query.toString()}`, headers);
        if (res.statusCode === 204) {
          res.resume();
          return names;
        }
        expectOk(res, 'container');
        const page = JSON.parse(await readText(res)) as { name?: unknown }[];
        const found = page.map((o) => (typeof o.name === 'string' ? o.name : ''));
        names.push(...found.filter((n) => n !== '' && !n.endsWith('/')).map((name) => ({ name })));
        if (found.length === 0) {
          return names;
        }
        marker = found[found.length - 1]!;
      }
    },
    async open(name) {
      const res = await send('GET', objectUrl(name), headers);
      expectOk(res, 'object');
      return res;
    },
    async write(name, body, size) {
      // TODO(#6): Swift refuses single objects over 5 GiB; larger exports need a static large
      // object (segments plus a manifest).
      const res = await send(
        'PUT',
        objectUrl(name),
        { ...headers, 'content-length': String(size) },
        body,
      );
      expectOk(res, 'container');
      res.resume();
    },
    close: () => Promise.resolve(),
  };
}

type Send = (
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: Readable | string,
) => Promise<http.IncomingMessage>;

/** One request through the policy agent, ended by the task's signal. */
function sender(allowPrivate: boolean, signal: AbortSignal): Send {
  const agents = {
    'http:': policyAgent(false, { allowPrivate }),
    'https:': policyAgent(true, { allowPrivate }),
  };

  return (method, url, headers, body) =>
    new Promise((resolve, reject) => {
      const target = new URL(url);
      const lib = target.protocol === 'https:' ? https : http;
      const req = lib.request(target, {
        method,
        headers,
        agent: agents[target.protocol as 'http:' | 'https:'],
        signal,
      });
      req.once('response', resolve);
      req.once('error', reject);
      if (body === undefined || typeof body === 'string') {
        req.end(body);
      } else {
        body.once('error', (err) => req.destroy(err));
        body.pipe(req);
      }
    });
}

async function authV3(
  send: Send,
  authUrl: URL,
  payload: Record<string, unknown>,
): Promise<Session> {
  const base = authUrl.toString().replace(/\/$/, '');
  const url = /\/v3$/.test(base) ? `${base}/auth/tokens` : `${base}/v3/auth/tokens`;
  const projectId = text(payload, 'project_id');
  const projectName = text(payload, 'project_name') ?? text(payload, 'tenant_name');
  const projectDomain = { name: text(payload, 'project_domain_name') ?? 'Default' };
  const scope =
    projectId !== undefined
      ? { project: { id: projectId } }
      : projectName !== undefined
        ? { project: { name: projectName, domain: projectDomain } }
        : undefined;
  const body = JSON.stringify({
    auth: {
      identity: {
        methods: ['password'],
        password: {
          user: {
            name: text(payload, 'username'),
            domain: { name: text(payload, 'user_domain_name') ?? 'Default' },
            password: text(payload, 'password'),
          },
        },
      },
      ...(scope ? { scope } : {}),
    },
  });
  const res = await send('POST', url, { 'content-type': 'application/json' }, body);
  expectOk(res, 'auth');
  const token = res.headers['x-subject-token'];
  const answer = JSON.parse(await readText(res)) as {
    token?: {
      catalog?: {
        type?: string;
        endpoints?: { interface?: string; region?: string; region_id?: string; url?: string }[];
      }[];
    };
  };
  if (typeof token !== 'string' || token === '') {
    throw new CatalogError('Keystone answered without a token.');
  }
  const endpoints = (answer.token?.catalog ?? [])
    .filter((s) => s.type === 'object-store')
    .flatMap((s) => s.endpoints ?? [])
    .filter((e) => e.interface === 'public')
    .map((e) => ({ region: e.region_id ?? e.region, url: e.url }));

  return { token, storageUrl: pick(endpoints, text(payload, 'region')) };
}

async function authV2(
  send: Send,
  authUrl: URL,
  payload: Record<string, unknown>,
): Promise<Session> {
  const url = `${authUrl.toString().replace(/\/$/, '')}/tokens`;
  const tenant = text(payload, 'tenant_name') ?? text(payload, 'project_name');
  const body = JSON.stringify({
    auth: {
      passwordCredentials: {
        username: text(payload, 'username'),
        password: text(payload, 'password'),
      },
      ...(tenant === undefined ? {} : { tenantName: tenant }),
    },
  });
  const res = await send('POST', url, { 'content-type': 'application/json' }, body);
  expectOk(res, 'auth');
  const answer = JSON.parse(await readText(res)) as {
    access?: {
      token?: { id?: string };
      serviceCatalog?: { type?: string; endpoints?: { region?: string; publicURL?: string }[] }[];
    };
  };
  const token = answer.access?.token?.id;
  if (typeof token !== 'string' || token === '') {
    throw new CatalogError('Keystone answered without a token.');
  }
  const endpoints = (answer.access?.serviceCatalog ?? [])
    .filter((s) => s.type === 'object-store')
    .flatMap((s) => s.endpoints ?? [])
    .map((e) => ({ region: e.region, url: e.publicURL }));

  return { token, storageUrl: pick(endpoints, text(payload, 'region')) };
}

/** The public object-store URL of the region (of the only region when none is asked). */
function pick(
  endpoints: { region?: string | undefined; url?: string | undefined }[],
  region: string | undefined,
): string {
  const usable = endpoints.filter((e) => typeof e.url === 'string' && e.url !== '');
  if (usable.length === 0) {
    throw new CatalogError(
      'The Keystone token lists no object store (Swift) endpoint; a project (project_name or project_id) may be needed.',
    );
  }
  const match = region === undefined ? usable : usable.filter((e) => e.region === region);
  if (match.length === 0) {
    const known = [...new Set(usable.map((e) => e.region ?? '?'))].join(', ');
    throw new CatalogError(
      `OpenStack has no object store in the region ${quote(region ?? '')} (regions: ${known}).`,
    );
  }

  return match[0]!.url!;
}

function expectOk(res: http.IncomingMessage, step: SwiftError['step']): void {
  const status = res.statusCode ?? 0;
  if (status < 200 || status > 299) {
    res.resume();
    throw new SwiftError(step, status);
  }
}

async function readText(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += (chunk as Buffer).length;
    if (size > MAX_AUTH_BODY_BYTES) {
      res.destroy();
      throw new CatalogError('OpenStack answered with a body too large to read.');
    }
    chunks.push(chunk as Buffer);
  }

  return Buffer.concat(chunks).toString('utf8');
}

function explain(err: unknown, name: string | undefined): string | undefined {
  if (err instanceof CatalogError) {
    return err.message;
  }
  if (err instanceof SyntaxError) {
    return 'OpenStack answered with a body that is not JSON.';
  }
  if (err instanceof SwiftError) {
    const { step, status } = err;
    if (step === 'auth') {
      return status === 401
        ? 'Keystone refused the user name or password (authentication failed).'
        : `Keystone answered HTTP ${status} to the authentication.`;
    }
    if (status === 404) {
      return step === 'container'
        ? 'The OpenStack container does not exist.'
        : `The OpenStack object ${quote(name ?? '')} does not exist (or its container does not).`;
    }
    if (status === 401 || status === 403) {
      return `OpenStack denied access to the container (HTTP ${status}).`;
    }
    return `OpenStack Swift answered HTTP ${status}.`;
  }

  return networkProblem(LABEL, err);
}
