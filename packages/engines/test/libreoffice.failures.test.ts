import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { LibreOfficeEngine } from '../src/libreoffice/libreoffice.engine';
import { ipcPipePaths } from '../src/libreoffice/profile-pool';
import type { ConvertRequest } from '../src/engine';
import { FIXTURES, OFFICE, pdfPages } from './office';
import { eventually, failure, processesMentioning } from './support';

const GRACE_MS = 1000;
/** What a stopped conversion may take on top of its deadline and the kill grace. */
const SLACK_MS = 1000;

let root: string;
let profiles: string;
let sut: LibreOfficeEngine;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'engines-lo-failures-'));
  profiles = join(root, 'profiles');
  sut = new LibreOfficeEngine({ profileRoot: profiles, killGraceMs: GRACE_MS });
});

afterAll(async () => {
  await sut.close();
  await rm(root, { recursive: true, force: true });
});

function request(inputPath: string, overrides: Partial<ConvertRequest> = {}): ConvertRequest {
  return {
    inputPath,
    inputFormat: extname(inputPath).slice(1).toLowerCase(),
    outputFormat: 'pdf',
    outputDir: root,
    options: {},
    deadlineMs: 30_000,
    ...overrides,
  };
}

/** A scratch file with the given bytes. */
async function scratch(name: string, bytes: Buffer): Promise<string> {
  const path = join(await mkdtemp(join(root, 'in-')), name);
  await writeFile(path, bytes);

  return path;
}

async function convertsNotes(): Promise<void> {
  const outputDir = await mkdtemp(join(root, 'out-'));
  const { files } = await sut.convert(request(join(OFFICE, 'notes.docx'), { outputDir }));

  expect(await pdfPages(files[0] ?? '')).toBe(2);
}

describe(`${LibreOfficeEngine.name} failures`, () => {
  it.each([
    ['protected_page_1.docx', OFFICE],
    ['encryptAES.xlsx', OFFICE],
    ['password_password_cryptoapi.doc', OFFICE],
    ['encrypted-secret.odt', FIXTURES],
    ['encrypted-secret.xls', FIXTURES],
  ])('rejects the password-protected %s with PASSWORD_REQUIRED', async (name, dir) => {
    const path = join(dir, name);
    const { err } = await failure(sut.convert(request(path)));

    expect(err.code).toBe('PASSWORD_REQUIRED');
    expect(err.retryable).toBe(false);
  });

  it.each([
    ['empty.docx', () => Buffer.alloc(0)],
    ['random.docx', () => randomBytes(20_000)],
    ['random.doc', () => randomBytes(20_000)],
    [
      'random.xls',
      () => Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), randomBytes(9000)]),
    ],
  ])('rejects %s with INPUT_CORRUPT before starting soffice', async (name, bytes) => {
    const { err, ms } = await failure(sut.convert(request(await scratch(name, bytes()))));

    expect(err.code).toBe('INPUT_CORRUPT');
    expect(ms).toBeLessThan(200);
  });

  it('rejects a truncated docx with INPUT_CORRUPT', async () => {
    const whole = await readFile(join(OFFICE, 'notes.docx'));
    const { err } = await failure(
      sut.convert(request(await scratch('cut.docx', whole.subarray(0, 5000)))),
    );

    expect(err.code).toBe('INPUT_CORRUPT');
  });

  it('maps a load failure to INPUT_CORRUPT, then converts on the same profile', async () => {
    const { err } = await failure(sut.convert(request(join(FIXTURES, 'not-a-document.docx'))));

    expect(err.code).toBe('INPUT_CORRUPT');
    expect(err.details).toMatchObject({ reason: 'load failed' });
    await convertsNotes();
    expect(await readdir(profiles)).toHaveLength(1);
  });

  it.each([
    ['pdf', 'docx'],
    ['docx', 'xlsx'],
  ])('refuses %s to %s with INVALID_CONVERSION_TYPE', async (input, output) => {
    const { err } = await failure(
      sut.convert(
        request(join(OFFICE, 'notes.docx'), { inputFormat: input, outputFormat: output }),
      ),
    );

    expect(err.code).toBe('INVALID_CONVERSION_TYPE');
  });

  it('rejects a malformed page range with INVALID_DATA', async () => {
    const { err } = await failure(
      sut.convert(request(join(OFFICE, 'notes.docx'), { options: { page_range: '1-3"}' } })),
    );

    expect(err.code).toBe('INVALID_DATA');
    expect(err.errors).toHaveProperty('page_range');
  });

  it('rejects a page range past the last page with INVALID_DATA', async () => {
    const { err } = await failure(
      sut.convert(request(join(OFFICE, 'writer.rtf'), { options: { pages: '20-30' } })),
    );

    expect(err.code).toBe('INVALID_DATA');
    expect(err.errors).toHaveProperty('pages');
  });

  it('kills soffice at the deadline, wipes its profile and converts again afterwards', async () => {
    const [profile = ''] = await readdir(profiles);
    const deadlineMs = 300;
    const { err, ms } = await failure(
      sut.convert(request(join(OFFICE, 'writer.rtf'), { deadlineMs })),
    );

    expect(err.code).toBe('ENGINE_TIMEOUT');
    expect(ms).toBeLessThan(deadlineMs + GRACE_MS + SLACK_MS);
    expect(await eventually(() => processesMentioning(profiles).length === 0)).toBe(true);
    expect(existsSync(join(profiles, profile))).toBe(false);
    expect(ipcPipePaths(join(profiles, profile)).filter((p) => existsSync(p))).toEqual([]);
    await convertsNotes();
  });

  it('stops soffice with ENGINE_CANCELLED when the signal aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 250);
    const { err, ms } = await failure(
      sut.convert(request(join(OFFICE, 'writer.rtf'), { signal: controller.signal })),
    );

    expect(err.code).toBe('ENGINE_CANCELLED');
    expect(ms).toBeLessThan(250 + GRACE_MS + SLACK_MS);
    expect(await eventually(() => processesMentioning(profiles).length === 0)).toBe(true);
  });

  it('leaves the input file untouched', async () => {
    const original = await readFile(join(OFFICE, 'notes.docx'));
    const input = await scratch('notes.docx', original);
    const outputDir = await mkdtemp(join(root, 'out-'));
    await sut.convert(request(input, { outputDir }));

    expect(await readFile(input)).toEqual(original);
    expect(await readdir(join(input, '..'))).toEqual(['notes.docx']);
  });
});
