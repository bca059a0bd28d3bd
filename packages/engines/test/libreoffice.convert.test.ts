import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { LibreOfficeEngine } from '../src/libreoffice/libreoffice.engine';
import type { ConvertRequest } from '../src/engine';
import { IMAGES } from './media';
import { FIXTURES, OFFICE, pdfPages, pdfText } from './office';
import { processesMentioning } from './support';

const SWEDISH_DOCX =
  'Longitudinell_jämförelse_mellan_laserkirurgi_och_strålbehandling_gällande_röstkvalitet_och_självskattad_kommunikation_upp_till_två_år_efter_tidig_stämbandscancer_i_ett_randomiserat_kontrollerat_försök.docx';
const GERMAN_XLSX = 'Städte & Bevölkerung – Übersicht #3.xlsx';

let root: string;
let sut: LibreOfficeEngine;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'engines-lo-convert-'));
  sut = new LibreOfficeEngine({
    profileRoot: join(root, 'profiles'),
    workRoot: join(root, 'work'),
    poolSize: 2,
  });
});

afterAll(async () => {
  await sut.close();
  await rm(root, { recursive: true, force: true });
});

/** Converts `inputPath` into a fresh output directory. */
async function convert(
  inputPath: string,
  outputFormat: string,
  options: ConvertRequest['options'] = {},
) {
  const outputDir = await mkdtemp(join(root, 'out-'));
  const inputFormat = extname(inputPath).slice(1).toLowerCase();
  const { files } = await sut.convert({
    inputPath,
    inputFormat,
    outputFormat,
    outputDir,
    options,
    deadlineMs: 30_000,
  });

  return { files, outputDir };
}

describe(LibreOfficeEngine.name, () => {
  it('reports the LibreOffice version', async () => {
    expect(await sut.detect()).toEqual({
      version: expect.stringMatching(/^\d+\.\d+\.\d+/) as string,
    });
  });

  it('lists conversions within one document family', () => {
    expect(sut.name).toBe('libreoffice');
    expect(sut.canConvert('docx', 'pdf')).toBe(true);
    expect(sut.canConvert('xlsx', 'csv')).toBe(true);
    expect(sut.canConvert('docx', 'xlsx')).toBe(false);
    expect(sut.canConvert('docx', 'docx')).toBe(false);
    expect(sut.canConvert('pdf', 'docx')).toBe(false);
    expect(sut.conversions().find((c) => c.input === 'pptx')?.outputs).toEqual([
      'pdf',
      'ppt',
      'odp',
    ]);
  });

  it.each([
    ['notes.docx', 2, 'Test footnote'],
    [GERMAN_XLSX, 5, 'Big City Average Location'],
    ['cht-charts.pptx', 1, 'Series 1'],
    ['simple-table.doc', 1, 'created using Word 97'],
    ['images.odt', 1, 'Left justified picture'],
    ['formatting.rtf', 1, 'This is a test of'],
    ['country-codes.csv', undefined, 'ISO3166-1-Alpha-3'],
  ])('converts %s to PDF', async (name, pages, text) => {
    const { files, outputDir } = await convert(join(OFFICE, name), 'pdf');
    const [pdf = ''] = files;

    expect(files).toEqual([join(outputDir, `${basename(name, extname(name))}.pdf`)]);
    expect(await pdfText(pdf, 3)).toContain(text);
    if (pages === undefined) {
      expect(await pdfPages(pdf)).toBeGreaterThan(1);
    } else {
      expect(await pdfPages(pdf)).toBe(pages);
    }
  });

  it('keeps a long Swedish file name for the output', async () => {
    const { files, outputDir } = await convert(join(OFFICE, SWEDISH_DOCX), 'pdf');

    expect(files).toEqual([join(outputDir, SWEDISH_DOCX.replace(/\.docx$/, '.pdf'))]);
    expect(await pdfPages(files[0] ?? '')).toBe(1);
  });

  it('converts docx to odt', async () => {
    const { files } = await convert(join(OFFICE, 'notes.docx'), 'odt');
    const odt = await readFile(files[0] ?? '');

    expect(odt.subarray(0, 2).toString()).toBe('PK');
    expect(odt.includes('application/vnd.oasis.opendocument.text')).toBe(true);
  });

  it('converts xlsx to UTF-8 csv', async () => {
    const { files, outputDir } = await convert(join(OFFICE, GERMAN_XLSX), 'csv');
    const csv = await readFile(files[0] ?? '', 'utf8');

    expect(files).toEqual([join(outputDir, 'Städte & Bevölkerung – Übersicht #3.csv')]);
    expect(csv).toContain('Latitude,Longitude');
    expect(csv).toContain('25.40°');
  });

  it('reads TSV as tab-separated UTF-8 and writes comma-separated UTF-8', async () => {
    const input = join(await mkdtemp(join(root, 'in-')), 'towns.tsv');
    await writeFile(input, 'name\tcity\nÅsa\tMalmö\nZoë\tKöln\n');
    const { files } = await convert(input, 'csv');

    expect(await readFile(files[0] ?? '', 'utf8')).toBe('name,city\nÅsa,Malmö\nZoë,Köln\n');
  });

  it('writes UTF-8 text from a document', async () => {
    const { files } = await convert(join(OFFICE, 'HeaderFooterUnicode.doc'), 'txt');

    expect(await readFile(files[0] ?? '', 'utf8')).toContain('€');
  });

  it('exports only the requested pages', async () => {
    const { files } = await convert(join(OFFICE, 'writer.rtf'), 'pdf', { pages: '2-3' });

    expect(await pdfPages(files[0] ?? '')).toBe(2);
  });

  it('exports from a page to the end with "N-", as the PDF tools read it', async () => {
    const all = await pdfPages((await convert(join(OFFICE, 'writer.rtf'), 'pdf')).files[0] ?? '');
    const { files } = await convert(join(OFFICE, 'writer.rtf'), 'pdf', { pages: '3-' });

    expect(await pdfPages(files[0] ?? '')).toBe(all - 2);
  });

  it('returns the pictures of an HTML export after the page itself', async () => {
    const { files, outputDir } = await convert(join(OFFICE, 'having-images.docx'), 'html');

    expect(files[0]).toBe(join(outputDir, 'having-images.html'));
    expect(files.slice(1).every((f) => f.endsWith('.png'))).toBe(true);
    expect((await readdir(outputDir)).sort()).toEqual(files.map((f) => basename(f)).sort());
  });

  it('opens a workbook encrypted with the default password', async () => {
    const { files } = await convert(join(FIXTURES, 'velvet-sweatshop.xls'), 'pdf');

    expect(await pdfPages(files[0] ?? '')).toBeGreaterThan(0);
  });

  it('converts an HTML page (which opens in Writer/Web) to DOCX and PDF without losing the process', async () => {
    const dir = await mkdtemp(join(root, 'html-'));
    const page = join(dir, 'page.html');
    await writeFile(
      page,
      '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>T</title>' +
        '<style>h1 { border-bottom: 1px solid #ccc; }</style></head>' +
        '<body><h1>A toucan</h1><p>Beak facts.</p></body></html>',
    );
    const before = sut.state().restarts;
    const docx = await convert(page, 'docx');
    const pdf = await convert(page, 'pdf');

    expect((await readFile(docx.files[0] ?? '')).subarray(0, 2).toString()).toBe('PK');
    expect(await pdfText(pdf.files[0] ?? '')).toContain('Beak facts.');
    expect(sut.state().restarts).toEqual(before);
  });

  it('fetches nothing a document links to, on the network or on this machine', async () => {
    const requests: string[] = [];
    const server = createServer((req, res) => {
      requests.push(req.url ?? '');
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const dir = await mkdtemp(join(root, 'links-'));
      const page = join(dir, 'links.html');
      const local = join(IMAGES, 'toucan.png');
      await writeFile(
        page,
        `<html><head><link rel="stylesheet" href="http://127.0.0.1:${port}/style.css"></head>` +
          `<body><p>Linked things.</p><img src="http://127.0.0.1:${port}/remote.png">` +
          `<img src="file://${local}"></body></html>`,
      );
      const docx = await convert(page, 'docx');
      const pdf = await convert(page, 'pdf');

      expect(requests).toEqual([]);
      expect(await pdfText(pdf.files[0] ?? '')).toContain('Linked things.');
      const images = execFileSync('pdfimages', ['-list', pdf.files[0]!], { encoding: 'utf8' });
      expect(images.trim().split('\n')).toHaveLength(2); // the header lines only
      const media = execFileSync('unzip', ['-l', docx.files[0]!], { encoding: 'utf8' });
      expect(media).not.toContain('word/media/');
    } finally {
      server.close();
    }
  });

  it('runs two conversions at once on two warm processes with their own profiles', async () => {
    const [doc, sheet] = await Promise.all([
      convert(join(OFFICE, 'HeaderFooterUnicode.doc'), 'pdf'),
      convert(join(OFFICE, 'WithThreeCharts.xls'), 'xlsx'),
    ]);

    expect(await pdfText(doc.files[0] ?? '')).toContain('€');
    expect((await readFile(sheet.files[0] ?? '')).subarray(0, 2).toString()).toBe('PK');
    const profiles = await readdir(join(root, 'profiles'));
    expect(profiles.filter((name) => name.startsWith('office-'))).toHaveLength(2);
    expect(sut.state()).toMatchObject({ size: 2, live: 2, idle: 2, busy: 0 });
    expect(processesMentioning(join(root, 'profiles')).length).toBeGreaterThanOrEqual(2);
  });

  it('leaves no soffice process, profile or work directory behind once closed', async () => {
    expect(await readdir(join(root, 'work'))).toEqual([]);
    await sut.close();

    expect(processesMentioning(root)).toEqual([]);
    expect(await readdir(join(root, 'profiles'))).toEqual([]);
  });
});
