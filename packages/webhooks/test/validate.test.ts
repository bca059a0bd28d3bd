// Which webhook URLs are refused when webhooks and jobs are created (README §Webhooks).
import { describe, expect, it } from 'vitest';

import { webhookUrlError } from '../src/validate';

const REFUSED = /^The url points to a loopback, private or link-local address/;

describe('webhookUrlError', () => {
  it('refuses localhost however it is spelled, and private IP literals', () => {
    for (const url of [
      'http://localhost/hook',
      'http://LOCALHOST./hook',
      'http://localhost../hook',
      'http://api.localhost./hook',
      'http://127.0.0.1/hook',
      'http://[::1]/hook',
      'http://10.1.2.3/hook',
    ]) {
      expect(webhookUrlError(url, false), url).toMatch(REFUSED);
    }
  });

  it('takes public names, with or without the final dot, and anything when private URLs are allowed', () => {
    expect(webhookUrlError('https://hooks.example.com./in', false)).toBeNull();
    expect(webhookUrlError('https://hooks.example.com/in', false)).toBeNull();
    expect(webhookUrlError('http://localhost./hook', true)).toBeNull();
  });
});
