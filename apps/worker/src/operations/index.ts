import type { ClaimedTask, Prisma, StoredFile } from '@convertd/db';

import type { WorkerContext } from '../context';
import { runConvert } from './convert';
import { runExportUrl } from './export-url';
import { runImport } from './import';

/** What an operation produced: files it stored and the rest of its result. */
export interface OperationOutput {
  files: StoredFile[];
  result?: Prisma.InputJsonObject;
  engine?: string;
  engineVersion?: string;
  credits?: number;
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
  convert: runConvert,
  'export/url': runExportUrl,
};
