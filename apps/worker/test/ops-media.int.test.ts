// Media operations through the official node SDK: ffmpeg conversions and thumbnails of a video
// made here, exiftool metadata read and written, and commands of ffmpeg and GraphicsMagick, the
// results downloaded and read back by content.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';

import { makeVideo } from '../../../packages/engines/test/media';
import { api, CORPUS } from '../../../test/harness';
import { sdkStack, taskOf as task, type Exported, type SdkJob } from './support';

const KATZE_NAME = 'Katze 猫 progressive (1).jpg';
const KATZE = path.join(CORPUS, 'image', KATZE_NAME); // 320x240

const sdk = sdkStack('media');
const { runJob } = sdk;
let video: string;

beforeAll(async () => {
  video = await makeVideo(sdk.tmp, 'source.mp4');
});

/** Every exported file of the job, downloaded, in order. */
async function exported(job: SdkJob): Promise<Exported[]> {
  expect(job.status).toBe('finished');

  return sdk.exports(job);
}

interface Probed {
  format: { format_name: string; duration: string };
  streams: { codec_type: string; codec_name: string; width?: number; height?: number }[];
}

function probe(file: string): Probed {
  const json = execFileSync(
    'ffprobe',
    [
      '-v',
      'error',
      '-show_entries',
      'format=format_name,duration:stream=codec_type,codec_name,width,height',
      '-of',
      'json',
      file,
    ],
    { encoding: 'utf8' },
  );

  return JSON.parse(json) as Probed;
}

describe('media operations through the node SDK', () => {
  it('converts an MP4 to WebM', async () => {
    const job = await runJob(
      {
        'import-it': { operation: 'import/upload' },
        'convert-it': { operation: 'convert', input: 'import-it', output_format: 'webm', crf: 35 },
        'export-it': { operation: 'export/url', input: 'convert-it' },
      },
      { 'import-it': [video, 'Ferien 2026.mp4'] },
    );
    expect(task(job, 'convert-it')).toMatchObject({ engine: 'ffmpeg', status: 'finished' });
    expect(task(job, 'convert-it').engine_version).toMatch(/^\d+\.\d+/);

    const [out] = await exported(job);
    expect(out!.filename).toBe('Ferien 2026.webm');
    const probed = probe(out!.file);
    expect(probed.format.format_name).toContain('webm');
    expect(probed.streams.find((s) => s.codec_type === 'video')).toMatchObject({
      codec_name: 'vp9',
      width: 320,
      height: 240,
    });
    expect(probed.streams.find((s) => s.codec_type === 'audio')?.codec_name).toBe('opus');
    expect(Number(probed.format.duration)).toBeCloseTo(3, 0);
  });

  it('takes thumbnails of a video', async () => {
    const job = await runJob(
      {
        'import-it': { operation: 'import/upload' },
        'thumb-it': {
          operation: 'thumbnail',
          input: 'import-it',
          output_format: 'png',
          width: 160,
          count: 2,
        },
        'export-it': { operation: 'export/url', input: 'thumb-it' },
      },
      { 'import-it': [video, 'clip.mp4'] },
    );
    expect(task(job, 'thumb-it').engine).toBe('ffmpeg');
    const files = await exported(job);
    expect(files.map((f) => f.filename)).toEqual(['clip-1.png', 'clip-2.png']);
    for (const { file } of files) {
      expect(await sharp(file).metadata()).toMatchObject({
        format: 'png',
        width: 160,
        height: 120,
      });
    }
  });

  it('reads the metadata of a JPEG', async () => {
    const job = await runJob(
      {
        'import-it': { operation: 'import/upload' },
        'meta-it': { operation: 'metadata', input: 'import-it' },
      },
      { 'import-it': [KATZE, KATZE_NAME] },
    );
    const meta = task(job, 'meta-it');
    expect(meta).toMatchObject({ status: 'finished', engine: 'exiftool' });
    expect(meta.result?.metadata).toMatchObject({
      ImageWidth: 320,
      ImageHeight: 240,
      FileType: 'JPEG',
      FileName: KATZE_NAME,
    });
    expect(meta.result?.metadata).not.toHaveProperty('Directory');
    expect(meta.result?.files ?? []).toEqual([]);
  });

  it('writes metadata into a JPEG and reads it back', async () => {
    const job = await runJob(
      {
        'import-it': { operation: 'import/upload' },
        'write-it': {
          operation: 'metadata/write',
          input: 'import-it',
          metadata: { Artist: 'Jane Doe', Copyright: 'CC BY 4.0', 'XMP-dc:Title': 'Katze' },
        },
        'read-it': { operation: 'metadata', input: 'write-it' },
        'export-it': { operation: 'export/url', input: 'write-it' },
      },
      { 'import-it': [KATZE, KATZE_NAME] },
    );
    expect(task(job, 'write-it').engine).toBe('exiftool');
    expect(task(job, 'read-it').result?.metadata).toMatchObject({
      Artist: 'Jane Doe',
      Copyright: 'CC BY 4.0',
      Title: 'Katze',
      ImageWidth: 320,
    });

    const [out] = await exported(job);
    expect(out!.filename).toBe(KATZE_NAME);
    const tags = JSON.parse(
      execFileSync('exiftool', ['-json', '-Artist', out!.file], { encoding: 'utf8' }),
    ) as { Artist: string }[];
    expect(tags[0]?.Artist).toBe('Jane Doe');
    expect(await sharp(out!.file).metadata()).toMatchObject({
      format: 'jpeg',
      width: 320,
      height: 240,
    });
  });

  it('runs gm version and returns its output', async () => {
    const job = await runJob({
      'run-it': {
        operation: 'command',
        engine: 'graphicsmagick',
        command: 'gm',
        arguments: 'version',
        capture_output: true,
      },
    });
    const run = task(job, 'run-it');
    expect(run).toMatchObject({ status: 'finished', engine: 'graphicsmagick' });
    expect((run.result as { output?: string } | null)?.output).toMatch(/^GraphicsMagick \d+\.\d+/);
  });

  it('runs ffmpeg on /input/<task>/<file> and exports what it wrote to /output/', async () => {
    const job = await runJob(
      {
        'import-it': { operation: 'import/upload' },
        'run-it': {
          operation: 'command',
          input: 'import-it',
          engine: 'ffmpeg',
          command: 'ffmpeg',
          arguments: '-i /input/import-it/video.mp4 /output/out.gif',
        },
        'export-it': { operation: 'export/url', input: 'run-it' },
      },
      { 'import-it': [video, 'video.mp4'] },
    );
    expect(task(job, 'run-it').engine).toBe('ffmpeg');
    const [out] = await exported(job);
    expect(out!.filename).toBe('out.gif');
    expect(probe(out!.file).streams[0]).toMatchObject({
      codec_name: 'gif',
      width: 320,
      height: 240,
    });
  });

  it('refuses a command that names a file outside its directories, naming arguments', async () => {
    const res = await api(sdk.stack, sdk.key, 'POST', '/v2/jobs', {
      tasks: {
        'import-it': { operation: 'import/upload' },
        'run-it': {
          operation: 'command',
          input: 'import-it',
          engine: 'ffmpeg',
          command: 'ffmpeg',
          arguments: '-i /etc/passwd /output/out.mp4',
        },
      },
    });

    expect(res.status).toBe(422);
    expect(res.json.code).toBe('INVALID_DATA');
    expect(JSON.stringify(res.json.errors)).toContain('/etc/passwd');
    expect(Object.keys(res.json.errors as object)).toEqual(['tasks.run-it.arguments']);
  });
});
