// What a section gets and gives back, and how its table is printed.
import type { Logger } from 'pino';

import type { Surroundings } from './cpu';
import type { ContenderFigures } from './stats';

export interface SectionContext {
  runId: string;
  /** The run's temporary dir (removed at the end). */
  tmpRoot: string;
  cores: number;
  quick: boolean;
  /** Have the gateway and the worker write CPU profiles (a diagnostic run: figures are lower). */
  profile: boolean;
  /** Aborts at the section's deadline or on Ctrl-C. */
  signal: AbortSignal;
  log: Logger;
}

export interface TargetCheck {
  target: string;
  measured: string;
  pass: boolean;
}

export interface SectionResult {
  name: string;
  title: string;
  /** `perMinute` (files/min) or `perSecond` (jobs/s): what the table ranks by. */
  unit: 'files/min' | 'jobs/s';
  contenders: ContenderFigures[];
  /** The name of the contender ratios are taken against. */
  baseline?: string;
  targets: TargetCheck[];
  /** Inputs and settings, so the figures can be read without the code. */
  setup: Record<string, unknown>;
  extra?: Record<string, unknown>;
  /** Printed under the table. */
  lines?: string[];
  startedAt: string;
  durationMs: number;
  /** Load and others' processes at the start and the end: the box may be shared. */
  surroundings?: { before: Surroundings; after: Surroundings };
  error?: string;
}

export type Section = (
  ctx: SectionContext,
) => Promise<Omit<SectionResult, 'startedAt' | 'durationMs'>>;

export function rate(figures: ContenderFigures, unit: SectionResult['unit']): number {
  return unit === 'files/min' ? figures.perMinute : figures.perSecond;
}

/** The section as a text table, one row per contender, then the targets. */
export function formatSection(result: SectionResult): string {
  const base = result.contenders.find((c) => c.name === result.baseline);
  const header = ['contender', 'conc', 'ok/n', result.unit, 'p50 ms', 'p95 ms', 'p99 ms', 'ratio'];
  const rows = result.contenders.map((c) => {
    const ratio =
      base && rate(base, result.unit) > 0 ? rate(c, result.unit) / rate(base, result.unit) : NaN;
    return [
      c.name + (c.truncated ? ' (cut at deadline)' : ''),
      String(c.concurrency),
      `${c.ok}/${c.items}`,
      rate(c, result.unit).toFixed(1),
      c.p50Ms.toFixed(0),
      c.p95Ms.toFixed(0),
      c.p99Ms.toFixed(0),
      Number.isNaN(ratio) ? '-' : `${ratio.toFixed(2)}x`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ');
  const out = [`\n== ${result.title}`];
  if (rows.length > 0) {
    out.push(line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line));
  }
  for (const c of result.contenders) {
    if (c.phasesP50Ms) {
      const phases = Object.entries(c.phasesP50Ms).map(([k, v]) => `${k} ${v.toFixed(0)}`);
      out.push(`  ${c.name} phases (p50 ms): ${phases.join(', ')}`);
    }
    if (c.errors.length > 0) {
      out.push(`  ${c.name} errors: ${c.errors.join(' | ')}`);
    }
    if (c.notes) {
      out.push(`  ${c.name}: ${c.notes}`);
    }
  }
  out.push(...(result.lines ?? []));
  for (const t of result.targets) {
    out.push(`  target ${t.target}: ${t.measured} -> ${t.pass ? 'PASS' : 'FAIL'}`);
  }
  if (result.surroundings) {
    const { before, after } = result.surroundings;
    const others = (s: Surroundings) =>
      `load ${s.loadAverage.join('/')}, others' vitest ${s.foreign.vitest}, soffice ${s.foreign.soffice}, chromium ${s.foreign.chromium}`;
    out.push(`  machine at start: ${others(before)}; at end: ${others(after)}`);
  }
  if (result.error) {
    out.push(`  section failed: ${result.error}`);
  }

  return `${out.join('\n')}\n`;
}

/** A throughput ratio target: `contender` at least `factor` times `baseline`. */
export function ratioTarget(
  contenders: readonly ContenderFigures[],
  unit: SectionResult['unit'],
  contender: string,
  baseline: string,
  factor: number,
): TargetCheck {
  const a = contenders.find((c) => c.name === contender);
  const b = contenders.find((c) => c.name === baseline);
  const ratio = a && b && rate(b, unit) > 0 ? rate(a, unit) / rate(b, unit) : 0;

  return {
    target: `${contender} >= ${factor}x ${baseline}`,
    measured: `${ratio.toFixed(2)}x`,
    pass: ratio >= factor && (a?.failed ?? 1) === 0,
  };
}
