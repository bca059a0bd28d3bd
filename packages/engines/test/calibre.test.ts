import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { PassThrough } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { promisify } from 'node:util';

import { ZipFile } from 'yazl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { chooseRow } from '@convertd/api';

import { conversionArgs, supports } from '../src/calibre/arguments';
import { CalibreEngine, stagingStem } from '../src/calibre/calibre.engine';
import { failureError } from '../src/calibre/failure';
import {
  ALICE,
  convertJob,
  EPUB2,
  LADY_SUSAN,
  mobiText,
  NOTES_DOCX,
  readEpub,
  zipMembers,
} from './ebook';
import { pdfPages, pdfText } from './office';
import { eventually, failure, processesMentioning } from './support';

const run = promisify(execFile);
const ALICE_OPENING = 'was beginning to get very tired of sitting by her sister';
const SUSAN_OPENING =
  'I can no longer refuse myself the pleasure of profiting by your kind invitation';
const CANARY = 'CONVERTD-CALIBRE-CANARY-7f3a';

let root: string;
const sut = new CalibreEngine();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'engines-calibre-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function convert(input: string, outputFormat: string, options = {}) {
  const job = await convertJob(root, input, outputFormat, options);
  const result = await sut.run(job);

  return { job, result, file: result.files[0] ?? '' };
}

/** A ZIP (DOCX, EPUB) of the given members, in order. */
async function zipOf(members: Record<string, string | Buffer>): Promise<Buffer> {
  const zip = new ZipFile();
  for (const [name, data] of Object.entries(members)) {
    zip.addBuffer(Buffer.from(data), name, { compress: name !== 'mimetype' });
  }
  zip.end();

  return buffer(zip.outputStream as PassThrough);
}

/** Names of the ZIP members whose decompressed content holds the canary. */
async function membersWithCanary(file: string): Promise<string[]> {
  const members = await zipMembers(file);

  return [...members].filter(([, data]) => data.includes(CANARY)).map(([name]) => name);
}

describe(CalibreEngine.name, () => {
  it('reports the calibre version', async () => {
    expect(await sut.detect()).toEqual({
      version: expect.stringMatching(/^\d+\.\d+\.\d+$/) as string,
    });
  });

  it('converts an EPUB to a MOBI that holds the book', async () => {
    const { file } = await convert(ALICE, 'mobi');

    expect(basename(file)).toBe('alice.mobi');
    const mobi = await mobiText(file);
    expect(mobi.type).toBe('BOOKMOBI');
    expect(mobi.title).toBe("Alice's Adventures in Wonderland");
    expect(mobi.text).toContain(ALICE_OPENING);
    expect(mobi.text).toContain('Down The Rabbit-Hole');
  });

  it('converts a MOBI to a valid EPUB with the text of the book', async () => {
    const { file } = await convert(LADY_SUSAN, 'epub');

    const epub = await readEpub(file);
    expect(epub.firstMember).toBe('mimetype');
    expect(epub.mimetype).toBe('application/epub+zip');
    expect(epub.containerXml).toContain('application/oebps-package+xml');
    expect(epub.opf).toMatch(/<dc:title>Lady Susan<\/dc:title>/);
    expect(epub.text).toContain(SUSAN_OPENING);
  });

  it('converts an EPUB to a PDF on the paper size and margins asked for', async () => {
    const { file } = await convert(EPUB2, 'pdf', {
      page_size: 'a4',
      margin_top: 36,
      margin_right: 36,
      margin_bottom: 36,
      margin_left: 36,
    });

    expect(await pdfPages(file)).toBeGreaterThanOrEqual(1);
    expect(await pdfText(file, 5)).toContain('Pandoc EPUB2 Test');
    const { stdout } = await run('pdfinfo', [file]);
    expect(stdout).toMatch(/Page size:\s+595(?:\.\d+)? x 842/);
  });

  it('converts an EPUB to plain text', async () => {
    const { file } = await convert(ALICE, 'txt');

    const text = (await readFile(file, 'utf8')).replace(/\s+/g, ' ');
    expect(text).toContain(ALICE_OPENING);
    expect(text).toContain("The Queen's Croquet Ground");
  });

  it('converts a DOCX to an EPUB with the title and author given', async () => {
    const { file } = await convert(NOTES_DOCX, 'epub', {
      title: '-Notes & Footnotes',
      author: 'Ada Lovelace & Charles Babbage',
    });

    expect(basename(file)).toBe('notes.epub');
    const epub = await readEpub(file);
    expect(epub.firstMember).toBe('mimetype');
    expect(epub.opf).toContain('<dc:title>-Notes &amp; Footnotes</dc:title>');
    expect(epub.opf).toMatch(/<dc:creator[^>]*>Ada Lovelace<\/dc:creator>/);
    expect(epub.opf).toMatch(/<dc:creator[^>]*>Charles Babbage<\/dc:creator>/);
    expect(epub.text).toContain('Test footnote');
  });

  it('leaves no file of its run behind, and no calibre process', async () => {
    const { job } = await convert(LADY_SUSAN, 'txt');

    expect(await readdir(job.workDir)).toEqual(['out']);
    expect(processesMentioning(job.workDir)).toEqual([]);
  });

  describe('local files', () => {
    let outside: string;

    beforeAll(async () => {
      outside = await mkdtemp(join(tmpdir(), 'engines-calibre-outside-'));
      await writeFile(join(outside, 'secret.html'), `<html><body><p>${CANARY}</p></body></html>`);
      await writeFile(join(outside, 'secret.png'), `${CANARY} not a picture`);
    });

    afterAll(async () => {
      await rm(outside, { recursive: true, force: true });
    });

    it('does not follow links of an HTML page to other files of the machine', async () => {
      const page = join(root, 'links.html');
      const target = join(outside, 'secret.html');
      await writeFile(
        page,
        `<html><head><title>Links</title></head><body><p>Visible page</p>` +
          `<a href="${target}">absolute</a> <a href="file://${target}">url</a>` +
          `<a href="../../../../../../../..${target}">relative</a></body></html>`,
      );

      const { file } = await convert(page, 'epub');

      const epub = await readEpub(file);
      expect(epub.text).toContain('Visible page');
      expect(await membersWithCanary(file)).toEqual([]);
      expect(epub.opf).not.toContain('secret');
    });

    it('does not read Markdown links of a text file', async () => {
      // Enough headings and links for calibre to take the text for Markdown if it may guess.
      const secret = join(outside, 'secret.html');
      const text = join(root, 'notes.txt');
      await writeFile(
        text,
        [1, 2, 3, 4]
          .map((n) => `# Part ${n}\n\nSome *notes* with [a link](${secret}).\n`)
          .join('\n') + `\n![picture](${join(outside, 'secret.png')})\n`,
      );

      const { file } = await convert(text, 'epub');

      const epub = await readEpub(file);
      expect(epub.text).toContain('Some *notes* with');
      expect(await membersWithCanary(file)).toEqual([]);
    });

    it('does not embed a picture that a DOCX links to with a file:// URL', async () => {
      const docx = join(root, 'linked-picture.docx');
      await writeFile(docx, await linkedPictureDocx(`file://${join(outside, 'secret.png')}`));

      const { file } = await convert(docx, 'epub');

      const epub = await readEpub(file);
      expect(epub.text).toContain('A linked picture follows');
      expect(await membersWithCanary(file)).toEqual([]);
    });
  });

  describe('failures', () => {
    it('refuses a file that is not the e-book it claims to be, without a traceback', async () => {
      const fake = join(root, 'fake.epub');
      await writeFile(fake, Buffer.alloc(5000, 'not a zip archive '));

      const { err } = await failure(sut.run(await convertJob(root, fake, 'mobi')));

      expect(err.code).toBe('INPUT_CORRUPT');
      expect(err.message).toBe(
        'The EPUB file could not be read: it is damaged or in another format.',
      );
    });

    it('refuses a MOBI that is plain text', async () => {
      const fake = join(root, 'text.mobi');
      await writeFile(fake, 'hello, I am not a book\n');

      const { err } = await failure(sut.run(await convertJob(root, fake, 'epub')));

      expect(err.code).toBe('INPUT_CORRUPT');
      expect(err.message).not.toMatch(/Traceback|File "|\/tmp\//);
    });

    it('says so when a MOBI is locked with DRM', async () => {
      const locked = join(root, 'locked.mobi');
      const data = await readFile(LADY_SUSAN);
      // The PalmDOC header's encryption type: 2 is Mobipocket DRM.
      data.writeUInt16BE(2, data.readUInt32BE(78) + 12);
      await writeFile(locked, data);

      const { err } = await failure(sut.run(await convertJob(root, locked, 'epub')));

      expect(err.code).toBe('INPUT_CORRUPT');
      expect(err.message).toBe('The MOBI file is protected by DRM; calibre cannot convert it.');
    });

    it('refuses a pair it does not serve', async () => {
      const { err } = await failure(sut.run(await convertJob(root, NOTES_DOCX, 'xlsx')));

      expect(err.code).toBe('INVALID_CONVERSION_TYPE');
    });

    it('stops at the deadline and leaves no process behind', async () => {
      const job = await convertJob(root, ALICE, 'pdf', {}, { deadlineMs: 1500 });

      const { err } = await failure(sut.run(job));

      expect(err.code).toBe('ENGINE_TIMEOUT');
      expect(await eventually(() => processesMentioning(job.workDir).length === 0, 5000)).toBe(
        true,
      );
    });
  });
});

describe('calibre in the catalogue', () => {
  it.each([
    ['epub', 'pdf', 'calibre'],
    ['mobi', 'epub', 'calibre'],
    ['docx', 'epub', 'calibre'],
    ['docx', 'pdf', 'libreoffice'],
    ['odt', 'docx', 'libreoffice'],
    ['rtf', 'txt', 'libreoffice'],
  ])('serves %s to %s with %s first', (input, output, engine) => {
    expect(
      chooseRow({ operation: 'convert', inputFormat: input, outputFormat: output })?.engine,
    ).toBe(engine);
  });

  it('keeps calibre as the fallback for documents to PDF', () => {
    const row = chooseRow(
      { operation: 'convert', inputFormat: 'html', outputFormat: 'pdf' },
      new Set(['calibre']),
    );

    expect(row).toMatchObject({ engine: 'calibre', priority: 200 });
  });

  it('lists only the pairs calibre reads cleanly', () => {
    expect(supports('epub', 'mobi')).toBe(true);
    expect(supports('cbz', 'pdf')).toBe(true);
    expect(supports('cbz', 'txt')).toBe(false);
    expect(supports('pdb', 'epub')).toBe(false);
    expect(supports('htmlz', 'epub')).toBe(false);
    expect(supports('epub', 'epub')).toBe(false);
  });
});

describe(conversionArgs.name, () => {
  it('keeps every value in the argument of its option', () => {
    expect(
      conversionArgs('epub', 'pdf', {
        title: '--output-profile=kindle',
        author: 'A & B',
        page_size: 'a5',
        margin_top: 10,
        margin_left: 0,
      }),
    ).toEqual([
      '--title=--output-profile=kindle',
      '--authors=A & B',
      '--paper-size=a5',
      '--pdf-page-margin-top=10',
      '--pdf-page-margin-left=0',
    ]);
  });

  it('turns off link following for HTML and Markdown for text', () => {
    expect(conversionArgs('html', 'epub', {})).toEqual(['--max-levels=0']);
    expect(conversionArgs('txt', 'mobi', {})).toEqual(['--formatting-type=plain']);
    expect(conversionArgs('docx', 'epub', { page_size: 'a4' })).toEqual([]);
  });
});

describe(stagingStem.name, () => {
  it.each([
    ['Städte & 猫 (1).epub', 'Städte & 猫 (1)'],
    ['--help.epub', 'help'],
    ['.hidden.mobi', 'hidden'],
    ['-.epub', 'book'],
    ['a\u0000b\nc.txt', 'a_b_c'],
  ])('stages %j as %j', (name, stem) => {
    expect(stagingStem(name)).toBe(stem);
  });

  it('keeps long names under the file system limit', () => {
    expect(Buffer.byteLength(stagingStem(`${'ä'.repeat(200)}.epub`))).toBeLessThanOrEqual(120);
  });
});

describe(failureError.name, () => {
  const traceback = (last: string) =>
    `Traceback (most recent call last):\n  File "/usr/lib/calibre/x.py", line 1, in <module>\n${last}\n`;

  it('blames the input for a failure while reading it', () => {
    const err = failureError(
      {
        stdout: '1% Converting input to HTML...\nInputFormatPlugin: EPUB Input running\n',
        stderr: traceback('ValueError: Not a ZIP file'),
      },
      'epub',
    );

    expect(err.code).toBe('INPUT_CORRUPT');
    expect(err.details).toMatchObject({ exception: 'ValueError' });
  });

  it('blames the machine for a failure after the input was read', () => {
    const err = failureError(
      {
        stdout: '1% Converting input to HTML...\n34% Running transforms on e-book...\n',
        stderr: traceback('KeyError: spam'),
      },
      'epub',
    );

    expect(err.code).toBe('ENGINE_FAILED');
  });

  it('blames the machine when it runs out of space while reading', () => {
    const err = failureError(
      {
        stdout: '1% Converting input to HTML...\n',
        stderr: traceback('OSError: [Errno 28] No space left on device'),
      },
      'docx',
    );

    expect(err.code).toBe('ENGINE_FAILED');
  });

  it('keeps tracebacks out of the message', () => {
    const err = failureError(
      { stdout: '', stderr: traceback('calibre.ebooks.DRMError: Some Title') },
      'epub',
    );

    expect(err.code).toBe('INPUT_CORRUPT');
    expect(err.message).toBe('The EPUB file is protected by DRM; calibre cannot convert it.');
  });
});

/** A DOCX whose only picture is linked (not embedded) with the given target. */
async function linkedPictureDocx(target: string): Promise<Buffer> {
  const main = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml';
  const rel = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
  const ns =
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" ' +
    `xmlns:r="${rel}" ` +
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" ' +
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" ' +
    'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"';
  const picture =
    '<w:drawing><wp:inline><wp:extent cx="914400" cy="914400"/><wp:docPr id="1" name="P"/>' +
    '<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">' +
    '<pic:pic><pic:nvPicPr><pic:cNvPr id="0" name="p.png"/><pic:cNvPicPr/></pic:nvPicPr>' +
    '<pic:blipFill><a:blip r:link="rIdPicture"/></pic:blipFill><pic:spPr/></pic:pic>' +
    '</a:graphicData></a:graphic></wp:inline></w:drawing>';

  return zipOf({
    '[Content_Types].xml':
      '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
      `<Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="${main}"/></Types>`,
    '_rels/.rels':
      '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
      `<Relationship Id="rId1" Type="${rel}/officeDocument" Target="word/document.xml"/></Relationships>`,
    'word/document.xml':
      `<?xml version="1.0" encoding="UTF-8"?><w:document ${ns}><w:body>` +
      '<w:p><w:r><w:t>A linked picture follows.</w:t></w:r></w:p>' +
      `<w:p><w:r>${picture}</w:r></w:p></w:body></w:document>`,
    'word/_rels/document.xml.rels':
      '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
      `<Relationship Id="rIdPicture" Type="${rel}/image" Target="${target}" TargetMode="External"/></Relationships>`,
  });
}
