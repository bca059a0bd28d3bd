import fs from 'node:fs/promises';
import { createSecureContext } from 'node:tls';

import { ConfigError, type Config } from '@convertd/config';

/** PEM certificate chain and private key, as node's https server takes them. */
export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

/** TLS_CERT_FILE and TLS_KEY_FILE read and checked, or null when HTTPS is off. */
export async function readTls(config: Config): Promise<TlsFiles | null> {
  if (!config.tls) {
    return null;
  }

  const read = async (name: string, file: string) => {
    try {
      return await fs.readFile(file);
    } catch (err) {
      throw new ConfigError(`${name} cannot be read: ${(err as Error).message}`);
    }
  };
  const tls = {
    cert: await read('TLS_CERT_FILE', config.tls.certFile),
    key: await read('TLS_KEY_FILE', config.tls.keyFile),
  };
  try {
    createSecureContext(tls);
  } catch (err) {
    throw new ConfigError(
      `TLS_CERT_FILE and TLS_KEY_FILE must be a PEM certificate and its key: ${(err as Error).message}`,
    );
  }

  return tls;
}
