// `import/sftp` and `export/sftp` over ssh2. `file` names one file; `path` is a directory: an
// import reads every regular file in it, an export writes into it.
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

import { AppError } from '@convertd/errors';
import { resolveHost } from '@convertd/outbound';
import { Client, type ConnectConfig, type SFTPWrapper } from 'ssh2';

import type { OperationRun } from '../index';
import { networkProblem } from './errors';
import {
  payloadOf,
  quote,
  runRemoteExport,
  runRemoteImport,
  text,
  type RemoteService,
  type RemoteStore,
} from './remote';

const CONNECT_TIMEOUT_MS = 30_000;
// SFTP status codes (draft-ietf-secsh-filexfer-02, section 7).
const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;

export const sftp: RemoteService = {
  label: 'The SFTP server',
  single: 'file',
  many: 'path',
  directory: true,
  connect,
  explain,
};

export const runSftpImport = (run: OperationRun) => runRemoteImport(run, sftp);
export const runSftpExport = (run: OperationRun) => runRemoteExport(run, sftp);

async function connect(run: OperationRun, signal: AbortSignal): Promise<RemoteStore> {
  const payload = payloadOf(run);
  const host = text(payload, 'host') ?? '';
  // Connect to the address the policy checked, not to a second lookup of the name.
  const [address] = await resolveHost(host, { allowPrivate: run.ctx.config.allowPrivateUrls });
  const config: ConnectConfig = {
    host: address!.address,
    port: Number(payload.port ?? 22) || 22,
    username: text(payload, 'username') ?? '',
    readyTimeout: Math.max(1000, Math.min(CONNECT_TIMEOUT_MS, run.deadline - Date.now())),
    // TODO(#6): host keys are not verified (the API has no field for one); the transfer is
    // encrypted but a man in the middle is not detected.
  };
  const password = text(payload, 'password');
  const privateKey = typeof payload.private_key === 'string' ? payload.private_key : undefined;
  if (privateKey !== undefined && privateKey.trim() !== '') {
    config.privateKey = privateKey;
  }
  if (password !== undefined) {
    config.password = password;
  }

  const client = new Client();
  const session = await open(client, config, signal);
  const end = (): void => {
    client.end();
  };
  signal.addEventListener('abort', end, { once: true });

  return {
    async list(dir) {
      const entries = await call<{ filename: string; attrs: { isFile(): boolean } }[]>((cb) =>
        session.readdir(dir, cb),
      );
      return entries
        .filter((entry) => entry.attrs.isFile())
        .map((entry) => ({ name: path.posix.join(dir, entry.filename) }))
        .sort((a, b) => a.name.localeCompare(b.name));
    },
    async open(name) {
      const stats = await call<{ isFile(): boolean }>((cb) => session.stat(name, cb));
      if (!stats.isFile()) {
        throw new AppError('IMPORT_FAILED', {
          message: `The SFTP path ${quote(name)} is not a file.`,
        });
      }
      return session.createReadStream(name);
    },
    async write(name, body) {
      await pipeline(body, session.createWriteStream(name));
    },
    close: () => {
      signal.removeEventListener('abort', end);
      client.end();
      return Promise.resolve();
    },
  };
}

/** Connects, authenticates and opens the SFTP subsystem. */
function open(client: Client, config: ConnectConfig, signal: AbortSignal): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => {
    const fail = (err: Error): void => {
      signal.removeEventListener('abort', stop);
      client.end();
      reject(err);
    };
    const stop = (): void => fail(signal.reason as Error);
    signal.addEventListener('abort', stop, { once: true });
    client.once('error', fail);
    client.once('ready', () => {
      client.sftp((err, session) => {
        if (err) {
          fail(err);
          return;
        }
        signal.removeEventListener('abort', stop);
        client.removeListener('error', fail);
        // Later connection errors surface through the calls and streams that are running.
        client.on('error', () => undefined);
        resolve(session);
      });
    });
    try {
      client.connect(config);
    } catch (err) {
      // ssh2 throws at once when the private key cannot be parsed.
      fail(Object.assign(new Error('unreadable private key', { cause: err }), { level: 'key' }));
    }
  });
}

function call<T>(start: (cb: (err: Error | undefined, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    start((err, value) => (err ? reject(err) : resolve(value)));
  });
}

function explain(err: unknown, name: string | undefined): string | undefined {
  const { level, code } = err as { level?: unknown; code?: unknown };
  const target = name === undefined ? '' : ` ${quote(name)}`;
  if (level === 'key') {
    return 'The private key could not be read (it must be an OpenSSH or PEM private key).';
  }
  if (level === 'client-authentication') {
    return 'The SFTP server refused the user name, password or private key (authentication failed).';
  }
  if (level === 'client-timeout') {
    return 'The SFTP server did not complete the SSH handshake in time.';
  }
  if (level === 'handshake' || level === 'protocol') {
    return 'The SSH handshake with the SFTP server failed.';
  }
  if (code === NO_SUCH_FILE) {
    return `The SFTP server has no file or directory${target}.`;
  }
  if (code === PERMISSION_DENIED) {
    return `The SFTP server denied access to${target || ' the path'} (permission denied).`;
  }

  return networkProblem('The SFTP server', err);
}
