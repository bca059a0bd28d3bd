import { LocalStorage } from './local.storage';
import { S3Storage, type S3StorageOptions } from './s3.storage';
import type { Storage } from './storage';

export interface StorageSettings {
  driver: 'local' | 's3';
  dataDir: string;
  s3: S3StorageOptions;
}

/** The storage of STORAGE_DRIVER, ready to use (directories made, bucket there). */
export async function createStorage(settings: StorageSettings): Promise<Storage> {
  const storage =
    settings.driver === 's3' ? new S3Storage(settings.s3) : new LocalStorage(settings.dataDir);
  await storage.init();
  return storage;
}
