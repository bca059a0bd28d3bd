// Timing a contender over a list of items at a fixed concurrency, and the figures drawn from it.

export interface ItemResult {
  ok: boolean;
  ms: number;
  error?: string;
  /** Sub-step timings of one item (upload, wait, download...). */
  phases?: Record<string, number>;
}

export interface ContenderFigures {
  name: string;
  concurrency: number;
  items: number;
  ok: number;
  failed: number;
  wallMs: number;
  /** Successful items per minute of wall time. */
  perMinute: number;
  perSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Median of each phase, when the contender records phases. */
  phasesP50Ms?: Record<string, number>;
  errors: string[];
  /** Ends early when the section's deadline passed. */
  truncated: boolean;
  notes?: string;
}

/**
 * Runs `work` over `items`, `concurrency` at a time, until all are done or `signal` aborts (then
 * no new item starts, and the figures cover what ended).
 */
export async function runPool<T>(
  name: string,
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<ItemResult>,
  signal: AbortSignal,
): Promise<ContenderFigures> {
  const results: ItemResult[] = [];
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < items.length && !signal.aborted) {
      const index = next++;
      const t0 = performance.now();
      try {
        const result = await work(items[index]!, index);
        results.push(result);
      } catch (err) {
        results.push({ ok: false, ms: performance.now() - t0, error: errorText(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));

  return summarise(name, concurrency, results, performance.now() - started, signal.aborted);
}

/** Like `runPool`, for a fixed duration instead of a fixed list. */
export async function runFor(
  name: string,
  durationMs: number,
  concurrency: number,
  work: () => Promise<ItemResult>,
  signal: AbortSignal,
): Promise<ContenderFigures> {
  const results: ItemResult[] = [];
  const started = performance.now();
  const until = started + durationMs;
  const lane = async () => {
    while (performance.now() < until && !signal.aborted) {
      const t0 = performance.now();
      try {
        results.push(await work());
      } catch (err) {
        results.push({ ok: false, ms: performance.now() - t0, error: errorText(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));

  return summarise(name, concurrency, results, performance.now() - started, signal.aborted);
}

export function summarise(
  name: string,
  concurrency: number,
  results: readonly ItemResult[],
  wallMs: number,
  truncated: boolean,
): ContenderFigures {
  const good = results.filter((r) => r.ok);
  const times = good.map((r) => r.ms);
  const phaseNames = [...new Set(good.flatMap((r) => Object.keys(r.phases ?? {})))];
  const errors = [...new Set(results.flatMap((r) => (r.ok ? [] : [r.error ?? 'failed'])))];

  return {
    name,
    concurrency,
    items: results.length,
    ok: good.length,
    failed: results.length - good.length,
    wallMs: round(wallMs),
    perMinute: wallMs > 0 ? round((good.length / wallMs) * 60_000) : 0,
    perSecond: wallMs > 0 ? round((good.length / wallMs) * 1000) : 0,
    p50Ms: round(percentile(times, 50)),
    p95Ms: round(percentile(times, 95)),
    p99Ms: round(percentile(times, 99)),
    ...(phaseNames.length > 0
      ? {
          phasesP50Ms: Object.fromEntries(
            phaseNames.map((p) => [
              p,
              round(
                percentile(
                  good.flatMap((r) => r.phases?.[p] ?? []),
                  50,
                ),
              ),
            ]),
          ),
        }
      : {}),
    errors: errors.slice(0, 5),
    truncated,
  };
}

/** Runs one contender; a failure becomes a row of its own, so the others still count. */
export async function contender(
  name: string,
  concurrency: number,
  signal: AbortSignal,
  measure: () => Promise<ContenderFigures>,
): Promise<ContenderFigures> {
  if (signal.aborted) {
    return { ...summarise(name, concurrency, [], 0, true), errors: ['not run: stopped'] };
  }

  try {
    return await measure();
  } catch (err) {
    return { ...summarise(name, concurrency, [], 0, false), errors: [errorText(err)] };
  }
}

/** Nearest-rank percentile; 0 for no samples. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) {
    return 0;
  }

  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);

  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
