// Why an ebook-convert run failed, told from what it printed. calibre exits 1 with a Python
// traceback for every failure; tracebacks stay in the log, users get one sentence.
import { AppError } from '@convertd/errors';

import { GUARD_MARKER } from './link-guard';

/** calibre reports progress as "NN% message" on stdout; the first one starts reading the input. */
const PROGRESS_LINE = /^\d+% /gm;
/** The last line of a traceback: "module.ExceptionName: message". */
const EXCEPTION_LINE = /^[\w.]+(?:Error|error|Exception)(?::.*)?$/gm;
/** Failures of this machine rather than of the book, even while the input is being read. */
const MACHINE_FAULT = /^(?:MemoryError|PermissionError|OSError: \[Errno (?:12|24|28)\])/;

/** Display names of the input formats, for messages. */
const FORMAT_NAMES: Readonly<Record<string, string>> = {
  azw: 'AZW',
  azw3: 'AZW3',
  cbz: 'CBZ comic',
  docx: 'DOCX',
  epub: 'EPUB',
  fb2: 'FB2',
  htm: 'HTML',
  html: 'HTML',
  lit: 'LIT',
  mobi: 'MOBI',
  odt: 'ODT',
  rtf: 'RTF',
  txt: 'text',
};

export interface CalibreOutput {
  stdout: string;
  stderr: string;
}

/** The error for a run that exited 1. */
export function failureError(run: CalibreOutput, inputFormat: string): AppError {
  const exception = lastException(`${run.stdout}\n${run.stderr}`);
  const details = {
    engine: 'calibre',
    // The class only: messages may quote the book.
    exception: exception?.split(':')[0],
    stderrTail: run.stderr.slice(-4096),
  };
  const name = FORMAT_NAMES[inputFormat] ?? inputFormat.toUpperCase();
  if (`${run.stdout}\n${run.stderr}`.includes(GUARD_MARKER)) {
    return new AppError('ENGINE_FAILED', { details: { ...details, reason: 'link guard' } });
  }

  if (exception !== undefined && /\bDRMError\b/.test(exception)) {
    return new AppError('INPUT_CORRUPT', {
      message: `The ${name} file is protected by DRM; calibre cannot convert it.`,
      details: { ...details, reason: 'drm' },
    });
  }

  // A traceback before the second progress line happened while calibre read the input.
  const progress = run.stdout.match(PROGRESS_LINE)?.length ?? 0;
  if (progress <= 1 && !(exception !== undefined && MACHINE_FAULT.test(exception))) {
    return new AppError('INPUT_CORRUPT', {
      message: `The ${name} file could not be read: it is damaged or in another format.`,
      details: { ...details, reason: 'input unreadable' },
    });
  }

  return new AppError('ENGINE_FAILED', { details: { ...details, reason: 'conversion failed' } });
}

function lastException(text: string): string | undefined {
  let last: string | undefined;
  for (const match of text.matchAll(EXCEPTION_LINE)) {
    last = match[0];
  }

  return last?.replace(/^calibre\.ebooks\./, '');
}
