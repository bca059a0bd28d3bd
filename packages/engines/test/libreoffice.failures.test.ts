import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { LibreOfficeEngine } from '../src/libreoffice/libreoffice.engine';
import { ipcPipePaths } from '../src/libreoffice/profile';
import type { ConvertRequest } from '../src/engine';
import { FIXTURES, OFFICE, pdfPages } from './office';
import { eventually, failure, processesMentioning } from './support';

/** What a stopped conversion may take on top of its deadline (issue #4: deadline + 2 s). */
const SLACK_MS = 2000;

let root: string;
let profiles: string;
let sut: LibreOfficeEngine;
let slowText: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'engines-lo-failures-'));
  profiles = join(root, 'profiles');
  sut = new LibreOfficeEngine({ profileRoot: profiles, poolSize: 1 });
  // Plain text that takes LibreOffice a few seconds to lay out as PDF.
  const line = 'The quick brown fox jumps over the lazy dog, then rests a while by the river.\n';
  slowText = await scratch('slow.txt', Buffer.from(line.repeat(16_000)));
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

  it('converts a DOCX that was saved under the .doc extension', async () => {
    const mislabelled = await scratch(
      'mislabelled.doc',
      await readFile(join(OFFICE, 'notes.docx')),
    );
    const outputDir = await mkdtemp(join(root, 'out-'));
    const { files } = await sut.convert(request(mislabelled, { outputDir }));

    expect(await pdfPages(files[0] ?? '')).toBe(2);
  });

  it('rejects a truncated docx with INPUT_CORRUPT', async () => {
    const whole = await readFile(join(OFFICE, 'notes.docx'));
    const { err } = await failure(
      sut.convert(request(await scratch('cut.docx', whole.subarray(0, 5000)))),
    );

    expect(err.code).toBe('INPUT_CORRUPT');
  });

  it('maps a load failure to INPUT_CORRUPT, then converts on the same process', async () => {
    const { err } = await failure(sut.convert(request(join(FIXTURES, 'not-a-document.docx'))));
    const before = sut.state();

    expect(err.code).toBe('INPUT_CORRUPT');
    expect(err.details).toMatchObject({ reason: 'load failed' });
    await convertsNotes();
    expect(sut.state()).toMatchObject({ live: 1, restarts: before.restarts });
    expect((await readdir(profiles)).filter((n) => n.startsWith('office-'))).toHaveLength(1);
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
    await convertsNotes();
    const [profile = ''] = (await readdir(profiles)).filter((n) => n.startsWith('office-'));
    const deadlineMs = 1000;
    const { err, ms } = await failure(sut.convert(request(slowText, { deadlineMs })));

    expect(err.code).toBe('ENGINE_TIMEOUT');
    expect(ms).toBeLessThan(deadlineMs + SLACK_MS);
    expect(await eventually(() => processesMentioning(join(profiles, profile)).length === 0)).toBe(
      true,
    );
    expect(await eventually(() => !existsSync(join(profiles, profile)))).toBe(true);
    const pipes = ipcPipePaths(join(profiles, profile, 'profile'));
    expect(pipes.filter((p) => existsSync(p))).toEqual([]);
    await convertsNotes();
    expect(sut.state().restarts.killed).toBeGreaterThanOrEqual(1);
  });

  it('stops soffice with ENGINE_CANCELLED when the signal aborts', async () => {
    await convertsNotes();
    const [profile = ''] = (await readdir(profiles)).filter((n) => n.startsWith('office-'));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    const { err, ms } = await failure(
      sut.convert(request(slowText, { signal: controller.signal })),
    );

    expect(err.code).toBe('ENGINE_CANCELLED');
    expect(ms).toBeLessThan(500 + SLACK_MS);
    expect(await eventually(() => processesMentioning(join(profiles, profile)).length === 0)).toBe(
      true,
    );
    await convertsNotes();
  });

  it('fails the conversion with ENGINE_CRASHED when soffice dies under it, then recovers', async () => {
    await convertsNotes();
    const [profile = ''] = (await readdir(profiles)).filter((n) => n.startsWith('office-'));
    const running = sut.convert(request(slowText));
    await new Promise((resolve) => setTimeout(resolve, 700));
    const soffice = processesMentioning(join(profiles, profile)).filter((pid) =>
      readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('soffice.bin'),
    );
    expect(soffice).toHaveLength(1);
    // As the kernel's OOM killer would; LibreOffice's own SIGSEGV handler may hang instead of exiting.
    process.kill(soffice[0]!, 'SIGKILL');
    const { err, ms } = await failure(running);

    expect(err.code).toBe('ENGINE_CRASHED');
    expect(err.retryable).toBe(true);
    expect(ms).toBeLessThan(700 + SLACK_MS);
    await convertsNotes();
    expect(sut.state().restarts.crash).toBeGreaterThanOrEqual(1);
  });

  it('stops a conversion whose soffice passes the memory limit, then converts again', async () => {
    const small = new LibreOfficeEngine({
      profileRoot: join(root, 'small-profiles'),
      poolSize: 1,
      // Measured here: an idle soffice holds about 85 MiB, notes.docx takes it to about 135 MiB,
      // and 48 000 lines of text as PDF to about 240 MiB.
      maxRssBytes: 180 * 2 ** 20,
    });
    try {
      await small.warm();
      const line =
        'The quick brown fox jumps over the lazy dog, then rests a while by the river.\n';
      const hungry = await scratch('hungry.txt', Buffer.from(line.repeat(48_000)));
      const { err, ms } = await failure(small.convert(request(hungry)));

      expect(err.code).toBe('ENGINE_FAILED');
      expect(err.message).toContain('more memory than this server allows');
      expect(ms).toBeLessThan(20_000);
      const outputDir = await mkdtemp(join(root, 'out-'));
      const { files } = await small.convert(request(join(OFFICE, 'notes.docx'), { outputDir }));
      expect(await pdfPages(files[0] ?? '')).toBe(2);
    } finally {
      await small.close();
    }
  });

  it('takes its soffice down with it when the worker is killed with SIGKILL', async () => {
    const orphans = join(root, 'killed-worker');
    const script = join(root, 'killed-worker.mts');
    const engine = join(import.meta.dirname, '../src/libreoffice/libreoffice.engine.ts');
    await writeFile(
      script,
      `import { LibreOfficeEngine } from ${JSON.stringify(engine)};\n` +
        `const e = new LibreOfficeEngine({ profileRoot: ${JSON.stringify(orphans)}, poolSize: 1 });\n` +
        `await e.warm();\nprocess.kill(process.pid, 'SIGKILL');\n`,
    );
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], {
      cwd: join(import.meta.dirname, '..'),
      timeout: 60_000,
    });

    expect(child.signal).toBe('SIGKILL');
    expect(await eventually(() => processesMentioning(orphans).length === 0, 10_000)).toBe(true);
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
