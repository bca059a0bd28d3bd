// The credit model: per started minute of a task's run, by operation.
import { describe, expect, it } from 'vitest';

import { loadConfig } from '../../config/src/index';
import { creditsFor } from '../src/credits';

describe('creditsFor', () => {
  const defaults = loadConfig({}).credits;

  it('charges processing tasks 1 credit per started minute and imports and exports nothing', () => {
    expect(creditsFor(defaults, 'convert', 0)).toBe(1);
    expect(creditsFor(defaults, 'convert', 60_000)).toBe(1);
    expect(creditsFor(defaults, 'convert', 60_001)).toBe(2);
    expect(creditsFor(defaults, 'capture-website', 150_000)).toBe(3);
    expect(creditsFor(defaults, 'import/upload', 600_000)).toBe(0);
    expect(creditsFor(defaults, 'import/url', 1)).toBe(0);
    expect(creditsFor(defaults, 'export/url', 1)).toBe(0);
  });

  it('follows CREDITS_PER_MINUTE and CREDITS_PER_OPERATION', () => {
    const rates = loadConfig({
      CREDITS_PER_MINUTE: '2',
      CREDITS_PER_OPERATION: 'import/url=1, optimize=0,capture-website=5',
    }).credits;
    expect(creditsFor(rates, 'convert', 90_000)).toBe(4);
    expect(creditsFor(rates, 'import/url', 10)).toBe(1);
    expect(creditsFor(rates, 'optimize', 10)).toBe(0);
    expect(creditsFor(rates, 'capture-website', 10)).toBe(5);
    expect(() => loadConfig({ CREDITS_PER_OPERATION: 'convert' })).toThrow(/CREDITS_PER_OPERATION/);
  });
});
