// metadata/write: entries of the document Info dictionary, standard keys matched without regard to
// case, anything else kept as a custom entry. XMP metadata streams are left as they are.
import { join } from 'node:path';

import { AppError } from '@convertd/errors';
import { PDFDict, PDFHexString, PDFName, PDFString, type PDFDocument } from 'pdf-lib';

import type { EngineJob } from '../engine';
import { type Guard, loadPdf, savePdf } from './document';
import { outputName, single } from './page-tools';

const TEXT_KEYS = ['Title', 'Author', 'Subject', 'Keywords', 'Creator', 'Producer'];
const DATE_KEYS = ['CreationDate', 'ModDate'];
const TRAPPED = new Map([
  ['true', 'True'],
  ['false', 'False'],
  ['unknown', 'Unknown'],
]);
const CANONICAL = new Map([...TEXT_KEYS, ...DATE_KEYS, 'Trapped'].map((k) => [k.toLowerCase(), k]));

export async function writeMetadata(job: EngineJob, guard: Guard): Promise<string[]> {
  const input = single(job);
  const entries = readEntries(job.options.metadata);
  const doc = await loadPdf(input, guard);
  const info = infoDict(doc);
  let modDateGiven = false;
  for (const [rawKey, value] of entries) {
    const key = CANONICAL.get(rawKey.toLowerCase()) ?? rawKey;
    const name = PDFName.of(key);
    if (value === null) {
      info.delete(name);
      continue;
    }
    modDateGiven ||= key === 'ModDate';
    if (DATE_KEYS.includes(key)) {
      info.set(name, PDFString.fromDate(dateOf(rawKey, value)));
    } else if (key === 'Trapped') {
      const trapped = TRAPPED.get(value.toLowerCase());
      if (!trapped) {
        throw invalid(rawKey, 'Trapped must be True, False or Unknown.');
      }
      info.set(name, PDFName.of(trapped));
    } else {
      info.set(name, PDFHexString.fromText(value));
    }
  }
  if (!modDateGiven) {
    info.set(PDFName.of('ModDate'), PDFString.fromDate(new Date()));
  }

  return [await savePdf(doc, join(job.outputDir, outputName(input)), guard)];
}

/** Key and value pairs; null for a value that removes its key (null or ""). */
function readEntries(raw: unknown): [string, string | null][] {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new AppError('INVALID_DATA', {
      errors: { metadata: ['The metadata must be an object of keys and values.'] },
    });
  }
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length === 0) {
    throw new AppError('INVALID_DATA', {
      errors: { metadata: ['The metadata must set or remove at least one key.'] },
    });
  }

  return entries.map(([key, value]) => {
    if (key.trim() === '') {
      throw invalid(key, 'Metadata keys cannot be empty.');
    }
    if (value === null || value === undefined || value === '') {
      return [key, null];
    }
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      return [key, String(value)];
    }
    throw invalid(key, 'Metadata values must be strings or numbers.');
  });
}

function dateOf(key: string, value: string): Date {
  // ISO 8601 dates and times only: Date also parses free text such as "May 5", which would
  // silently become some year's date.
  const date = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim())
    ? new Date(value.trim())
    : new Date(NaN);
  if (Number.isNaN(date.getTime())) {
    throw invalid(key, `${key} must be an ISO 8601 date, e.g. 2024-05-31 or 2024-05-31T12:00:00Z.`);
  }

  return date;
}

/** The document's Info dictionary, created when it has none. */
function infoDict(doc: PDFDocument): PDFDict {
  const existing = doc.context.lookupMaybe(doc.context.trailerInfo.Info, PDFDict);
  if (existing) {
    return existing;
  }
  const info = doc.context.obj({});
  doc.context.trailerInfo.Info = doc.context.register(info);

  return info;
}

function invalid(key: string, message: string): AppError {
  return new AppError('INVALID_DATA', { errors: { [`metadata.${key}`]: [message] } });
}
