import type { ClaimedTask, Prisma, StoredFile } from '@convertd/db';

import type { WorkerContext } from '../context';
import { runExportUrl } from './export-url';
import { runImport } from './import';
import { runProcessing } from './process';
import { runExportS3 } from './s3/export-s3';
import { runImportS3 } from './s3/import-s3';
import { REMOTE_STORAGE_OPERATIONS } from './storage/index';
import { PROCESSING_OPERATIONS } from '@convertd/api';

/** What an operation produced: files it stored and the rest of its result. */
export interface OperationOutput {
  files: StoredFile[];
  result?: Prisma.InputJsonObject;
  engine?: string;
  engineVersion?: string;
  /** Informational task message (kept when the task finishes). */
  message?: string;
}

export interface OperationRun {
  ctx: WorkerContext;
  task: ClaimedTask;
  workDir: string;
  signal: AbortSignal;
  deadline: number;
  /** Storage keys written so far; the runner deletes them if the task does not finish. */
  stored: string[];
}

export type Operation = (run: OperationRun) => Promise<OperationOutput>;

export const OPERATIONS: Readonly<Record<string, Operation>> = {
  'import/url': runImport,
  'import/base64': runImport,
  'import/raw': runImport,
  'import/s3': runImportS3,
  'export/url': runExportUrl,
  'export/s3': runExportS3,
  ...REMOTE_STORAGE_OPERATIONS,
  ...Object.fromEntries(Object.keys(PROCESSING_OPERATIONS).map((op) => [op, runProcessing])),
};
