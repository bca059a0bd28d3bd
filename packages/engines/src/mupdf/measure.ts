// Opens a document with `mutool run` and a small script: whether it opens (and with the password),
// how many pages it has once laid out, and the size of the pages a task will render.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { PAGE_RENDER_LIMITS } from '@convertd/api';
import { AppError } from '@convertd/errors';

import type { Size } from '../paged/fit';
import { runTool } from '../paged/tools';
import type { ToolContext } from '../paged/tools';

/**
 * Pages of e-books, in points, and their font size. mutool draw and its JavaScript have different
 * defaults (420 x 595 pt at 11 pt, 450 x 600 pt at 12 pt), so both are given the same.
 */
export const EBOOK_LAYOUT = { width: 450, height: 600, em: 12 } as const;

export interface Measured {
  pages: number;
  /** Page sizes in points (the page as drawn: crop box, /Rotate and /UserUnit applied). */
  sizes: Map<number, Size>;
}

/**
 * Runs inside mutool's JavaScript (ES5). Arguments: the file, the password or "", the pages to
 * measure ("none", "all" or ranges like "1-3,5"), at most `limit` of them, and the layout of
 * e-books (page width, height, font size). Prints one JSON line.
 */
const SCRIPT = `
var file = scriptArgs[0], password = scriptArgs[1], wanted = scriptArgs[2];
var limit = Number(scriptArgs[3]);
var out = {};
try {
  var doc = new Document(file);
  if (doc.isReflowable()) {
    doc.layout(Number(scriptArgs[4]), Number(scriptArgs[5]), Number(scriptArgs[6]));
  }
  if (doc.needsPassword()) {
    if (password === '') {
      out.error = 'password-required';
    } else if (!doc.authenticatePassword(password)) {
      out.error = 'password-invalid';
    }
  }
  if (!out.error) {
    var count = doc.countPages();
    out.pages = count;
    out.sizes = {};
    var ranges = wanted === 'none' ? [] : wanted === 'all' ? ['1-' + count] : wanted.split(',');
    var measured = 0;
    for (var i = 0; i < ranges.length; i++) {
      var ends = ranges[i].split('-');
      var last = Math.min(Number(ends[ends.length - 1]), count);
      for (var p = Number(ends[0]); p <= last && measured < limit; p++) {
        var b = doc.loadPage(p - 1).bound();
        out.sizes[p] = [b[2] - b[0], b[3] - b[1]];
        measured++;
      }
    }
  }
} catch (e) {
  out.error = 'open-failed';
  out.reason = String(e);
}
print(JSON.stringify(out));
`;

interface ScriptOutput {
  error?: 'password-required' | 'password-invalid' | 'open-failed';
  reason?: string;
  pages?: number;
  sizes?: Record<string, [number, number]>;
}

/** Measures `input`; `wanted` is "none", "all" or page ranges ("1-3,5"). */
export async function measure(
  mutool: string,
  input: string,
  password: string | undefined,
  wanted: string,
  ctx: ToolContext,
): Promise<Measured> {
  const script = join(ctx.cwd, 'measure.js');
  await writeFile(script, SCRIPT);
  // One more than may be rendered, so that a selection over the limit is still seen as such.
  const limit = String(PAGE_RENDER_LIMITS.maxPages + 1);
  const layout = [EBOOK_LAYOUT.width, EBOOK_LAYOUT.height, EBOOK_LAYOUT.em].map(String);
  const run = await runTool(
    mutool,
    ['run', script, input, password ?? '', wanted, limit, ...layout],
    ctx,
  );
  const line = run.stdout.split('\n').find((l) => l.startsWith('{'));
  const out = line === undefined ? undefined : (JSON.parse(line) as ScriptOutput);
  const details = {
    engine: 'mupdf',
    reason: out?.error ?? 'no answer',
    stderrTail: run.stderr.slice(-2048),
  };
  if (out === undefined) {
    throw new AppError('ENGINE_FAILED', { details });
  }

  switch (out.error) {
    case 'password-required':
      throw new AppError('PASSWORD_REQUIRED', { details });
    case 'password-invalid':
      throw new AppError('PASSWORD_INVALID', { details });
    case 'open-failed':
      throw new AppError('INPUT_CORRUPT', { details: { ...details, error: out.reason } });
    case undefined:
      break;
  }

  if (out.pages === undefined || out.pages < 1) {
    throw new AppError('INPUT_CORRUPT', {
      message: 'The document has no pages that can be read.',
      details: { ...details, reason: 'no pages' },
    });
  }

  const sizes = new Map<number, Size>();
  for (const [page, [width, height]] of Object.entries(out.sizes ?? {})) {
    if (!(width > 0 && height > 0)) {
      throw new AppError('INPUT_CORRUPT', {
        message: `Page ${page} of the document has no area.`,
        details: { ...details, reason: 'empty page', width, height },
      });
    }

    sizes.set(Number(page), { width, height });
  }

  return { pages: out.pages, sizes };
}
