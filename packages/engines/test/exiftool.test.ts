// The exiftool engine: metadata of corpus files and of a video made here, and tags written into
// copies, read back with exiftool itself.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { chooseRow } from '@convertd/api';

import { ExifToolEngine } from '../src/exiftool/exiftool.engine';
import { exifOf, IMAGES, inputOf, makeVideo, runEngine } from './media';
import { failure } from './support';

const KATZE = join(IMAGES, 'Katze 猫 progressive (1).jpg');
const PDF = resolve(IMAGES, '../pdf/bug2004951.pdf');

let root: string;
let video: string;
const sut = new ExifToolEngine();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'engines-exiftool-'));
  video = await makeVideo(root);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function metadata(path: string, filename?: string) {
  const result = await runEngine(sut, root, {
    operation: 'metadata',
    inputs: [inputOf(path, filename)],
  });
  expect(result.files).toEqual([]);

  return result.metadata ?? {};
}

async function write(path: string, tags: Record<string, unknown>) {
  const { files } = await runEngine(sut, root, {
    operation: 'metadata/write',
    inputs: [inputOf(path)],
    options: { metadata: tags },
  });
  expect(files).toHaveLength(1);

  return files[0]!;
}

describe(ExifToolEngine.name, () => {
  it('reports the ExifTool version', async () => {
    expect(await sut.detect()).toEqual({ version: expect.stringMatching(/^\d+\.\d+/) as string });
  });

  it('is the default engine for metadata of any file', () => {
    for (const inputFormat of ['jpg', 'pdf', 'mp4', 'docx', '']) {
      expect(chooseRow({ operation: 'metadata', inputFormat })?.engine).toBe('exiftool');
    }
  });

  it("reads the tags of a JPEG, with the user's file name and none of our paths", async () => {
    const tags = await metadata(KATZE, 'Katze 猫 progressive (1).jpg');
    expect(tags).toMatchObject({
      FileType: 'JPEG',
      MIMEType: 'image/jpeg',
      ImageWidth: 320,
      ImageHeight: 240,
      FileName: 'Katze 猫 progressive (1).jpg',
      EncodingProcess: 'Progressive DCT, Huffman coding',
    });
    for (const ours of ['SourceFile', 'Directory', 'FilePermissions', 'FileAccessDate']) {
      expect(tags).not.toHaveProperty(ours);
    }
    expect(JSON.stringify(tags)).not.toContain(IMAGES);
  });

  it('reads a PDF and a video', async () => {
    expect(await metadata(PDF)).toMatchObject({
      FileType: 'PDF',
      PageCount: 1,
      Author: 'Neil Soiffer',
    });
    const tags = await metadata(video);
    expect(tags).toMatchObject({ FileType: 'MP4', ImageWidth: 320, ImageHeight: 240 });
    expect(String(tags['Duration'])).toContain('3');
  });

  it('reads an office document as what it is, with its creator (needs Archive::Zip)', async () => {
    const tags = await metadata(resolve(IMAGES, '../office/notes.docx'), 'notes.docx');
    expect(tags).toMatchObject({ FileType: 'DOCX', Creator: 'Jesse Rosenthal' });
    expect(JSON.stringify(tags)).not.toContain('Archive::Zip');
  });

  it('answers for a file of no known type with what it can say', async () => {
    const blob = join(root, 'blob.bin');
    await writeFile(blob, Buffer.from([0x00, 0xff, 0x13, 0x37, 0x42, 0x00, 0x01, 0x02]));
    expect(await metadata(blob)).toMatchObject({ FileSize: '8 bytes', Error: 'Unknown file type' });
  });

  it('writes tags into a copy and leaves the input as it was', async () => {
    const before = await readFile(KATZE);
    const out = await write(KATZE, {
      Artist: 'Jane Doe',
      Copyright: '-all= is just text here',
      'XMP-dc:Title': 'Katze',
      Rating: 4,
    });
    expect(
      await exifOf(out, 'Artist', 'Copyright', 'XMP-dc:Title', 'Rating', 'ImageWidth'),
    ).toMatchObject({
      Artist: 'Jane Doe',
      Copyright: '-all= is just text here',
      Title: 'Katze',
      Rating: 4,
      ImageWidth: 320,
    });
    expect((await readFile(KATZE)).equals(before)).toBe(true);
  });

  it('removes a tag given an empty value', async () => {
    const tagged = await write(KATZE, { Artist: 'Someone' });
    const cleared = await write(tagged, { Artist: '' });
    expect(await exifOf(cleared, 'Artist')).not.toHaveProperty('Artist');
  });

  it('writes into PNG and MP4 files', async () => {
    const png = await write(join(IMAGES, 'toucan.png'), { Artist: 'Bird' });
    expect(await exifOf(png, 'Artist')).toMatchObject({ Artist: 'Bird' });
    const mp4 = await write(video, { Title: 'Test pattern' });
    expect(await exifOf(mp4, 'Title', 'Duration')).toMatchObject({ Title: 'Test pattern' });
  });

  it('refuses tag names that are not plain names, before running anything', async () => {
    for (const name of ['Artist<=/etc/passwd', '-all', 'all=', 'a b', '@']) {
      const { err } = await failure(write(KATZE, { [name]: 'x' }));
      expect(err.code).toBe('INVALID_DATA');
      expect(err.errors?.['metadata']?.[0]).toContain('is not a tag name');
    }
  });

  it('refuses the pseudo-tags that would move, rename or link the file, or read another', async () => {
    for (const name of [
      'Directory',
      'FileName',
      'System:SymLink',
      'HardLink',
      'Geotag',
      'testname',
    ]) {
      const { err } = await failure(write(KATZE, { [name]: join(root, 'elsewhere') }));
      expect(err.code).toBe('INVALID_DATA');
      expect(err.errors?.['metadata']?.[0]).toContain('cannot be written');
    }
    expect(await readdir(root)).not.toContain('elsewhere');
  });

  it('refuses tags ExifTool does not know or cannot write', async () => {
    const unknown = await failure(write(KATZE, { NoSuchTag: 'x' }));
    expect(unknown.err.code).toBe('INVALID_DATA');
    expect(unknown.err.errors?.['metadata']?.[0]).toContain('NoSuchTag');
    const fixed = await failure(write(KATZE, { FileType: 'PNG' }));
    expect(fixed.err.errors?.['metadata']?.[0]).toContain('FileType cannot be written');
  });

  it('reports a file that is not what its extension says as corrupt', async () => {
    const fake = join(root, 'fake.jpg');
    await writeFile(fake, 'not a jpeg at all');
    const { err } = await failure(write(fake, { Artist: 'x' }));
    expect(err.code).toBe('INPUT_CORRUPT');
    expect(err.message).not.toContain(root);
  });
});
