import type { Readable } from 'node:stream';

export interface StoredObject {
  size: number;
  md5: string;
}

/** Inclusive byte range, as in an HTTP Range header. */
export interface ReadRange {
  start: number;
  end: number;
}

/** How a presigned download should present the file. */
export interface DownloadLink {
  contentDisposition: string;
  contentType: string;
  expiresInSec: number;
}

/**
 * Where task files live. Keys are ours (`tasks/<taskId>/<fileId>`), never user file names.
 * Implemented by local disk (`LocalStorage`) and by an S3-compatible bucket (`S3Storage`).
 */
export interface Storage {
  /** Streams `body` into `key`; the object appears whole or not at all. */
  put(key: string, body: Readable, options?: { maxBytes?: number }): Promise<StoredObject>;
  putFile(key: string, path: string): Promise<StoredObject>;
  read(key: string, range?: ReadRange): Promise<Readable>;
  /** Copies `key` to a local file (engines read local paths). */
  download(key: string, path: string): Promise<void>;
  size(key: string): Promise<number | null>;
  copy(from: string, to: string): Promise<void>;
  delete(keys: readonly string[]): Promise<void>;
  /** True when the storage answers (for /readyz). */
  ping(): Promise<boolean>;
  /** A URL that serves the file without us in between, when the driver has such a thing. */
  downloadUrl?(key: string, link: DownloadLink): Promise<string>;
  close?(): void;
}
