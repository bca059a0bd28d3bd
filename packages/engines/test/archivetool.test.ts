// archivetool on real corpus files with awkward names: every format is read back with the
// system's own tools (unzip, python's zipfile, GNU tar, 7-Zip), and the extracted bytes must be
// the inputs' bytes.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chooseRow, cleanFilename, replaceExtension, splitExtension } from '@convertd/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ArchiveToolEngine } from '../src/archivetool/archivetool.engine';
import { archiveEntryNames } from '../src/archivetool/entries';
import type { EngineInput, EngineJob } from '../src/engine';
import { CORPUS } from './office';
import { failure } from './support';

const KIDS = "kids' stories & tales [v2] 100%.pdf";
const GERMAN_XLSX = 'Städte & Bevölkerung – Übersicht #3.xlsx';
const SWEDISH_DOCX =
  'Longitudinell_jämförelse_mellan_laserkirurgi_och_strålbehandling_gällande_röstkvalitet_och_självskattad_kommunikation_upp_till_två_år_efter_tidig_stämbandscancer_i_ett_randomiserat_kontrollerat_försök.docx';
/** The system tools read names in the locale's charset. */
const UTF8 = { ...process.env, LC_ALL: 'C.UTF-8' };

let root: string;
const sut = new ArchiveToolEngine();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'engines-archivetool-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function input(path: string, filename: string): EngineInput {
  return { path, filename, format: filename.split('.').pop()!.toLowerCase(), source: 'import' };
}

/** Corpus files under the names users gave them, with two `notes.docx` of different content. */
const CORPUS_INPUTS = [
  input(join(CORPUS, 'pdf', KIDS), KIDS),
  input(join(CORPUS, 'office', GERMAN_XLSX), GERMAN_XLSX),
  input(join(CORPUS, 'office', SWEDISH_DOCX), SWEDISH_DOCX),
  input(join(CORPUS, 'office/notes.docx'), 'notes.docx'),
  input(join(CORPUS, 'office/delins.docx'), 'notes.docx'),
  input(join(CORPUS, 'office/having-images.docx'), 'Notes für Ämter – 猫 (final).docx'),
  input(join(CORPUS, 'office/images.odt'), 'NOTES.docx'),
];
const CORPUS_NAMES = [
  KIDS,
  GERMAN_XLSX,
  SWEDISH_DOCX,
  'notes.docx',
  'notes (2).docx',
  'Notes für Ämter – 猫 (final).docx',
  'NOTES (3).docx',
];

async function archive(
  inputs: EngineInput[],
  outputFormat: string,
  extra: Partial<EngineJob> = {},
): Promise<string> {
  const workDir = await mkdtemp(join(root, 'run-'));
  const outputDir = join(workDir, 'out');
  await mkdir(outputDir);
  const { files } = await sut.run({
    operation: 'archive',
    inputs,
    siblings: inputs,
    assets: [],
    outputFormat,
    options: {},
    workDir,
    outputDir,
    deadlineMs: 60_000,
    ...extra,
  });
  expect(files).toEqual([join(outputDir, `archive.${outputFormat}`)]);

  return files[0]!;
}

function tool(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { env: UTF8, encoding: 'utf8', maxBuffer: 16 << 20 });
}

/** Entry names as the format's own tool lists them. */
function listed(file: string, format: string): string[] {
  const lines = (text: string) => text.split('\n').filter((line) => line !== '');
  switch (format) {
    case 'zip':
      return lines(tool('unzip', ['-Z1', file]));
    case 'tar':
      return lines(tool('tar', ['-tf', file]));
    case 'tar.gz':
    case 'tgz':
      return lines(tool('tar', ['-tzf', file]));
    case 'tar.bz2':
      return lines(tool('tar', ['-tjf', file]));
    case '7z':
      // -ba leaves out the header, whose `Path = ` is the archive's own.
      return lines(tool('7zz', ['l', '-slt', '-ba', file]))
        .filter((line) => line.startsWith('Path = '))
        .map((line) => line.slice('Path = '.length));
    default:
      throw new Error(`no lister for ${format}`);
  }
}

/** Extracts with the format's own tool into a fresh dir. */
async function extract(file: string, format: string): Promise<string> {
  const dir = await mkdtemp(join(root, 'x-'));
  switch (format) {
    case 'zip':
      tool('python3', ['-m', 'zipfile', '-e', file, dir]);
      break;
    case '7z':
      tool('7zz', ['x', '-y', '-bd', `-o${dir}`, file]);
      break;
    default:
      tool('tar', ['-xf', file, '-C', dir]);
  }

  return dir;
}

/** First bytes of each format, so that tar.gz is gzip and not a tar named so. */
const MAGIC: Record<string, string> = {
  zip: '504b0304',
  tar: '', // ustar's magic sits at offset 257, checked below
  'tar.gz': '1f8b',
  tgz: '1f8b',
  'tar.bz2': '425a68',
  '7z': '377abcaf271c',
};

async function sha256(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

describe(ArchiveToolEngine.name, () => {
  it('detects its version, and the 7-Zip and bzip2 of this machine', async () => {
    expect(await sut.detect()).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    const tools = await sut.tools();
    expect(tools.sevenZip?.version).toMatch(/^\d+\.\d+$/);
    expect(tools.bzip2?.version).toMatch(/^\d+\.\d+/);
  });

  it('is the catalogue engine of archive to every format', () => {
    for (const format of ['zip', 'tar', 'tar.gz', 'tgz', 'tar.bz2', '7z']) {
      expect(
        chooseRow({ operation: 'archive', inputFormat: 'pdf', outputFormat: format }),
      ).toMatchObject({
        engine: 'archivetool',
        group: 'archive',
      });
    }
    expect(chooseRow({ operation: 'archive', inputFormat: 'pdf', outputFormat: 'rar' })).toBeNull();
  });

  for (const format of ['zip', 'tar', 'tar.gz', 'tgz', 'tar.bz2', '7z']) {
    it(`writes ${format} that its tools list and extract to the inputs' bytes`, async () => {
      const file = await archive(CORPUS_INPUTS, format);
      const head = (await readFile(file)).subarray(0, 512);
      expect(head.toString('hex')).toMatch(new RegExp(`^${MAGIC[format]}`));
      if (format === 'tar') {
        expect(head.subarray(257, 262).toString('latin1')).toBe('ustar');
      }

      expect([...listed(file, format)].sort()).toEqual([...CORPUS_NAMES].sort());
      const dir = await extract(file, format);
      expect((await readdir(dir)).sort()).toEqual([...CORPUS_NAMES].sort());
      for (const [i, name] of CORPUS_NAMES.entries()) {
        expect(await sha256(join(dir, name)), name).toBe(await sha256(CORPUS_INPUTS[i]!.path));
      }
    });
  }

  it('flags zip names as UTF-8 and stores formats that are compressed already', async () => {
    const file = await archive(CORPUS_INPUTS, 'zip');
    const script = [
      'import sys, zipfile',
      'for i in zipfile.ZipFile(sys.argv[1]).infolist():',
      '    print(i.flag_bits & 0x800, i.compress_type, oct(i.external_attr >> 16), i.filename)',
    ].join('\n');
    const rows = tool('python3', ['-c', script, file]).trim().split('\n');
    expect(rows).toHaveLength(CORPUS_NAMES.length);
    for (const row of rows) {
      expect(row).toMatch(/^2048 (0|8) 0o100644 /);
    }
    expect(rows.find((r) => r.endsWith(KIDS))).toMatch(/^2048 8 /); // PDF: deflated
    expect(rows.find((r) => r.endsWith(' notes.docx'))).toMatch(/^2048 0 /); // docx: stored
  });

  it('never writes a path: names that try to leave the folder extract inside it', async () => {
    const dir = await mkdtemp(join(root, 'paths-'));
    const tricky = [
      '../../escaped.txt',
      '/etc/escaped-absolute.txt',
      '..\\..\\escaped-windows.txt',
      'C:escaped-drive.txt',
      '..',
      '.hidden/../../escaped-nested.txt',
      'a\u0000b\u0007.txt',
    ];
    const inputs = await Promise.all(
      tricky.map(async (name, i) => {
        const path = join(dir, `in-${i}`);
        await writeFile(path, `content ${i}\n`);
        return input(path, name);
      }),
    );
    const names = archiveEntryNames(tricky);
    for (const name of names) {
      // eslint-disable-next-line no-control-regex -- control characters are what must not appear
      expect(name).not.toMatch(/[/\\\u0000-\u001f]/);
      expect(name).not.toMatch(/^(\.|[A-Za-z]:)/);
    }

    for (const format of ['zip', 'tar.gz', '7z']) {
      const file = await archive(inputs, format);
      expect(listed(file, format).sort()).toEqual([...names].sort());
      // Extract two levels down: anything escaping would land in `outer` or `parent`.
      const parent = await mkdtemp(join(root, 'parent-'));
      const outer = join(parent, 'outer');
      const inner = join(outer, 'inner');
      await mkdir(inner, { recursive: true });
      if (format === 'zip') {
        tool('unzip', ['-q', file, '-d', inner]);
      } else if (format === '7z') {
        tool('7zz', ['x', '-y', '-bd', `-o${inner}`, file]);
      } else {
        tool('tar', ['-xzf', file, '-C', inner]);
      }
      expect(await readdir(parent)).toEqual(['outer']);
      expect(await readdir(outer)).toEqual(['inner']);
      const extracted = await readdir(inner, { withFileTypes: true });
      expect(extracted.every((e) => e.isFile())).toBe(true);
      expect(extracted.map((e) => e.name).sort()).toEqual([...names].sort());
      for (const [i, name] of names.entries()) {
        expect(await readFile(join(inner, name), 'utf8')).toBe(`content ${i}\n`);
      }
    }
  });

  it('dedupes names the way extraction on case- and form-folding systems would clash', () => {
    expect(
      archiveEntryNames(['a.pdf', 'a.pdf', 'A.PDF', 'a (2).pdf', 'x.tar.gz', 'x.tar.gz']),
    ).toEqual(['a.pdf', 'a (2).pdf', 'A (3).PDF', 'a (2) (2).pdf', 'x.tar.gz', 'x (2).tar.gz']);
    // é precomposed and decomposed are one name on macOS.
    expect(archiveEntryNames(['caf\u00e9.txt', 'cafe\u0301.txt'])).toEqual([
      'caf\u00e9.txt',
      'cafe\u0301 (2).txt',
    ]);
    // A suffix never pushes a name past 255 bytes, and the extension survives.
    const long = `${'ä'.repeat(125)}.pdf`;
    const [first, second] = archiveEntryNames([long, long]);
    expect(Buffer.byteLength(first!)).toBeLessThanOrEqual(255);
    expect(Buffer.byteLength(second!)).toBeLessThanOrEqual(255);
    expect(second).toMatch(/^ä+ \(2\)\.pdf$/);
  });

  it('treats .tar.gz and .tar.bz2 as one extension when names are split, renamed or cut', () => {
    expect(splitExtension('logs 2024.tar.gz')).toEqual(['logs 2024', '.tar.gz']);
    expect(splitExtension('archive.TAR.BZ2')).toEqual(['archive', '.TAR.BZ2']);
    expect(splitExtension('my.tarot.gz')).toEqual(['my.tarot', '.gz']);
    expect(splitExtension('.tar.gz')).toEqual(['.tar.gz', '']);
    expect(replaceExtension('logs.tar.gz', 'zip')).toBe('logs.zip');
    const cut = cleanFilename(`${'x'.repeat(300)}.tar.gz`);
    expect(Buffer.byteLength(cut)).toBe(255);
    expect(cut.endsWith('x.tar.gz')).toBe(true);
  });

  it('fails an empty input list with NO_INPUT_FILES and an unknown format as unsupported', async () => {
    expect((await failure(archive([], 'zip'))).err.code).toBe('NO_INPUT_FILES');
    expect((await failure(archive(CORPUS_INPUTS.slice(0, 1), 'rar'))).err.code).toBe(
      'INVALID_CONVERSION_TYPE',
    );
  });

  it('still makes zip without 7-Zip and bzip2, and fails 7z and tar.bz2 with ENGINE_UNAVAILABLE', async () => {
    const bare = new ArchiveToolEngine({
      sevenZip: [join(root, 'no-such-7zz')],
      bzip2: join(root, 'no-such-bzip2'),
    });
    expect(await bare.detect()).toEqual({ version: expect.any(String) });
    expect(await bare.tools()).toEqual({ sevenZip: null, bzip2: null });

    const job = async (format: string) => {
      const workDir = await mkdtemp(join(root, 'bare-'));
      await mkdir(join(workDir, 'out'));
      return bare.run({
        operation: 'archive',
        inputs: CORPUS_INPUTS.slice(0, 2),
        siblings: [],
        assets: [],
        outputFormat: format,
        options: {},
        workDir,
        outputDir: join(workDir, 'out'),
        deadlineMs: 60_000,
      });
    };
    const zip = await job('zip');
    expect(listed(zip.files[0]!, 'zip')).toEqual(CORPUS_NAMES.slice(0, 2));
    const sevenZip = await failure(job('7z'));
    expect(sevenZip.err.code).toBe('ENGINE_UNAVAILABLE');
    expect(sevenZip.err.message).toContain('7-Zip');
    const bzip2 = await failure(job('tar.bz2'));
    expect(bzip2.err.code).toBe('ENGINE_UNAVAILABLE');
    expect(bzip2.err.message).toContain('bzip2');
  });

  it('stops with ENGINE_TIMEOUT when its deadline passes', async () => {
    // Random bytes deflate slowly: 16 MB takes far longer than the 1 ms given.
    const path = join(root, 'random.bin');
    await writeFile(path, randomBytes(16 << 20));
    const { err } = await failure(archive([input(path, 'random.bin')], 'zip', { deadlineMs: 1 }));
    expect(err.code).toBe('ENGINE_TIMEOUT');
  });

  it('stops with ENGINE_CANCELLED when the task is cancelled', async () => {
    const controller = new AbortController();
    controller.abort(new Error('cancelled by the user'));
    for (const format of ['zip', 'tar.gz', '7z']) {
      const { err } = await failure(archive(CORPUS_INPUTS, format, { signal: controller.signal }));
      expect(err.code).toBe('ENGINE_CANCELLED');
    }
  });
});
