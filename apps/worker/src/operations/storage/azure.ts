// `import/azure/blob` and `export/azure/blob` with the official Azure SDK. `endpoint` (our
// extension) replaces `https://<account>.blob.core.windows.net` for Azurite and sovereign clouds.
import type { Readable } from 'node:stream';

import {
  AnonymousCredential,
  BlobServiceClient,
  newPipeline,
  StorageSharedKeyCredential,
  type RequestPolicy,
  type RequestPolicyFactory,
  type WebResource,
} from '@azure/storage-blob';
import { policyAgent } from '@convertd/outbound';

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

const UPLOAD_BUFFER_BYTES = 4 * 1024 * 1024;

export const azureBlob: RemoteService = {
  label: 'Azure Blob Storage',
  single: 'blob',
  many: 'blob_prefix',
  connect,
  explain,
};

export const runAzureImport = (run: OperationRun) => runRemoteImport(run, azureBlob);
export const runAzureExport = (run: OperationRun) => runRemoteExport(run, azureBlob);

async function connect(run: OperationRun): Promise<RemoteStore> {
  const payload = payloadOf(run);
  const account = text(payload, 'storage_account') ?? '';
  const key = text(payload, 'storage_access_key');
  const sas = text(payload, 'sas_token')?.replace(/^\?/, '');
  const base = new URL(text(payload, 'endpoint') ?? `https://${account}.blob.core.windows.net`);
  await checkHost(run, base.hostname);

  const credential =
    key === undefined ? new AnonymousCredential() : new StorageSharedKeyCredential(account, key);
  // Retries stay short: the task's deadline bounds the whole transfer anyway.
  const pipeline = newPipeline(credential, { retryOptions: { maxTries: 2 } });
  pipeline.factories.push(
    withAgent(
      policyAgent(base.protocol === 'https:', { allowPrivate: run.ctx.config.allowPrivateUrls }),
    ),
  );
  if (sas !== undefined && key === undefined) {
    base.search = sas;
  }
  const container = new BlobServiceClient(base.toString(), pipeline).getContainerClient(
    text(payload, 'container') ?? '',
  );
  const metadata = stringMap(payload.metadata);

  return {
    async list(prefix, abortSignal) {
      const names: { name: string }[] = [];
      for await (const blob of container.listBlobsFlat({ prefix, abortSignal })) {
        names.push({ name: blob.name });
      }
      return names;
    },
    async open(name, abortSignal) {
      const download = await container.getBlobClient(name).download(0, undefined, { abortSignal });
      return download.readableStreamBody as Readable;
    },
    async write(name, body, _size, abortSignal) {
      await container.getBlockBlobClient(name).uploadStream(body, UPLOAD_BUFFER_BYTES, 2, {
        abortSignal,
        metadata,
      });
    },
    close: () => Promise.resolve(),
  };
}

/** Sends every request of the pipeline through the policy agent. */
function withAgent(agent: WebResource['agent']): RequestPolicyFactory {
  return {
    create: (next: RequestPolicy): RequestPolicy => ({
      sendRequest: (request: WebResource) => {
        request.agent = agent;
        return next.sendRequest(request);
      },
    }),
  };
}

function explain(err: unknown, name: string | undefined): string | undefined {
  const code = (err as { code?: unknown }).code;
  const status = statusOf(err);
  const target = name === undefined ? '' : ` ${quote(name)}`;
  switch (code) {
    case 'ContainerNotFound':
      return 'The Azure container does not exist.';
    case 'BlobNotFound':
      return `The blob${target} does not exist.`;
    case 'AuthenticationFailed':
    case 'InvalidAuthenticationInfo':
      return 'Azure Blob Storage refused the storage access key or SAS token (authentication failed).';
    case 'ResourceNotFound':
      return 'Azure Blob Storage does not know this storage account or container.';
  }
  if (status === 403) {
    return `Azure Blob Storage denied access${target ? ` to${target}` : ''} (HTTP 403).`;
  }
  if (status === 404) {
    return `Azure Blob Storage found no${target || ' such resource'} (HTTP 404).`;
  }
  if (status !== undefined) {
    return `Azure Blob Storage answered HTTP ${status}${typeof code === 'string' ? ` (${code})` : ''}.`;
  }

  return networkProblem('Azure Blob Storage', err);
}

function stringMap(value: unknown): Record<string, string> | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return undefined;
  }

  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
}
