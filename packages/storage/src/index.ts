export type { DownloadLink, Storage, StoredObject, ReadRange } from './storage';
export { LocalStorage } from './local.storage';
export { S3Storage, PART_SIZE } from './s3.storage';
export type { S3StorageOptions } from './s3.storage';
export { createStorage } from './create';
export type { StorageSettings } from './create';
export { pathSigner, signPath, verifyPath } from './signing';
