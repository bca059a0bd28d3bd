// PDF passwords for every PDF engine: tells encrypted from plain and broken files, checks the
// password, and hands engines a decrypted copy. Built on qpdf; never waits past the deadline.
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';

import { AppError } from '@convertd/errors';

import type { EngineInput, EngineJob } from '../engine';
import type { EngineLogger } from '../logger';
import { runQpdf, runQpdfJob } from './qpdf-job';
import type { PdfToolOptions, QpdfCall } from './qpdf-job';

export type { PdfToolOptions } from './qpdf-job';

/** What qpdf tells about a PDF before anything else reads it. */
export interface PdfFacts {
  /** The file has an encryption dictionary (a user password, an owner password or both). */
  encrypted: boolean;
  /** Opening it needs a user password. */
  needsPassword: boolean;
  /** It opens: without a password, or with the one given. */
  opens: boolean;
  /** Number of pages; known only when the file opens. */
  pages: number | undefined;
}

export interface OpenedPdf {
  /** The input itself when it was not encrypted, else a decrypted copy in the work dir. */
  input: EngineInput;
  pages: number;
  decrypted: boolean;
}

/**
 * Inspects a PDF with qpdf. Rejects with INPUT_CORRUPT when the file is not a PDF, is damaged
 * beyond repair or has no page; a password that is missing or wrong is reported in the facts.
 */
export async function inspectPdf(
  path: string,
  options: PdfToolOptions & { password?: string | undefined },
): Promise<PdfFacts> {
  const call = qpdfCall(options);
  // An absolute path never starts with '-', so qpdf cannot take it for an option.
  const file = resolve(path);
  // Exit 0: a password is needed; 3: encrypted but opens without one (owner password only);
  // 2: not encrypted, or not readable at all (told apart by counting the pages below).
  const status = await runQpdf(['--requires-password', file], { ...call, okExitCodes: [0, 2, 3] });
  const encrypted = status.exitCode !== 2;
  const needsPassword = status.exitCode === 0;
  const password = needsPassword ? nonEmpty(options.password) : undefined;
  if (needsPassword) {
    // A wrong password keeps exit 0; the right one turns it into 3.
    const opens =
      password !== undefined &&
      (
        await runQpdfJob(
          { inputFile: file, password, requiresPassword: '' },
          { ...call, okExitCodes: [0, 2, 3] },
        )
      ).exitCode === 3;
    if (!opens) {
      return { encrypted, needsPassword, opens, pages: undefined };
    }
  }

  const pages = await countPages(file, password, call);

  return { encrypted, needsPassword, opens: true, pages };
}

/**
 * The input, ready for any engine: a plain PDF as it is, an encrypted one as a decrypted copy
 * in `options.workDir`. Rejects with PASSWORD_REQUIRED when a user password is needed and none
 * is given, PASSWORD_INVALID when the one given does not open it, INPUT_CORRUPT when the file
 * is not a usable PDF. Owner-password-only files are unlocked without asking.
 */
export async function openPdf(
  input: EngineInput,
  password: string | undefined,
  options: PdfToolOptions,
): Promise<OpenedPdf> {
  const started = Date.now();
  const facts = await inspectPdf(input.path, { ...options, password });
  options.logger?.debug(
    { encrypted: facts.encrypted, needsPassword: facts.needsPassword, pages: facts.pages },
    'pdf inspected',
  );
  if (!facts.opens || facts.pages === undefined) {
    throw nonEmpty(password) === undefined
      ? new AppError('PASSWORD_REQUIRED', {
          message: 'The PDF is protected by a password; give it in the task’s password field.',
        })
      : new AppError('PASSWORD_INVALID', { message: 'The password does not open the PDF.' });
  }

  if (!facts.encrypted) {
    return { input, pages: facts.pages, decrypted: false };
  }

  const output = join(options.workDir, `unlocked-${randomUUID()}.pdf`);
  const call = qpdfCall({ ...options, deadlineMs: options.deadlineMs - (Date.now() - started) });
  const secret = facts.needsPassword ? nonEmpty(password) : undefined;
  await runQpdfJob(
    {
      inputFile: resolve(input.path),
      ...(secret === undefined ? {} : { password: secret }),
      outputFile: output,
      decrypt: '',
    },
    call,
  );
  options.logger?.debug({ pages: facts.pages }, 'pdf decrypted');

  return { input: { ...input, path: output }, pages: facts.pages, decrypted: true };
}

/** `openPdf` for an engine's task: the task's password, work dir, deadline, signal and logger. */
export function openJobPdf(job: EngineJob, input: EngineInput): Promise<OpenedPdf> {
  const password = job.options['password'];

  return openPdf(input, typeof password === 'string' ? password : undefined, {
    workDir: job.workDir,
    deadlineMs: job.deadlineMs,
    signal: job.signal,
    logger: job.logger,
  });
}

/**
 * `openPdf` for the worker, which runs it on every PDF input before an engine sees it. Resolves
 * with the input to hand on (the same object when nothing had to change).
 */
export async function unlockPdf(
  input: EngineInput,
  password: string | undefined,
  workDir: string,
  deadlineMs: number,
  signal?: AbortSignal,
  logger?: EngineLogger,
): Promise<EngineInput> {
  const opened = await openPdf(input, password, { workDir, deadlineMs, signal, logger });

  return opened.input;
}

async function countPages(
  file: string,
  password: string | undefined,
  call: QpdfCall,
): Promise<number> {
  const check = { ...call, okExitCodes: [0, 2, 3] };
  const run =
    password === undefined
      ? await runQpdf(['--show-npages', file], check)
      : await runQpdfJob({ inputFile: file, password, showNpages: '' }, check);
  const pages = Number(run.stdout.trim());
  // Exit 2: qpdf could not even rebuild the cross-reference table. Zero pages: what it rebuilt
  // holds nothing an engine could use.
  if (run.exitCode === 2 || !Number.isInteger(pages) || pages < 1) {
    throw new AppError('INPUT_CORRUPT', {
      message: 'The file is not a PDF or is damaged beyond repair.',
      details: { exitCode: run.exitCode, stderrTail: run.stderr.slice(-2048) },
    });
  }

  return pages;
}

function qpdfCall(options: PdfToolOptions): QpdfCall {
  return {
    workDir: options.workDir,
    deadlineAt: Date.now() + options.deadlineMs,
    signal: options.signal,
    logger: options.logger,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
