// Writes docs/formats.md from the catalogue, or with `--check` fails when the file is stale.
// Usage: node --import tsx packages/api/scripts/formats-doc.ts [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { ENGINE_ALIASES, ENGINE_SPECS, PROCESSING_OPERATIONS } from '../src/catalogue/index';
import type { CatalogueEntry, OptionSpec } from '../src/catalogue/types';

const target = path.resolve(import.meta.dirname, '../../../docs/formats.md');

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function formats(list: CatalogueEntry['inputs'] | CatalogueEntry['outputs'], same: string): string {
  if (list === 'same') {
    return same;
  }
  if (list === 'none') {
    return '—';
  }
  return list.map((f) => (f === '*' ? 'any file' : f)).join(', ');
}

function option(o: OptionSpec): string {
  const parts = [`\`${o.name}\` ${o.type}`];
  if (o.required) {
    parts.push('required');
  }
  if (o.default !== undefined) {
    parts.push(`default ${JSON.stringify(o.default)}`);
  }
  if (o.possible_values) {
    parts.push(`one of ${o.possible_values.join(', ')}`);
  }
  if (o.min !== undefined || o.max !== undefined) {
    parts.push(`${o.min ?? '…'}–${o.max ?? '…'}`);
  }
  return parts.join(', ');
}

export function renderFormats(): string {
  const lines = [
    '# Operations, formats, engines and options',
    '',
    'Generated from the catalogue in `packages/api/src/catalogue` by',
    '`node --import tsx packages/api/scripts/formats-doc.ts`; CI fails when this file is stale.',
    'A deployment serves the engines its workers find installed: `GET /v2/operations` lists what',
    'is available right now. Where several engines serve a pair, the one with the lowest priority',
    'is the default; `engine` (and `engine_version`) in a task choose another.',
    '',
    `Engine names also accepted: ${Object.entries(ENGINE_ALIASES)
      .map(([alias, engine]) => `\`${alias}\` → \`${engine}\``)
      .join(', ')}.`,
    '',
    'Options every processing task takes: `input`, `input_format`, `output_format`, `engine`,',
    '`engine_version`, `filename` (printf placeholders such as `page-%d.png` number several',
    'outputs), `timeout` (seconds), `password` (for encrypted PDF and office inputs).',
    '',
  ];
  for (const operation of Object.keys(PROCESSING_OPERATIONS)) {
    lines.push(`## ${operation}`, '');
    lines.push('| engine | priority | input formats | output formats | options |');
    lines.push('|---|---|---|---|---|');
    let any = false;
    for (const spec of ENGINE_SPECS) {
      for (const entry of spec.entries.filter((e) => e.operation === operation)) {
        any = true;
        lines.push(
          `| ${spec.name} | ${entry.priority ?? 100} | ${cell(formats(entry.inputs, ''))} | ${cell(
            formats(entry.outputs, 'same as input'),
          )} | ${cell(entry.options.map(option).join('; ') || '—')} |`,
        );
      }
    }
    if (!any) {
      lines.push('| — | | | | |');
    }
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

const text = renderFormats();
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing counts as stale
  }
  if (current !== text) {
    process.stderr.write(
      'docs/formats.md is stale: run `node --import tsx packages/api/scripts/formats-doc.ts`\n',
    );
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
}
