// FFmpeg: video and audio conversion, frames of videos as images, and the `command` operation.
import type { ArgumentRules } from '../command/guard';
import { argumentsCheck, FFMPEG_ARGUMENT_RULES } from '../command/rules';
import type { CatalogueEntry, EngineSpec, OptionSpec } from './types';

/** Video files FFmpeg reads. Playlists (m3u8, ffconcat) are not among them: they name other files. */
export const FFMPEG_VIDEO_INPUTS = [
  'mp4',
  'm4v',
  'webm',
  'mkv',
  'mov',
  'avi',
  'flv',
  'wmv',
  'mpeg',
  'mpg',
  'ts',
  '3gp',
  'ogv',
] as const;

export const FFMPEG_AUDIO_INPUTS = [
  'mp3',
  'wav',
  'ogg',
  'flac',
  'aac',
  'm4a',
  'opus',
  'wma',
  'aiff',
] as const;

/**
 * Video containers written, with the codecs each may hold; the first is the default. `copy`
 * keeps the input's stream as it is, `none` drops the audio.
 */
export const FFMPEG_VIDEO_OUTPUTS = {
  mp4: {
    video: ['x264', 'x265', 'av1', 'vp9', 'mpeg4', 'copy'],
    audio: ['aac', 'mp3', 'opus', 'copy', 'none'],
  },
  webm: { video: ['vp9', 'vp8', 'av1', 'copy'], audio: ['opus', 'vorbis', 'copy', 'none'] },
  mkv: {
    video: ['x264', 'x265', 'vp9', 'vp8', 'av1', 'mpeg4', 'copy'],
    audio: ['aac', 'mp3', 'opus', 'vorbis', 'flac', 'copy', 'none'],
  },
  mov: { video: ['x264', 'x265', 'mpeg4', 'copy'], audio: ['aac', 'mp3', 'copy', 'none'] },
  avi: { video: ['mpeg4', 'x264', 'copy'], audio: ['mp3', 'aac', 'copy', 'none'] },
  flv: { video: ['x264', 'copy'], audio: ['aac', 'mp3', 'copy', 'none'] },
} as const satisfies Record<string, { video: readonly string[]; audio: readonly string[] }>;

/** Audio files written, with their codecs (the first is the default) and whether they take a bitrate. */
export const FFMPEG_AUDIO_OUTPUTS = {
  mp3: { audio: ['mp3'], bitrate: true },
  wav: { audio: ['pcm'], bitrate: false },
  ogg: { audio: ['vorbis', 'opus'], bitrate: true },
  flac: { audio: ['flac'], bitrate: false },
  aac: { audio: ['aac'], bitrate: true },
  m4a: { audio: ['aac', 'alac'], bitrate: true },
  opus: { audio: ['opus'], bitrate: true },
} as const satisfies Record<string, { audio: readonly string[]; bitrate: boolean }>;

export const FFMPEG_PRESETS = [
  'ultrafast',
  'superfast',
  'veryfast',
  'faster',
  'fast',
  'medium',
  'slow',
  'slower',
  'veryslow',
] as const;

export const FFMPEG_THUMBNAIL_OUTPUTS = ['png', 'jpg', 'webp'] as const;
/** Largest width or height of a video or frame. */
export const FFMPEG_MAX_DIMENSION = 8192;
export const FFMPEG_MAX_THUMBNAILS = 50;
/** Longest `arguments` of a command, in characters. */
export const COMMAND_MAX_ARGUMENTS = 10_000;

const SIZE: readonly OptionSpec[] = [
  { name: 'width', type: 'integer', min: 1, max: FFMPEG_MAX_DIMENSION, description: 'In pixels.' },
  { name: 'height', type: 'integer', min: 1, max: FFMPEG_MAX_DIMENSION, description: 'In pixels.' },
];

const TIME = 'Seconds ("12.5") or [HH:]MM:SS[.ms] ("00:01:02.5").';

const TRIM: readonly OptionSpec[] = [
  { name: 'trim_start', type: 'string', max: 32, description: `Start of the kept part. ${TIME}` },
  { name: 'trim_end', type: 'string', max: 32, description: `End of the kept part. ${TIME}` },
];

const AUDIO_COMMON: readonly OptionSpec[] = [
  { name: 'audio_channels', type: 'integer', min: 1, max: 8, description: '1 mono, 2 stereo.' },
  {
    name: 'audio_frequency',
    type: 'integer',
    min: 8000,
    max: 192_000,
    description: 'Sample rate in Hz (opus: 8000, 12000, 16000, 24000 or 48000).',
  },
];

const AUDIO_BITRATE: OptionSpec = {
  name: 'audio_bitrate',
  type: 'integer',
  min: 8,
  max: 512,
  description:
    "Audio bitrate in kbit/s; the codec's usual default when unset. Lossless codecs (flac, " +
    'alac) ignore it.',
};

function videoOptions(video: readonly string[], audio: readonly string[]): OptionSpec[] {
  return [
    {
      name: 'video_codec',
      type: 'enum',
      default: video[0],
      possible_values: video,
      description: 'copy keeps the video stream as it is (no resizing or other changes).',
    },
    {
      name: 'crf',
      type: 'integer',
      min: 0,
      max: 63,
      description:
        'Constant quality, lower is better: 0-51 for x264 and x265 (23 and 28 by default), 0-63 ' +
        'for vp8, vp9 and av1; mapped onto the quantiser for mpeg4.',
    },
    {
      name: 'preset',
      type: 'enum',
      default: 'medium',
      possible_values: FFMPEG_PRESETS,
      description: 'Encoding speed against file size.',
    },
    ...SIZE,
    {
      name: 'fit',
      type: 'enum',
      default: 'max',
      possible_values: ['max', 'crop', 'scale', 'pad'],
      description:
        'max: fit within width and height, never enlarged; crop: fill both, cutting the ' +
        'overflow; scale: exactly both, the aspect ratio is not kept; pad: fit within both and ' +
        'fill the rest with black. Video sizes are rounded up to even numbers.',
    },
    { name: 'fps', type: 'float', min: 1, max: 120, description: 'Frames per second.' },
    {
      name: 'audio_codec',
      type: 'enum',
      default: audio[0],
      possible_values: audio,
      description: 'copy keeps the audio stream as it is; none removes the audio.',
    },
    AUDIO_BITRATE,
    ...AUDIO_COMMON,
    ...TRIM,
  ];
}

function audioOptions(codecs: readonly string[], bitrate: boolean): OptionSpec[] {
  const codec: OptionSpec[] =
    codecs.length > 1
      ? [{ name: 'audio_codec', type: 'enum', default: codecs[0], possible_values: codecs }]
      : [];

  return [...codec, ...(bitrate ? [AUDIO_BITRATE] : []), ...AUDIO_COMMON, ...TRIM];
}

const FIT_IMAGE: OptionSpec = {
  name: 'fit',
  type: 'enum',
  default: 'max',
  possible_values: ['max', 'crop', 'scale'],
  description:
    'max: fit within width and height, never enlarged; crop: fill both, cutting the overflow; ' +
    'scale: exactly both, the aspect ratio is not kept.',
};

const GIF_OPTIONS: readonly OptionSpec[] = [
  ...SIZE,
  FIT_IMAGE,
  { name: 'fps', type: 'float', default: 10, min: 1, max: 50, description: 'Frames per second.' },
  ...TRIM,
];

const THUMBNAIL_OPTIONS: readonly OptionSpec[] = [
  ...SIZE,
  FIT_IMAGE,
  {
    name: 'timestamp',
    type: 'string',
    max: 32,
    description: `Position of the (first) frame, 0 when unset. ${TIME}`,
  },
  {
    name: 'count',
    type: 'integer',
    default: 1,
    min: 1,
    max: FFMPEG_MAX_THUMBNAILS,
    description: 'Number of frames, evenly spaced from the timestamp to the end.',
  },
];

/** Options of the `command` operation; `commands` are the programs this engine runs. */
export function commandOptions(commands: readonly string[], rules: ArgumentRules): OptionSpec[] {
  return [
    {
      name: 'command',
      type: 'enum',
      required: true,
      possible_values: commands,
      description: 'The program to run.',
    },
    {
      name: 'arguments',
      type: 'string',
      required: true,
      max: COMMAND_MAX_ARGUMENTS,
      check: argumentsCheck(rules),
      description:
        'Its arguments, quoted like a shell would (no pipes, redirections, globs or ' +
        'substitutions). Input files are /input/<input task name>/<file name>; files written to ' +
        '/output/ are the results.',
    },
    {
      name: 'capture_output',
      type: 'boolean',
      default: false,
      description: 'Return what the program printed in result.output.',
    },
  ];
}

const VIDEO_INPUTS = [...FFMPEG_VIDEO_INPUTS];

export const FFMPEG: EngineSpec = {
  name: 'ffmpeg',
  entries: [
    ...Object.entries(FFMPEG_VIDEO_OUTPUTS).map(([format, codecs]): CatalogueEntry => ({
      operation: 'convert',
      // A GIF animation becomes a video too.
      inputs: [...VIDEO_INPUTS, 'gif'],
      outputs: [format],
      options: videoOptions(codecs.video, codecs.audio),
      group: 'video',
    })),
    {
      operation: 'convert',
      inputs: VIDEO_INPUTS,
      outputs: ['gif'],
      options: GIF_OPTIONS,
      group: 'video',
    },
    ...Object.entries(FFMPEG_AUDIO_OUTPUTS).map(([format, spec]): CatalogueEntry => ({
      operation: 'convert',
      // From a video, the audio track is extracted.
      inputs: [...FFMPEG_AUDIO_INPUTS, ...VIDEO_INPUTS],
      outputs: [format],
      options: audioOptions(spec.audio, spec.bitrate),
      group: 'audio',
    })),
    {
      operation: 'thumbnail',
      inputs: VIDEO_INPUTS,
      outputs: FFMPEG_THUMBNAIL_OUTPUTS,
      options: THUMBNAIL_OPTIONS,
      group: 'video',
    },
    {
      operation: 'command',
      inputs: ['*'],
      outputs: 'none',
      options: commandOptions(['ffmpeg', 'ffprobe'], FFMPEG_ARGUMENT_RULES),
      group: 'other',
    },
  ],
};
