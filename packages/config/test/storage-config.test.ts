// The storage and expiry settings: defaults, S3 settings, and one-line errors for bad values.
import { describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from '../src/index';

describe('storage settings', () => {
  it('defaults to local files kept 24 hours', () => {
    const config = loadConfig({});
    expect(config.storageDriver).toBe('local');
    expect(config.retentionHours).toBe(24);
    expect(config.s3.presignedDownloads).toBe(false);
    // docker-compose passes unset variables as empty strings.
    expect(loadConfig({ STORAGE_DRIVER: '', RETENTION_HOURS: '' }).storageDriver).toBe('local');
  });

  it('reads the S3 driver, with path-style addressing by default for an endpoint', () => {
    const config = loadConfig({
      STORAGE_DRIVER: 'S3',
      S3_BUCKET: 'files',
      S3_ENDPOINT: 'http://minio:9000',
      S3_ACCESS_KEY_ID: 'id',
      S3_SECRET_ACCESS_KEY: 'secret',
      S3_PRESIGNED_DOWNLOADS: 'true',
      RETENTION_HOURS: '0.5',
    });
    expect(config.storageDriver).toBe('s3');
    expect(config.s3).toEqual({
      endpoint: 'http://minio:9000',
      bucket: 'files',
      region: 'us-east-1',
      accessKeyId: 'id',
      secretAccessKey: 'secret',
      forcePathStyle: true,
      presignedDownloads: true,
    });
    expect(config.retentionHours).toBe(0.5);
    expect(loadConfig({ STORAGE_DRIVER: 's3', S3_BUCKET: 'b' }).s3.forcePathStyle).toBe(false);
  });

  it('refuses bad values with a ConfigError naming the variable', () => {
    const bad: Record<string, string>[] = [
      { STORAGE_DRIVER: 'ftp' },
      { STORAGE_DRIVER: 's3' },
      { STORAGE_DRIVER: 's3', S3_BUCKET: 'b', S3_ENDPOINT: 'minio:9000' },
      { RETENTION_HOURS: '-1' },
      { RETENTION_HOURS: 'a day' },
    ];
    for (const env of bad) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
    }
    expect(() => loadConfig({ STORAGE_DRIVER: 's3' })).toThrow(/S3_BUCKET/);
  });
});
