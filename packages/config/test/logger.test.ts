// The pino factory's redaction: payloads, the secret fields of payloads one level down, and the
// query of signed URLs never reach a log line.
import { describe, expect, it } from 'vitest';

import { createLogger } from '../src/index';

function logged(write: (logger: ReturnType<typeof createLogger>) => void): string {
  const lines: string[] = [];
  write(createLogger('test', 'debug', { write: (line: string) => void lines.push(line) }));
  return lines.join('');
}

describe(createLogger.name, () => {
  it('redacts payloads and secret fields at the top and one level down', () => {
    const line = logged((log) =>
      log.info(
        {
          payload: { url: 'x', headers: { authorization: 'hdr-secret' } },
          password: 'top-secret',
          task: { secret_access_key: 's3-secret', sas_token: 'sas-secret', private_key: 'pk' },
          job: { set_password: 'pdf-secret', headers: { cookie: 'cookie-secret' } },
          kept: 'visible',
        },
        'something happened',
      ),
    );
    for (const secret of [
      'hdr-secret',
      'top-secret',
      's3-secret',
      'sas-secret',
      'pdf-secret',
      'cookie-secret',
      '"pk"',
    ]) {
      expect(line).not.toContain(secret);
    }
    expect(line).toContain('visible');
    expect(line).toContain('[redacted]');
  });

  it('logs request URLs outside /v2 without their query, and /v2 URLs whole', () => {
    const line = logged((log) => {
      log.info({ req: { method: 'GET', url: '/s/abc?job=c2VjcmV0&s=00ff' } }, 'incoming request');
      log.info(
        { req: { method: 'GET', url: '/download/t/f/a.pdf?expires=1&signature=sig' } },
        'incoming request',
      );
      log.info(
        { req: { method: 'GET', url: '/v2/jobs?filter[status]=error' } },
        'incoming request',
      );
    });
    expect(line).toContain('"url":"/s/abc?[redacted]"');
    expect(line).toContain('"url":"/download/t/f/a.pdf?[redacted]"');
    expect(line).toContain('"url":"/v2/jobs?filter[status]=error"');
    expect(line).not.toContain('c2VjcmV0');
    expect(line).not.toContain('signature=sig');
  });
});
