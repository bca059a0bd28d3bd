// The conversion matrix: every file of the shared corpus converts to the main targets of its
// family through the API, and each output is checked by its content, not by its existence.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CORPUS, startStack, type Stack } from '../../../test/harness';
import { byName, createJob, exportedFiles, waitJob, type Json } from './support';

let stack: Stack;
let key: string;
let tmp: string;

beforeAll(async () => {
  stack = await startStack();
  ({ key } = await stack.createUser());
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'convertd-matrix-'));
});

afterAll(async () => {
  await stack?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Passwords of the encrypted corpus files, from MANIFEST.tsv. */
const PASSWORDS: Record<string, string> = {
  'office/protected_page_1.docx': 'foo',
  'office/password_password_cryptoapi.doc': 'password',
  'office/encryptAES.xlsx': 'password',
  'pdf/libreoffice-writer-password.pdf': 'openpassword',
  'pdf/issue6010_2.pdf': 'æøå',
};

/** Documents whose pages hold pictures and no text: their PDFs are checked for images instead. */
const PICTURES_ONLY = new Set(['office/having-images.docx', 'office/shp-picture.pptx']);

const WRITER = ['pdf', 'docx', 'txt'];
const CALC = ['pdf', 'xlsx', 'csv'];
const IMPRESS = ['pdf', 'pptx'];
const IMAGE = ['png', 'jpg', 'webp', 'pdf'];

/** Main targets of each family; `odt` → `docx` and `docx` → `odt` so nothing converts to itself. */
function targetsOf(file: string): string[] {
  // Pictures have no text to extract.
  return familyTargets(file).filter((f) => !(PICTURES_ONLY.has(file) && f === 'txt'));
}

function familyTargets(file: string): string[] {
  const ext = path.extname(file).slice(1).toLowerCase();
  const swap = (list: string[], to: string) => list.map((f) => (f === ext ? to : f));
  switch (ext) {
    case 'docx':
      return swap(WRITER, 'odt');
    case 'doc':
    case 'odt':
    case 'rtf':
      return WRITER;
    case 'xlsx':
      return swap(CALC, 'ods');
    case 'xls':
    case 'ods':
      return CALC;
    case 'csv':
      return ['pdf', 'xlsx'];
    case 'pptx':
      return swap(IMPRESS, 'odp');
    case 'ppt':
    case 'odp':
      return IMPRESS;
    case 'pdf':
      return ['png', 'txt', 'jpg'];
    case 'epub':
      return ['mobi', 'pdf', 'txt'];
    case 'mobi':
      return ['epub', 'pdf'];
    case 'html':
      return ['pdf', 'png'];
    case 'md':
      return ['html', 'pdf'];
    case 'png':
    case 'jpg':
    case 'webp':
      return IMAGE.filter((f) => f !== ext);
    case 'gif':
    case 'heic':
    case 'bmp':
    case 'ico':
      return IMAGE;
    default:
      return [];
  }
}

function corpusFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(CORPUS, dir), { withFileTypes: true })) {
      const rel = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        walk(rel);
      } else if (targetsOf(rel).length > 0) {
        out.push(rel);
      }
    }
  };
  walk('');
  return out.sort();
}

async function checkOutput(file: string, format: string, bytes: Buffer): Promise<void> {
  const out = path.join(tmp, `${Math.random().toString(36).slice(2)}.${format}`);
  fs.writeFileSync(out, bytes);
  switch (format) {
    case 'pdf': {
      const info = execFileSync('pdfinfo', [out], { encoding: 'utf8' });
      expect(Number(/Pages:\s+(\d+)/.exec(info)?.[1])).toBeGreaterThanOrEqual(1);
      if (file.startsWith('image/') || PICTURES_ONLY.has(file)) {
        const images = execFileSync('pdfimages', ['-list', out], { encoding: 'utf8' });
        expect(images.trim().split('\n').length).toBeGreaterThan(2);
      } else {
        expect(execFileSync('pdftotext', [out, '-'], { encoding: 'utf8' }).trim()).not.toBe('');
      }
      return;
    }
    case 'png':
    case 'jpg':
    case 'webp': {
      const meta = await sharp(bytes).metadata();
      expect(meta.format).toBe(format === 'jpg' ? 'jpeg' : format);
      expect(meta.width).toBeGreaterThan(8);
      expect(meta.height).toBeGreaterThan(8);
      return;
    }
    case 'txt':
      if (file.endsWith('.pdf')) {
        // The text of a PDF is what poppler reads from it, word for word.
        expect(words(bytes.toString('utf8'))).toEqual(words(sourceText(file)));
      } else {
        expect(bytes.toString('utf8').replace(/\s/g, '').length).toBeGreaterThan(0);
      }
      return;
    case 'csv':
      // One row per line; a one-cell sheet is a valid CSV without commas.
      expect(bytes.toString('utf8').trim().split('\n').length).toBeGreaterThanOrEqual(1);
      expect(bytes.toString('utf8').trim()).not.toBe('');
      return;
    case 'html':
      expect(bytes.toString('utf8')).toMatch(/<html|<body|<p/i);
      return;
    case 'docx':
    case 'xlsx':
    case 'pptx':
      expect(zipEntries(out)).toContain('[Content_Types].xml');
      return;
    case 'odt':
    case 'ods':
    case 'odp':
    case 'epub': {
      const entries = zipEntries(out);
      expect(entries[0]).toBe('mimetype');
      const mime = execFileSync('unzip', ['-p', out, 'mimetype'], { encoding: 'utf8' });
      expect(mime).toMatch(format === 'epub' ? /^application\/epub\+zip$/ : /opendocument/);
      return;
    }
    case 'mobi':
      expect(bytes.subarray(60, 68).toString('latin1')).toBe('BOOKMOBI');
      return;
    default:
      throw new Error(`no check for ${format}`);
  }
}

function words(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

/** pdftotext of a corpus PDF, opened with its password when it has one. */
function sourceText(file: string): string {
  const password = PASSWORDS[file];
  return execFileSync(
    'pdftotext',
    [...(password ? ['-upw', password] : []), path.join(CORPUS, file), '-'],
    { encoding: 'utf8' },
  );
}

function zipEntries(file: string): string[] {
  return execFileSync('unzip', ['-Z1', file], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

describe('corpus conversion matrix', () => {
  it.each(corpusFiles())(
    '%s converts to its family’s main targets',
    async (file) => {
      const targets = targetsOf(file);
      const password = PASSWORDS[file];
      const tasks: Json = {
        in: {
          operation: 'import/base64',
          file: fs.readFileSync(path.join(CORPUS, file)).toString('base64'),
          filename: path.basename(file),
        },
      };
      for (const target of targets) {
        tasks[`to-${target}`] = {
          operation: 'convert',
          input: 'in',
          output_format: target,
          ...(password ? { password } : {}),
        };
        tasks[`out-${target}`] = { operation: 'export/url', input: `to-${target}` };
      }
      const created = await createJob(stack, key, tasks);
      const job = await waitJob(stack, key, created.id, 170_000);
      const failures = (job.tasks as Json[])
        .filter((t) => t.status !== 'finished')
        .map((t) => `${t.name}: ${t.code} ${t.message}`);
      expect(failures).toEqual([]);
      for (const target of targets) {
        const files = await exportedFiles(byName(job, `out-${target}`));
        expect(files.length).toBeGreaterThanOrEqual(1);
        for (const f of files) {
          await checkOutput(file, target, f.bytes);
        }
      }
    },
    180_000,
  );
});
