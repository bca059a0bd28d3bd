// `import/google-cloud-storage` and `export/google-cloud-storage` with the official Google SDK,
// signing in as the service account (`client_email`, `private_key`). `endpoint` (our extension)
// replaces https://storage.googleapis.com for emulators; the OAuth token is then fetched from
// `<endpoint>/token` instead of Google's token URL, so no request leaves for Google.
import { pipeline } from 'node:stream/promises';

import { Storage } from '@google-cloud/storage';
import { policyAgent } from '@convertd/outbound';
import { type DefaultTransporter, JWT } from 'google-auth-library';
import type { GaxiosOptions } from 'gaxios';

import type { OperationRun } from '../index';
import { networkProblem, statusOf } from './errors';
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

const LABEL = 'Google Cloud Storage';
const DEFAULT_ENDPOINT = 'https://storage.googleapis.com';
const GOOGLE_TOKEN_HOSTS = new Set(['www.googleapis.com', 'oauth2.googleapis.com']);
const SCOPE = 'https://www.googleapis.com/auth/devstorage.read_write';

export const googleCloudStorage: RemoteService = {
  label: LABEL,
  single: 'file',
  many: 'file_prefix',
  connect,
  explain,
};

export const runGcsImport = (run: OperationRun) => runRemoteImport(run, googleCloudStorage);
export const runGcsExport = (run: OperationRun) => runRemoteExport(run, googleCloudStorage);

async function connect(run: OperationRun): Promise<RemoteStore> {
  const payload = payloadOf(run);
  const custom = text(payload, 'endpoint');
  const endpoint = new URL(custom ?? DEFAULT_ENDPOINT);
  await checkHost(run, endpoint.hostname);

  const auth = new JWT({
    email: text(payload, 'client_email'),
    // Keys pasted from a JSON key file often keep their escaped line breaks.
    key: (typeof payload.private_key === 'string' ? payload.private_key : '').replace(/\\n/g, '\n'),
    scopes: [SCOPE],
  });
  const tokenUrl = custom === undefined ? undefined : `${custom.replace(/\/$/, '')}/token`;
  const allowPrivate = run.ctx.config.allowPrivateUrls;
  const agents = {
    'http:': policyAgent(false, { allowPrivate }),
    'https:': policyAgent(true, { allowPrivate }),
  };
  // The token request goes through google-auth-library's own HTTP client: send it through the
  // outbound policy, and to the emulator's token URL when there is one.
  (auth.transporter as DefaultTransporter).instance.interceptors.request.add({
    resolved: (options: GaxiosOptions) => {
      const url = new URL(String(options.url));
      if (tokenUrl !== undefined && GOOGLE_TOKEN_HOSTS.has(url.hostname)) {
        options.url = tokenUrl;
      }
      options.agent = agents[new URL(String(options.url)).protocol as 'http:' | 'https:'];
      return Promise.resolve(options);
    },
  });
  // TODO(#6): the SDK's storage requests use its own agent, so only their host was checked
  // (above), not each connection as for the token and for import/url.
  const storage = new Storage({
    projectId: text(payload, 'project_id'),
    authClient: auth,
    retryOptions: { maxRetries: 2 },
    ...(custom === undefined ? {} : { apiEndpoint: custom, useAuthWithCustomEndpoint: true }),
  });
  const bucket = storage.bucket(text(payload, 'bucket') ?? '');

  return {
    async list(prefix) {
      const [files] = await bucket.getFiles({ prefix, autoPaginate: true });
      return files.filter((f) => !f.name.endsWith('/')).map((f) => ({ name: f.name }));
    },
    async open(name) {
      // Fetching the metadata first makes a missing bucket or object fail here, not mid-stream.
      await bucket.file(name).getMetadata();
      return bucket.file(name).createReadStream();
    },
    async write(name, body) {
      await pipeline(body, bucket.file(name).createWriteStream({ resumable: false }));
    },
    close: () => Promise.resolve(),
  };
}

function explain(err: unknown, name: string | undefined): string | undefined {
  const e = err as { message?: unknown; response?: { data?: { error?: unknown } }; code?: unknown };
  const message = typeof e.message === 'string' ? e.message : '';
  const grant = e.response?.data?.error;
  if (grant === 'invalid_grant' || grant === 'invalid_client' || grant === 'unauthorized_client') {
    return 'Google refused the service account (client_email or private_key) when signing in.';
  }
  if (/DECODER|PEM|asn1|private key/i.test(message) || e.code === 'ERR_OSSL_UNSUPPORTED') {
    return 'The private key could not be read (it must be the PEM key of the service account).';
  }
  const status = statusOf(err);
  const target = name === undefined ? '' : ` ${quote(name)}`;
  if (status === 404) {
    return /bucket/i.test(message)
      ? 'The Google Cloud Storage bucket does not exist.'
      : `The Google Cloud Storage object${target} does not exist.`;
  }
  if (status === 401) {
    return 'Google Cloud Storage refused the credentials (authentication failed).';
  }
  if (status === 403) {
    return `Google Cloud Storage denied access${target ? ` to${target}` : ''} (HTTP 403).`;
  }
  if (status !== undefined) {
    return `Google Cloud Storage answered HTTP ${status}.`;
  }

  return networkProblem(LABEL, err);
}
