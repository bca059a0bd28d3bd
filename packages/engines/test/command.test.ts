// The `command` operation of ffmpeg, ImageMagick and GraphicsMagick: real commands on a video
// made here and corpus images, outputs checked by content, and every way out of the task's own
// directories refused as INVALID_DATA on `arguments`.
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { chooseRow } from '@convertd/api';

import { splitArguments } from '../src/command/arguments';
import { mapArgument } from '../src/command/guard';
import type { Engine, EngineInput } from '../src/engine';
import { FfmpegEngine } from '../src/ffmpeg/ffmpeg.engine';
import { GraphicsMagickEngine } from '../src/graphicsmagick/graphicsmagick.engine';
import { ImageMagickEngine } from '../src/imagemagick/imagemagick.engine';
import { MAGICK_RULES } from '../src/imagemagick/magick';
import { IMAGES, inputOf, makeVideo, probe, runEngine, streamOf } from './media';
import { failure } from './support';

const TOUCAN = join(IMAGES, 'toucan.png');
const DIRS = { input: '/work/t/input', output: '/work/t/out' };
const FFMPEG_RULES = { schemes: new Set(['http', 'https', 'file', 'concat', 'subfile', 'pipe']) };

let root: string;
let video: EngineInput;
let toucan: EngineInput;
const ffmpeg = new FfmpegEngine();
let im: ImageMagickEngine;
const gm = new GraphicsMagickEngine();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'engines-command-'));
  im = new ImageMagickEngine({ configDir: join(root, 'config') });
  video = inputOf(await makeVideo(root, 'in-0.mp4'), 'video.mp4', 'import-it');
  toucan = inputOf(TOUCAN, 'toucan.png', 'import-image');
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function command(
  engine: Engine,
  name: string,
  args: string,
  inputs: EngineInput[] = [],
  capture = false,
) {
  return runEngine(engine, root, {
    operation: 'command',
    inputs,
    options: { command: name, arguments: args, capture_output: capture },
  });
}

/** The command is refused before it runs, naming `arguments`. */
async function expectRefused(run: Promise<unknown>, words: RegExp): Promise<void> {
  const { err } = await failure(run);
  expect(err.code).toBe('INVALID_DATA');
  expect(err.errors?.['arguments']?.[0]).toMatch(words);
}

describe(splitArguments.name, () => {
  it('splits like a shell, honouring quotes and escapes', () => {
    expect(splitArguments(`-i "/input/a b/c d.mp4" -vf 'scale=320:-1' x\\ y.gif`)).toEqual([
      '-i',
      '/input/a b/c d.mp4',
      '-vf',
      'scale=320:-1',
      'x y.gif',
    ]);
    expect(splitArguments(`-metadata 'title=$(id)'`)).toEqual(['-metadata', 'title=$(id)']);
  });

  it.each([
    ['a; rm -rf /', /operators/],
    ['a && b', /operators/],
    ['a | b', /operators/],
    ['a > /etc/x', /operators/],
    ['x $(id)', /substitutions/],
    ['x "$(id)"', /substitutions/],
    ['x $HOME', /substitutions/],
    ['x `id`', /backticks/],
    ['*.png', /Wildcards/],
    ['-fill #ff0000', /comment/],
  ])('refuses %s', (text, words) => {
    let caught: unknown;
    try {
      splitArguments(text);
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'INVALID_DATA' });
    expect((caught as { errors: Record<string, string[]> }).errors['arguments']?.[0]).toMatch(
      words,
    );
  });
});

describe(mapArgument.name, () => {
  it('maps /input and /output wherever a path starts', () => {
    expect(mapArgument('/input/import-it/a.mp4', DIRS, FFMPEG_RULES)).toBe(
      '/work/t/input/import-it/a.mp4',
    );
    expect(mapArgument('/output/', DIRS, FFMPEG_RULES)).toBe('/work/t/out/');
    expect(mapArgument("movie='/input/x/a.png'", DIRS, MAGICK_RULES)).toBe(
      "movie='/work/t/input/x/a.png'",
    );
    expect(mapArgument('png:/output/x.png', DIRS, MAGICK_RULES)).toBe('png:/work/t/out/x.png');
    expect(mapArgument('scale=iw/2:ih/2', DIRS, FFMPEG_RULES)).toBe('scale=iw/2:ih/2');
    expect(mapArgument('image/png', DIRS, FFMPEG_RULES)).toBe('image/png');
  });

  it.each([
    ['/etc/passwd', /Only files under/],
    ['/inputs/x', /Only files under/],
    ['fontfile=/usr/share/fonts/x.ttf', /Only files under/],
    ['textfile=\\/etc\\/passwd', /Only files under/],
    ['[f=mp4]/tmp/x.mp4', /Only files under/],
    ['//etc/passwd', /Only files under/],
    ['/input/../../etc/passwd', /"\.\."/],
    ['../secret', /"\.\."/],
    ['textfile=.\\./.\\./x', /"\.\."/],
    ["'.''.'/x", /"\.\."/],
    ['http://169.254.169.254/', /Only files under|http:/],
    ['HTTPS:example.com/x', /https:/],
    ['concat:/input/a|/input/b', /concat:/],
    ['subfile,,start,0,end,10,,:/input/a', /subfile/],
    ['pipe:1', /pipe:/],
  ])('refuses %s', (arg, words) => {
    expect(() => mapArgument(arg, DIRS, FFMPEG_RULES)).toThrow(
      expect.objectContaining({ errors: { arguments: [expect.stringMatching(words) as string] } }),
    );
  });

  it.each([
    ['@/input/x/list.txt', /@file/],
    ['caption:@/input/x/a.txt', /@file/],
    ['msl:/input/x/a.xml', /msl:/],
    ['ephemeral:/input/x/a.png', /ephemeral:/],
    ['url:http://x', /url:/],
    ['text:/input/x/a.txt', /text:/],
    ['|ls', /Pipes/],
    ['/input/x/drawing.svg', /\.svg/],
    ['/input/x/script.MVG', /\.mvg/],
  ])('refuses %s for ImageMagick and GraphicsMagick', (arg, words) => {
    expect(() => mapArgument(arg, DIRS, MAGICK_RULES)).toThrow(
      expect.objectContaining({ errors: { arguments: [expect.stringMatching(words) as string] } }),
    );
  });
});

describe('command with ffmpeg', () => {
  it('is an operation of ffmpeg, imagemagick and graphicsmagick that takes any input', () => {
    for (const engine of ['ffmpeg', 'imagemagick', 'graphicsmagick']) {
      expect(chooseRow({ operation: 'command', inputFormat: 'mp4', engine })?.engine).toBe(engine);
      expect(chooseRow({ operation: 'command', engine })?.engine).toBe(engine);
    }
  });

  it('converts /input/<task>/<file> into a file of /output/', async () => {
    const { files } = await command(
      ffmpeg,
      'ffmpeg',
      '-i /input/import-it/video.mp4 -vf scale=160:-1 /output/out.gif',
      [video],
    );
    expect(files.map((f) => f.split('/').pop())).toEqual(['out.gif']);
    const probed = await probe(files[0]!);
    expect(streamOf(probed, 'video')).toMatchObject({ codec_name: 'gif', width: 160, height: 120 });
  });

  it('returns what ffprobe printed, with no path of ours in it', async () => {
    const { files, output, workDir } = await command(
      ffmpeg,
      'ffprobe',
      '-v error -show_entries format=filename,duration:stream=codec_name -of json /input/import-it/video.mp4',
      [video],
      true,
    );
    expect(files).toEqual([]);
    const printed = JSON.parse(output ?? '') as { format: { filename: string; duration: string } };
    expect(printed.format.filename).toBe('/input/import-it/video.mp4');
    expect(Number(printed.format.duration)).toBeCloseTo(3, 1);
    expect(output).not.toContain(workDir);
  });

  it('gives a second file of the same name in the same task a -2 suffix', async () => {
    const { output } = await command(
      ffmpeg,
      'ffprobe',
      '-v error -show_entries format=filename -of csv=p=0 /input/import-it/video-2.mp4',
      [video, { ...video }],
      true,
    );
    expect(output?.trim()).toBe('/input/import-it/video-2.mp4');
  });

  it('runs without any input file', async () => {
    const { files } = await command(
      ffmpeg,
      'ffmpeg',
      '-f lavfi -i testsrc=duration=1:size=64x48:rate=5 /output/made.mp4',
    );
    expect(streamOf(await probe(files[0]!), 'video')).toMatchObject({ width: 64, height: 48 });
  });

  it('fails with the last lines of stderr, in the paths the command was given', async () => {
    const { err } = await failure(
      command(ffmpeg, 'ffmpeg', '-i /input/import-it/missing.mp4 /output/x.mp4', [video]),
    );
    expect(err.code).toBe('ENGINE_FAILED');
    expect(err.message).toContain('ffmpeg exited with code 1');
    expect(err.message).toContain('/input/import-it/missing.mp4: No such file or directory');
    expect(err.message).not.toContain(root);
  });

  it('never opens a playlist among the inputs', async () => {
    const list = join(root, 'list.m3u8');
    await writeFile(
      list,
      `#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:3,\n${video.path}\n#EXT-X-ENDLIST\n`,
    );
    const { err } = await failure(
      command(ffmpeg, 'ffmpeg', '-i /input/import-it/list.m3u8 -c copy /output/x.mp4', [
        inputOf(list, 'list.m3u8'),
      ]),
    );
    expect(err.code).toBe('ENGINE_FAILED');
  });

  it.each([
    ['-i /etc/passwd /output/x.mp4', /Only files under/],
    ['-i /input/import-it/../../../etc/passwd /output/x.mp4', /"\.\."/],
    ['-i http://127.0.0.1:1/x.mp4 /output/x.mp4', /http/],
    ['-i /input/import-it/video.mp4 /output/x.mp4; cat /etc/passwd', /operators/],
    ['-i $(cat /etc/passwd) /output/x.mp4', /substitutions/],
    ['-f lavfi -i movie=/input/import-it/video.mp4 /output/x.mp4', /movie/],
    [
      '-i /input/import-it/video.mp4 -vf "subtitles=/input/import-it/video.mp4" /output/x.mp4',
      /subtitles/,
    ],
    [
      '-i /input/import-it/video.mp4 -filter_complex_script /input/import-it/video.mp4 /output/x.mp4',
      /-filter_complex_script/,
    ],
    [
      '-protocol_whitelist file,http -i /input/import-it/video.mp4 /output/x.mp4',
      /-protocol_whitelist/,
    ],
    ['-i /input/import-it/video.mp4 -f alsa default', /Devices/],
  ])('refuses %s', async (args, words) => {
    await expectRefused(command(ffmpeg, 'ffmpeg', args, [video]), words);
  });
});

describe('command with ImageMagick', () => {
  it('runs identify and returns its output', async () => {
    const { output } = await command(
      im,
      'identify',
      "-format '%m %w %h' /input/import-image/toucan.png",
      [toucan],
      true,
    );
    expect(output).toBe('PNG 162 150');
  });

  it('runs convert into /output/', async () => {
    const { files } = await command(
      im,
      'convert',
      '/input/import-image/toucan.png -resize 50% /output/small.jpg',
      [toucan],
    );
    expect(await sharp(files[0]).metadata()).toMatchObject({
      format: 'jpeg',
      width: 81,
      height: 75,
    });
  });

  it.each([
    ['@/etc/passwd /output/x.png', /Only files under|@file/],
    ['@/input/import-image/toucan.png /output/x.png', /@file/],
    ['msl:/input/import-image/toucan.png /output/x.png', /msl:/],
    ["/input/import-image/toucan.png -write '|touch /tmp/pwned' /output/x.png", /Pipes/],
    ['/input/import-image/toucan.png ../x.png', /"\.\."/],
    ['/input/import-image/toucan.png /tmp/x.png', /Only files under/],
    [
      "/input/import-image/toucan.png -set filename:f '%[comment]' '/output/%[filename:f].png'",
      /filename:/,
    ],
  ])('refuses %s', async (args, words) => {
    await expectRefused(command(im, 'convert', args, [toucan]), words);
  });

  it('lets the policy stop an SVG sent under another name', async () => {
    const svg = join(root, 'drawing.png');
    await writeFile(
      svg,
      '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><image href="/etc/hostname" width="20" height="20"/></svg>',
    );
    const run = command(im, 'convert', '/input/import-image/drawing.png /output/x.png', [
      inputOf(svg, 'drawing.png', 'import-image'),
    ]);
    const { err } = await failure(run);
    expect(err.code).toBe('ENGINE_FAILED');
    expect(err.message).toMatch(/security policy|no decode delegate|improper image header/);
  });
});

describe('command with GraphicsMagick', () => {
  it('runs gm version, as the Java SDK test does', async () => {
    const { files, output } = await command(gm, 'gm', 'version', [], true);
    expect(files).toEqual([]);
    expect(output).toMatch(/^GraphicsMagick \d+\.\d+/);
  });

  it('runs gm convert into /output/ and returns only top-level regular files', async () => {
    const { files, outputDir } = await command(
      gm,
      'gm',
      'convert /input/import-image/toucan.png -rotate 90 /output/turned.png',
      [toucan],
    );
    expect(files).toEqual([join(outputDir, 'turned.png')]);
    expect(await sharp(files[0]).metadata()).toMatchObject({ width: 150, height: 162 });
    expect(await readdir(outputDir)).toEqual(['turned.png']);
  });

  it.each([
    ['conjure /input/import-image/toucan.png', /first argument/],
    ['batch /input/import-image/toucan.png', /first argument/],
    ['convert -limit memory 100GB /input/import-image/toucan.png /output/x.png', /limits/],
    ['convert /input/import-image/toucan.png /etc/x.png', /Only files under/],
    ['convert text:/etc/passwd /output/x.png', /text:|Only files/],
  ])('refuses %s', async (args, words) => {
    await expectRefused(command(gm, 'gm', args, [toucan]), words);
  });

  it('refuses an input that is a script or vector drawing in disguise', async () => {
    const msl = join(root, 'script.png');
    await writeFile(msl, '<?xml version="1.0"?><image><read filename="/etc/hostname"/></image>');
    await expectRefused(
      command(gm, 'gm', 'convert /input/import-image/script.png /output/x.png', [
        inputOf(msl, 'script.png', 'import-image'),
      ]),
      /looks like SVG/,
    );
  });
});
