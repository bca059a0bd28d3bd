// E-books through calibre with the official node SDK: uploads go in, the downloaded books are
// opened without calibre (EPUB as ZIP and XML, MOBI records decompressed) and read for the text.
import fs from 'node:fs';
import path from 'node:path';

import sharp from 'sharp';
import { describe, expect, it } from 'vitest';

import { mobiText, readEpub } from '../../../packages/engines/test/ebook';
import { CORPUS } from '../../../test/harness';
import { sdkStack, taskOf, type Exported, type SdkJob } from './support';

const ALICE = path.join(CORPUS, 'ebook/alice.epub');
const LADY_SUSAN = path.join(CORPUS, 'ebook/testbook.mobi');

const sdk = sdkStack('ebook');

/** Uploads `file` as `name`, converts it with `convert` and exports the result. */
function convertBook(file: string, name: string, convert: Record<string, unknown>) {
  return sdk.runFile(file, name, { operation: 'convert', ...convert });
}

async function exported(job: SdkJob): Promise<Exported> {
  const [result] = await sdk.exports(job);

  return result!;
}

function convertTask(job: SdkJob) {
  return taskOf(job, 'work');
}

describe('convert with calibre through the official node SDK', () => {
  it('turns an EPUB into a MOBI that holds the book', async () => {
    const job = await convertBook(ALICE, 'Alice im Wunderland – 1865.epub', {
      output_format: 'mobi',
    });

    expect(job.status).toBe('finished');
    expect(convertTask(job).engine).toBe('calibre');
    expect(convertTask(job).engine_version).toMatch(/^\d+\.\d+\.\d+$/);
    const { filename, file } = await exported(job);
    expect(filename).toBe('Alice im Wunderland – 1865.mobi');
    const mobi = await mobiText(file);
    expect(mobi.type).toBe('BOOKMOBI');
    expect(mobi.title).toBe("Alice's Adventures in Wonderland");
    expect(mobi.text).toContain('was beginning to get very tired of sitting by her sister');
  });

  it('turns a MOBI into an EPUB, with the title asked for', async () => {
    const job = await convertBook(LADY_SUSAN, 'testbook.mobi', {
      output_format: 'epub',
      engine: 'calibre',
      title: 'Lady Susan (a novel in letters)',
    });

    expect(job.status).toBe('finished');
    const { filename, file } = await exported(job);
    expect(filename).toBe('testbook.epub');
    const epub = await readEpub(file);
    expect(epub.firstMember).toBe('mimetype');
    expect(epub.mimetype).toBe('application/epub+zip');
    expect(epub.opf).toContain('<dc:title>Lady Susan (a novel in letters)</dc:title>');
    expect(epub.text).toContain('I can no longer refuse myself the pleasure');
  });

  it('ends a task on a damaged book with INPUT_CORRUPT and a short message', async () => {
    const fake = path.join(sdk.tmp, 'fake.epub');
    fs.writeFileSync(fake, Buffer.alloc(4096, 'no zip here '));

    const job = await convertBook(fake, 'fake.epub', { output_format: 'mobi' });

    expect(job.status).toBe('error');
    const task = convertTask(job);
    expect(task.code).toBe('INPUT_CORRUPT');
    expect(task.message).toBe(
      'The EPUB file could not be read: it is damaged or in another format.',
    );
  });

  it('refuses an option that calibre does not have for the pair', async () => {
    const refused = await sdk.cc.jobs
      .create({
        tasks: {
          'import-it': { operation: 'import/upload' },
          'convert-it': {
            operation: 'convert',
            input: 'import-it',
            input_format: 'epub',
            output_format: 'txt',
            title: 'Plain text has no title',
          },
        },
      } as never)
      .then(
        () => undefined,
        (err: unknown) => (err as { cause: Response }).cause,
      );

    expect(refused?.status).toBe(422);
    const body = (await refused!.json()) as { code: string; errors: Record<string, string[]> };
    expect(body.code).toBe('INVALID_DATA');
    expect(Object.keys(body.errors)).toEqual(['tasks.convert-it.title']);
  });
});

describe('thumbnails of e-books', () => {
  it('draws an EPUB that lists an encrypted font, which MuPDF alone refuses, through calibre', async () => {
    const job = await sdk.runFile(
      path.join(CORPUS, 'ebook/epub2_picture.epub'),
      'epub2_picture.epub',
      { operation: 'thumbnail', output_format: 'png', width: 200 },
    );

    expect(job.status).toBe('finished');
    const [thumb] = await sdk.exports(job);
    const meta = await sharp(thumb!.bytes).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBe(200);
  }, 60_000);
});
