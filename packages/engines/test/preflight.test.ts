import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { inspectOfficeInput } from '../src/libreoffice/preflight';
import { FIXTURES, OFFICE } from './office';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'engines-preflight-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function scratch(name: string, bytes: Buffer | string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);

  return path;
}

describe(inspectOfficeInput.name, () => {
  it.each([
    'notes.docx',
    'simple-table.doc',
    'HeaderFooterUnicode.doc',
    'WithThreeCharts.xls',
    'SampleShow.ppt',
    'cht-charts.pptx',
    'images.odt',
    'chinese_spreadsheet.ods',
    'emb_spreadsheet.odp',
    'writer.rtf',
    'country-codes.csv',
  ])('passes the readable %s', async (name) => {
    const format = name.split('.').pop() ?? '';

    expect(await inspectOfficeInput(join(OFFICE, name), format)).toEqual({ kind: 'ok' });
  });

  it.each([
    ['protected_page_1.docx', OFFICE, 'docx', 'encrypted OOXML package'],
    ['password_password_cryptoapi.doc', OFFICE, 'doc', 'encrypted Word document'],
    ['encrypted-secret.odt', FIXTURES, 'odt', 'encrypted ODF package'],
  ])('rejects %s as PASSWORD_REQUIRED', async (name, folder, format, reason) => {
    expect(await inspectOfficeInput(join(folder, name), format)).toEqual({
      kind: 'reject',
      code: 'PASSWORD_REQUIRED',
      reason,
    });
  });

  // Excel's default password may be in use; soffice decides, a failed load then means a password.
  it.each([
    ['encryptAES.xlsx', OFFICE, 'xlsx', 'encrypted OOXML package'],
    ['encrypted-secret.xls', FIXTURES, 'xls', 'encrypted Excel workbook'],
    ['velvet-sweatshop.xls', FIXTURES, 'xls', 'encrypted Excel workbook'],
  ])('marks %s as encrypted without rejecting it', async (name, folder, format, reason) => {
    expect(await inspectOfficeInput(join(folder, name), format)).toEqual({
      kind: 'encrypted',
      reason,
    });
  });

  it('rejects an empty file', async () => {
    expect(await inspectOfficeInput(await scratch('empty.odt', ''), 'odt')).toMatchObject({
      code: 'INPUT_CORRUPT',
      reason: 'empty file',
    });
  });

  it('rejects a docx without the ZIP end record', async () => {
    const whole = await readFile(join(OFFICE, 'notes.docx'));
    const path = await scratch('cut.docx', whole.subarray(0, whole.length - 100));

    expect(await inspectOfficeInput(path, 'docx')).toMatchObject({ code: 'INPUT_CORRUPT' });
  });

  it('rejects random bytes named like a ZIP or a compound-file format', async () => {
    const path = await scratch('random.bin', randomBytes(8192));

    expect(await inspectOfficeInput(path, 'pptx')).toMatchObject({ code: 'INPUT_CORRUPT' });
    expect(await inspectOfficeInput(path, 'xls')).toMatchObject({ code: 'INPUT_CORRUPT' });
  });

  it('rejects a compound-file header followed by garbage', async () => {
    const magic = Buffer.from('d0cf11e0a1b11ae1', 'hex');
    const path = await scratch('broken.doc', Buffer.concat([magic, randomBytes(4096)]));

    expect(await inspectOfficeInput(path, 'doc')).toMatchObject({ code: 'INPUT_CORRUPT' });
  });

  it('passes RTF or HTML saved under a .doc name, which LibreOffice opens', async () => {
    const rtf = await readFile(join(OFFICE, 'formatting.rtf'));

    expect(await inspectOfficeInput(await scratch('rtf.doc', rtf), 'doc')).toEqual({ kind: 'ok' });
    expect(
      await inspectOfficeInput(await scratch('page.xls', '<html><table></table></html>'), 'xls'),
    ).toEqual({
      kind: 'ok',
    });
  });

  it('passes a text format whatever its bytes', async () => {
    expect(await inspectOfficeInput(await scratch('bytes.txt', randomBytes(100)), 'txt')).toEqual({
      kind: 'ok',
    });
  });
});
