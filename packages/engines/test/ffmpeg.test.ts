// The ffmpeg engine on a video made here and a corpus GIF: containers, codecs, sizes and
// durations read back with ffprobe, frames with sharp, and what it refuses to open.
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { chooseRow } from '@convertd/api';

import { FfmpegEngine } from '../src/ffmpeg/ffmpeg.engine';
import { IMAGES, inputOf, makeVideo, probe, runEngine, streamOf } from './media';
import { failure } from './support';

let root: string;
let video: string;
const sut = new FfmpegEngine();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'engines-ffmpeg-'));
  video = await makeVideo(root);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function convert(outputFormat: string, options: Record<string, unknown> = {}, file = video) {
  const { files } = await runEngine(sut, root, {
    operation: 'convert',
    inputs: [inputOf(file)],
    outputFormat,
    options,
  });
  expect(files).toHaveLength(1);

  return { file: files[0]!, probed: await probe(files[0]!) };
}

function duration(p: { format: { duration?: string } }): number {
  return Number(p.format.duration);
}

describe(FfmpegEngine.name, () => {
  it('reports the ffmpeg version', async () => {
    expect(await sut.detect()).toEqual({ version: expect.stringMatching(/^\d+\.\d+/) as string });
  });

  it('is the default engine for video and audio pairs', () => {
    expect(
      chooseRow({ operation: 'convert', inputFormat: 'mp4', outputFormat: 'webm' })?.engine,
    ).toBe('ffmpeg');
    expect(
      chooseRow({ operation: 'convert', inputFormat: 'mov', outputFormat: 'mp3' })?.engine,
    ).toBe('ffmpeg');
    expect(
      chooseRow({ operation: 'thumbnail', inputFormat: 'mp4', outputFormat: 'png' })?.engine,
    ).toBe('ffmpeg');
    expect(
      chooseRow({ operation: 'convert', inputFormat: 'm3u8', outputFormat: 'mp4' }),
    ).toBeNull();
  });

  it('converts MP4 to WebM with VP9 and Opus, keeping size and duration', async () => {
    const { probed } = await convert('webm');
    expect(probed.format.format_name).toContain('webm');
    expect(streamOf(probed, 'video')).toMatchObject({ codec_name: 'vp9', width: 320, height: 240 });
    expect(streamOf(probed, 'audio')?.codec_name).toBe('opus');
    expect(duration(probed)).toBeCloseTo(3, 0);
  });

  it('encodes H.265 within a box without enlarging, and trims', async () => {
    const { probed } = await convert('mov', {
      video_codec: 'x265',
      crf: 30,
      preset: 'ultrafast',
      width: 160,
      height: 1000,
      trim_start: '1',
      trim_end: '00:00:02.5',
    });
    expect(streamOf(probed, 'video')).toMatchObject({
      codec_name: 'hevc',
      width: 160,
      height: 120,
    });
    expect(duration(probed)).toBeGreaterThan(1.3);
    expect(duration(probed)).toBeLessThan(1.7);
  });

  it('crops, pads and stretches to the exact size asked for', async () => {
    const crop = await convert('webm', {
      video_codec: 'vp8',
      width: 100,
      height: 100,
      fit: 'crop',
    });
    expect(streamOf(crop.probed, 'video')).toMatchObject({
      codec_name: 'vp8',
      width: 100,
      height: 100,
    });
    const pad = await convert('mkv', { width: 200, height: 100, fit: 'pad', fps: 5 });
    expect(streamOf(pad.probed, 'video')).toMatchObject({
      codec_name: 'h264',
      width: 200,
      height: 100,
    });
    const scale = await convert('avi', { width: 101, height: 51, fit: 'scale' });
    // Odd sizes are rounded up to even for 4:2:0 video.
    expect(streamOf(scale.probed, 'video')).toMatchObject({
      codec_name: 'mpeg4',
      width: 102,
      height: 52,
    });
  });

  it('writes AV1 into MP4 and copies streams without re-encoding', async () => {
    const av1 = await convert('mp4', {
      video_codec: 'av1',
      preset: 'ultrafast',
      audio_codec: 'none',
    });
    expect(streamOf(av1.probed, 'video')?.codec_name).toBe('av1');
    expect(streamOf(av1.probed, 'audio')).toBeUndefined();

    const copy = await convert('mkv', { video_codec: 'copy', audio_codec: 'copy' });
    expect(streamOf(copy.probed, 'video')?.codec_name).toBe('h264');
    expect(streamOf(copy.probed, 'audio')?.codec_name).toBe('aac');
    expect(duration(copy.probed)).toBeCloseTo(3, 0);
  });

  it('refuses changes that a stream copy cannot make', async () => {
    const { err } = await failure(convert('mkv', { video_codec: 'copy', width: 100 }));
    expect(err.code).toBe('INVALID_DATA');
    expect(err.errors).toHaveProperty('width');
  });

  it('extracts the audio track of a video with the settings asked for', async () => {
    const mp3 = await convert('mp3', { audio_bitrate: 64, audio_channels: 1 });
    expect(streamOf(mp3.probed, 'video')).toBeUndefined();
    expect(streamOf(mp3.probed, 'audio')).toMatchObject({ codec_name: 'mp3', channels: 1 });
    expect(Number(streamOf(mp3.probed, 'audio')?.bit_rate)).toBe(64_000);

    const wav = await convert('wav', { audio_frequency: 22050 });
    expect(streamOf(wav.probed, 'audio')).toMatchObject({
      codec_name: 'pcm_s16le',
      sample_rate: '22050',
    });
    const alac = await convert('m4a', { audio_codec: 'alac' });
    expect(streamOf(alac.probed, 'audio')?.codec_name).toBe('alac');
    const opus = await convert('ogg', { audio_codec: 'opus' });
    expect(streamOf(opus.probed, 'audio')?.codec_name).toBe('opus');
    const flac = await convert('flac', { trim_end: '2' });
    expect(streamOf(flac.probed, 'audio')?.codec_name).toBe('flac');
    expect(duration(flac.probed)).toBeCloseTo(2, 0);
  });

  it('refuses an Opus sample rate that Opus does not have', async () => {
    const { err } = await failure(convert('opus', { audio_frequency: 44100 }));
    expect(err.code).toBe('INVALID_DATA');
    expect(err.errors).toHaveProperty('audio_frequency');
  });

  it('makes a GIF animation at the frame rate and width asked for', async () => {
    const { file } = await convert('gif', { width: 160, fps: 5 });
    const probed = await probe(file, true);
    expect(streamOf(probed, 'video')).toMatchObject({ codec_name: 'gif', width: 160, height: 120 });
    expect(Number(streamOf(probed, 'video')?.nb_read_frames)).toBeGreaterThanOrEqual(14);
    expect(Number(streamOf(probed, 'video')?.nb_read_frames)).toBeLessThanOrEqual(16);
  });

  it('turns an animated GIF into an H.264 video and says a GIF has no audio to extract', async () => {
    const gif = join(IMAGES, 'rotating-squares.gif');
    const { probed } = await convert('mp4', {}, gif);
    expect(streamOf(probed, 'video')).toMatchObject({ codec_name: 'h264', width: 80, height: 80 });

    const { err } = await failure(convert('mp3', {}, gif));
    expect(err.code).toBe('INVALID_CONVERSION_TYPE');
    expect(err.message).toContain('no audio');
  });

  it('refuses a trim that starts after the end', async () => {
    const { err } = await failure(convert('webm', { trim_start: '10' }));
    expect(err.code).toBe('INVALID_DATA');
    expect(err.errors).toHaveProperty('trim_start');
    const bad = await failure(convert('webm', { trim_start: 'soon' }));
    expect(bad.err.errors).toHaveProperty('trim_start');
  });

  it('reports a file that is not media as corrupt', async () => {
    const fake = join(root, 'fake.mp4');
    await writeFile(fake, 'this is not a video\n'.repeat(20));
    const { err } = await failure(convert('webm', {}, fake));
    expect(err.code).toBe('INPUT_CORRUPT');
  });

  it('never follows a playlist or concat script posing as a video', async () => {
    // Both would make ffmpeg read another file (here our own test video) into the output.
    const hls = join(root, 'playlist.mp4');
    await writeFile(
      hls,
      `#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:3,\n${video}\n#EXT-X-ENDLIST\n`,
    );
    // A relative name passes the concat demuxer's own "safe" check: only the whitelist stops it.
    const concat = join(root, 'script.mkv');
    await writeFile(concat, "ffconcat version 1.0\nfile 'video.mp4'\n");
    for (const file of [hls, concat]) {
      const { err } = await failure(convert('webm', {}, file));
      expect(err.code).toBe('INPUT_CORRUPT');
    }
  });
});

describe(`${FfmpegEngine.name} thumbnails`, () => {
  async function thumbnail(outputFormat: string, options: Record<string, unknown>, file = video) {
    const { files } = await runEngine(sut, root, {
      operation: 'thumbnail',
      inputs: [inputOf(file)],
      outputFormat,
      options,
    });

    return files;
  }

  it('takes the frame at a timestamp, scaled within the box', async () => {
    const [early] = await thumbnail('png', { width: 100 });
    const [later] = await thumbnail('png', { width: 100, timestamp: '00:00:02' });
    for (const file of [early!, later!]) {
      expect(await sharp(file).metadata()).toMatchObject({ format: 'png', width: 100, height: 75 });
    }
    // The test pattern's counter and moving gradient change over time.
    const [a, b] = await Promise.all([early!, later!].map((f) => sharp(f).raw().toBuffer()));
    expect(a!.equals(b!)).toBe(false);
  });

  it('takes count frames evenly spread, cropped to the exact size', async () => {
    const files = await thumbnail('jpg', { count: 3, width: 64, height: 64, fit: 'crop' });
    expect(files).toHaveLength(3);
    for (const file of files) {
      expect(await sharp(file).metadata()).toMatchObject({ format: 'jpeg', width: 64, height: 64 });
    }
  });

  it('writes WebP and never enlarges with fit max', async () => {
    const [file] = await thumbnail('webp', { width: 1000, timestamp: 1.5 });
    expect(await sharp(file).metadata()).toMatchObject({
      format: 'webp',
      width: 320,
      height: 240,
    });
  });

  it('refuses a timestamp after the end of the video', async () => {
    const { err } = await failure(thumbnail('png', { timestamp: '00:00:05' }));
    expect(err.code).toBe('INVALID_DATA');
    expect(err.errors?.['timestamp']?.[0]).toContain('3.00 s');
  });

  it('reads a file whose name looks like an option and is not ASCII', async () => {
    const copy = join(root, '-vf Vidéo été (1).mp4');
    await copyFile(video, copy);
    const [file] = await thumbnail('png', { timestamp: '1' }, copy);
    expect(await sharp(file).metadata()).toMatchObject({ format: 'png', width: 320, height: 240 });
  });
});
