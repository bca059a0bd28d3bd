// Reading and writing PDFs with pdf-lib, and the checks an in-process engine makes for itself:
// no process can be killed at the deadline, so the work stops between steps instead.
import { readFile, writeFile } from 'node:fs/promises';

import { AppError, isAppError } from '@convertd/errors';
import { PDFDocument } from 'pdf-lib';

import type { EngineInput, EngineJob } from '../engine';

/** Stops the run between steps once the task is cancelled or its time is up. */
export interface Guard {
  check(): void;
}

export function guardOf(job: Pick<EngineJob, 'deadlineMs' | 'signal'>): Guard {
  const deadlineAt = Date.now() + job.deadlineMs;

  return {
    check() {
      if (job.signal?.aborted === true) {
        throw new AppError('ENGINE_CANCELLED', { cause: job.signal.reason });
      }
      if (Date.now() > deadlineAt) {
        throw new AppError('ENGINE_TIMEOUT', { details: { engine: 'pdflib' } });
      }
    },
  };
}

/**
 * The input as a pdf-lib document, its metadata left as it is. Unreadable files are the user's
 * (INPUT_CORRUPT), and so are files still encrypted: the worker decrypts those it has a password
 * for before they get here.
 */
export async function loadPdf(input: EngineInput, guard: Guard): Promise<PDFDocument> {
  guard.check();
  const bytes = await readFile(input.path);
  let doc: PDFDocument;
  try {
    doc = await PDFDocument.load(bytes, { updateMetadata: false });
  } catch (err) {
    // pdf-lib refuses encrypted files with an error whose class does not survive its ES5 build,
    // so the file itself tells: an /Encrypt entry in a trailer.
    if (bytes.includes('/Encrypt')) {
      throw new AppError('PASSWORD_REQUIRED', {
        message: `The file ${input.filename} is encrypted; give its password or decrypt it first.`,
        details: { engine: 'pdflib' },
      });
    }
    throw corrupt(input, err);
  }

  guard.check();
  let pages: number;
  try {
    pages = doc.getPageCount();
  } catch (err) {
    throw corrupt(input, err);
  }
  if (pages === 0) {
    throw corrupt(input, new Error('no pages'));
  }

  return doc;
}

export function corrupt(input: EngineInput, cause: unknown): AppError {
  return new AppError('INPUT_CORRUPT', {
    message: `The file ${input.filename} is damaged or is not a PDF.`,
    cause,
    details: { engine: 'pdflib', reason: cause instanceof Error ? cause.message : String(cause) },
  });
}

/**
 * Runs a step that reads the input's page tree: pdf-lib parses lazily, so a broken page or
 * resource dictionary surfaces here rather than at load.
 */
export async function reading<T>(input: EngineInput, step: () => T | Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (isAppError(err)) {
      throw err;
    }
    throw corrupt(input, err);
  }
}

/**
 * Writes `doc` to `path`. Form fields keep the appearances they have: pdf-lib would otherwise
 * redraw every field of an AcroForm with its own fonts.
 */
export async function savePdf(doc: PDFDocument, path: string, guard: Guard): Promise<string> {
  guard.check();
  const bytes = await doc.save({ updateFieldAppearances: false, addDefaultPage: false });
  guard.check();
  await writeFile(path, bytes);

  return path;
}
