// The ffmpeg arguments of a conversion: containers, codecs and their settings, resizing, trimming.
import { FFMPEG_AUDIO_OUTPUTS, FFMPEG_VIDEO_OUTPUTS } from '@convertd/api';
import { AppError } from '@convertd/errors';

import { asText, invalidOption } from '../option-values';
import { resizeFilters } from './filters';
import type { MediaProbe } from './probe';
import { formatSeconds, parseTime } from './time';

/** Our codec names -> ffmpeg encoders. */
export const VIDEO_ENCODERS: Readonly<Record<string, string>> = {
  x264: 'libx264',
  x265: 'libx265',
  vp8: 'libvpx',
  vp9: 'libvpx-vp9',
  av1: 'libsvtav1',
  mpeg4: 'mpeg4',
};

export const AUDIO_ENCODERS: Readonly<Record<string, string>> = {
  aac: 'aac',
  mp3: 'libmp3lame',
  opus: 'libopus',
  vorbis: 'libvorbis',
  flac: 'flac',
  alac: 'alac',
  pcm: 'pcm_s16le',
};

/** Output format -> ffmpeg muxer. */
const MUXERS: Readonly<Record<string, string>> = {
  mp4: 'mp4',
  webm: 'webm',
  mkv: 'matroska',
  mov: 'mov',
  avi: 'avi',
  flv: 'flv',
  gif: 'gif',
  mp3: 'mp3',
  wav: 'wav',
  ogg: 'ogg',
  flac: 'flac',
  aac: 'adts',
  m4a: 'ipod',
  opus: 'opus',
};

const DEFAULT_CRF: Readonly<Record<string, number>> = {
  x264: 23,
  x265: 28,
  vp8: 10,
  vp9: 31,
  av1: 35,
  mpeg4: 8,
};
const MAX_CRF: Readonly<Record<string, number>> = { x264: 51, x265: 51 };

/** kbit/s when `audio_bitrate` is unset. */
const DEFAULT_BITRATE: Readonly<Record<string, number>> = {
  aac: 160,
  mp3: 192,
  opus: 128,
  vorbis: 160,
};
const OPUS_RATES = [8000, 12000, 16000, 24000, 48000];
/** Sample rates FLV stores MP3 at. */
const FLV_MP3_RATES = [44100, 22050, 11025];

// x264's preset names; the other encoders get the nearest speed of their own scale.
const PRESETS = [
  'ultrafast',
  'superfast',
  'veryfast',
  'faster',
  'fast',
  'medium',
  'slow',
  'slower',
  'veryslow',
];
const VPX_CPU_USED = [8, 7, 6, 5, 4, 3, 2, 1, 0];
const SVT_PRESET = [12, 11, 10, 9, 8, 7, 5, 3, 1];

export interface TranscodePlan {
  input: string;
  output: string;
  outputFormat: string;
  options: Record<string, unknown>;
  probe: MediaProbe;
  /** Encoders this ffmpeg has. */
  encoders: ReadonlySet<string>;
  /** `-format_whitelist` for the input. */
  demuxers: string;
  threads: number;
}

/** The argv of one conversion. */
export function transcodeArgs(plan: TranscodePlan): string[] {
  const { options, probe, outputFormat } = plan;
  const trim = trimOf(options, probe);
  const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y'];
  args.push('-threads', String(plan.threads), '-filter_threads', String(plan.threads));
  if (trim.start > 0) {
    args.push('-ss', formatSeconds(trim.start));
  }
  args.push('-protocol_whitelist', 'file', '-format_whitelist', plan.demuxers, '-i', plan.input);
  if (trim.duration !== undefined) {
    args.push('-t', formatSeconds(trim.duration));
  }

  if (outputFormat in FFMPEG_AUDIO_OUTPUTS) {
    args.push(...audioOnly(plan));
  } else if (outputFormat === 'gif') {
    args.push(...gif(plan));
  } else {
    args.push(...video(plan));
  }
  args.push(
    '-threads',
    String(plan.threads),
    '-f',
    MUXERS[outputFormat] ?? outputFormat,
    plan.output,
  );

  return args;
}

function audioOnly(plan: TranscodePlan): string[] {
  const { options, probe } = plan;
  if (!probe.audio) {
    throw new AppError('INVALID_CONVERSION_TYPE', {
      message: `The file has no audio track to convert to ${plan.outputFormat}.`,
    });
  }
  const spec = FFMPEG_AUDIO_OUTPUTS[plan.outputFormat as keyof typeof FFMPEG_AUDIO_OUTPUTS];
  const codec = typeof options['audio_codec'] === 'string' ? options['audio_codec'] : spec.audio[0];

  return [
    '-map',
    '0:a:0',
    '-vn',
    '-sn',
    '-dn',
    ...audioCodecArgs(codec, options, plan),
    '-map_metadata',
    '0',
  ];
}

function gif(plan: TranscodePlan): string[] {
  const { options, probe } = plan;
  const source = requireVideo(probe, plan.outputFormat);
  const fps = typeof options['fps'] === 'number' ? options['fps'] : 10;
  const steps = [
    `fps=${fps}`,
    ...resizeFilters({ ...size(options), fit: fitOf(options), even: false, source }),
  ];
  // One palette made for this animation keeps GIF's 256 colours close to the source.
  const graph = `${steps.join(',')},split[frames][copy];[copy]palettegen[palette];[frames][palette]paletteuse`;

  return ['-map', '0:v:0', '-an', '-sn', '-dn', '-vf', graph, '-loop', '0'];
}

function video(plan: TranscodePlan): string[] {
  const { options, probe, outputFormat } = plan;
  const source = requireVideo(probe, outputFormat);
  const codecs = FFMPEG_VIDEO_OUTPUTS[outputFormat as keyof typeof FFMPEG_VIDEO_OUTPUTS];
  const videoCodec = asText(options['video_codec']) || codecs.video[0];
  const audioCodec = asText(options['audio_codec']) || codecs.audio[0];
  const args = ['-map', '0:v:0'];
  if (audioCodec !== 'none') {
    args.push('-map', '0:a:0?');
  }
  args.push('-sn', '-dn');

  if (videoCodec === 'copy') {
    for (const field of ['width', 'height', 'fps', 'crf']) {
      if (options[field] !== undefined) {
        throw invalid(field, `The ${field} cannot be changed when the video codec is copy.`);
      }
    }
    args.push('-c:v', 'copy');
  } else {
    const steps = resizeFilters({ ...size(options), fit: fitOf(options), even: true, source });
    if (typeof options['fps'] === 'number') {
      steps.push(`fps=${options['fps']}`);
    }
    if (steps.length > 0) {
      args.push('-vf', steps.join(','));
    }
    args.push(...videoCodecArgs(videoCodec, options, plan));
  }

  if (audioCodec === 'none') {
    args.push('-an');
  } else if (audioCodec === 'copy') {
    args.push('-c:a', 'copy');
  } else if (probe.audio) {
    args.push(...audioCodecArgs(audioCodec, options, plan));
  }

  if (outputFormat === 'mp4' || outputFormat === 'mov') {
    // The index goes first, so that players start before the whole file has arrived.
    args.push('-movflags', '+faststart');
  }
  args.push('-map_metadata', '0');

  return args;
}

function videoCodecArgs(
  codec: string,
  options: Record<string, unknown>,
  plan: TranscodePlan,
): string[] {
  const encoder = encoderOf(VIDEO_ENCODERS, codec, 'video_codec', plan.encoders);
  const crf = typeof options['crf'] === 'number' ? options['crf'] : (DEFAULT_CRF[codec] ?? 23);
  const max = MAX_CRF[codec];
  if (max !== undefined && crf > max) {
    throw invalid('crf', `The crf of ${codec} must be between 0 and ${max}.`);
  }
  const speed = Math.max(0, PRESETS.indexOf(asText(options['preset']) || 'medium'));
  const args = ['-c:v', encoder];
  switch (codec) {
    case 'x264':
    case 'x265':
      args.push('-preset', PRESETS[speed] ?? 'medium', '-crf', String(crf));
      if (codec === 'x265') {
        args.push('-x265-params', 'log-level=error');
        if (plan.outputFormat === 'mp4' || plan.outputFormat === 'mov') {
          // The tag Apple's players want for HEVC.
          args.push('-tag:v', 'hvc1');
        }
      }
      break;
    case 'vp8':
    case 'vp9': {
      const cpuUsed = VPX_CPU_USED[speed] ?? 3;
      // libvpx's "good" deadline takes cpu-used up to 5; faster settings need "realtime".
      args.push('-deadline', cpuUsed > 5 ? 'realtime' : 'good', '-cpu-used', String(cpuUsed));
      // Constant quality: VP9 with no bitrate cap, VP8 needs one as its ceiling.
      args.push('-crf', String(crf), '-b:v', codec === 'vp9' ? '0' : '8M');
      if (codec === 'vp9') {
        args.push('-row-mt', '1');
      }
      break;
    }
    case 'av1':
      args.push('-preset', String(SVT_PRESET[speed] ?? 8), '-crf', String(crf));
      break;
    case 'mpeg4':
      // MPEG-4 part 2 has no constant-quality factor; its quantiser (2-31) plays that role.
      args.push('-q:v', String(Math.min(31, Math.max(2, Math.round((crf * 31) / 63)))));
      break;
    default:
      break;
  }
  args.push('-pix_fmt', 'yuv420p');

  return args;
}

function audioCodecArgs(
  codec: string,
  options: Record<string, unknown>,
  plan: TranscodePlan,
): string[] {
  const encoder = encoderOf(AUDIO_ENCODERS, codec, 'audio_codec', plan.encoders);
  const args = ['-c:a', encoder];
  const lossless = codec === 'flac' || codec === 'alac' || codec === 'pcm';
  if (!lossless) {
    const kbps =
      typeof options['audio_bitrate'] === 'number'
        ? options['audio_bitrate']
        : DEFAULT_BITRATE[codec];
    if (kbps !== undefined) {
      args.push('-b:a', `${kbps}k`);
    }
  }
  if (typeof options['audio_channels'] === 'number') {
    args.push('-ac', String(options['audio_channels']));
  }
  const rate =
    typeof options['audio_frequency'] === 'number' ? options['audio_frequency'] : undefined;
  if (rate !== undefined && codec === 'opus' && !OPUS_RATES.includes(rate)) {
    throw invalid('audio_frequency', `Opus takes these sample rates: ${OPUS_RATES.join(', ')}.`);
  }
  if (plan.outputFormat === 'flv' && codec === 'mp3') {
    if (rate !== undefined && !FLV_MP3_RATES.includes(rate)) {
      throw invalid('audio_frequency', `FLV stores MP3 at ${FLV_MP3_RATES.join(', ')} Hz only.`);
    }
    args.push('-ar', String(rate ?? 44100));
  } else if (rate !== undefined) {
    args.push('-ar', String(rate));
  }

  return args;
}

function encoderOf(
  table: Readonly<Record<string, string>>,
  codec: string,
  field: string,
  encoders: ReadonlySet<string>,
): string {
  const encoder = table[codec];
  if (encoder === undefined || !encoders.has(encoder)) {
    throw invalid(field, `This server's FFmpeg cannot encode ${codec}.`);
  }

  return encoder;
}

interface Trim {
  start: number;
  /** Seconds kept from `start`; undefined: to the end. */
  duration?: number;
}

function trimOf(options: Record<string, unknown>, probe: MediaProbe): Trim {
  const start =
    options['trim_start'] === undefined ? 0 : parseTime(options['trim_start'], 'trim_start');
  const end =
    options['trim_end'] === undefined ? undefined : parseTime(options['trim_end'], 'trim_end');
  if (probe.duration !== null && start >= probe.duration) {
    throw invalid(
      'trim_start',
      `The trim start is after the end of the file (${probe.duration.toFixed(2)} s).`,
    );
  }
  if (end !== undefined && end <= start) {
    throw invalid('trim_end', 'The trim end must be after the trim start.');
  }

  return end === undefined ? { start } : { start, duration: end - start };
}

function requireVideo(probe: MediaProbe, outputFormat: string): { width: number; height: number } {
  if (!probe.video) {
    throw new AppError('INVALID_CONVERSION_TYPE', {
      message: `The file has no video track to convert to ${outputFormat}.`,
    });
  }

  return probe.video;
}

export function size(options: Record<string, unknown>): { width?: number; height?: number } {
  return {
    ...(typeof options['width'] === 'number' ? { width: options['width'] } : {}),
    ...(typeof options['height'] === 'number' ? { height: options['height'] } : {}),
  };
}

export function fitOf(options: Record<string, unknown>): string {
  return typeof options['fit'] === 'string' ? options['fit'] : 'max';
}

export function invalid(field: string, message: string): AppError {
  return invalidOption(field, message);
}
