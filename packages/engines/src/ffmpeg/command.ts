// The `command` operation's ffmpeg and ffprobe: the user's arguments, checked, with every input
// opened only as a local file by a demuxer that names no other files.
import { FFMPEG_ARGUMENT_RULES } from '@convertd/api';

import { refused } from '../command/arguments';
import { mapArgument, type SandboxDirs } from '../command/guard';

const RULES = FFMPEG_ARGUMENT_RULES;

/** Options that widen what ffmpeg may open, or read or write files we cannot check. */
const REFUSED_OPTIONS = new Set([
  'protocol_whitelist',
  'protocol_blacklist',
  'format_whitelist',
  'codec_whitelist',
  'safe',
  'filter_script',
  'filter_complex_script',
  'dump_attachment',
  'report',
]);

/** Capture and playback devices: nothing a conversion needs, and not ours to touch. */
const DEVICES = new Set(
  (
    'alsa caca fbdev iec61883 jack kmsgrab libcdio libdc1394 openal opengl oss pulse sdl sdl2 ' +
    'video4linux2 v4l2 x11grab xv decklink'
  ).split(' '),
);

/**
 * Filters that open files or plugins themselves (without the whitelists), load shared objects,
 * listen on the network, or run commands from a file.
 */
const REFUSED_FILTERS =
  /(?:^|[^a-z0-9_])(a?movie|subtitles|frei0r(?:_src)?|ladspa|lv2|a?zmq|a?sendcmd)\s*(?=[=,;[@]|$)/iu;

/** Demuxers never offered to a command's inputs: they read other files or devices. */
export const UNSAFE_DEMUXERS = new Set([
  'concat',
  'hls',
  'dash',
  'imf',
  'webm_dash_manifest',
  'sdp',
  'rtp',
  'rtsp',
  'sap',
  ...DEVICES,
]);

/** The argv of a user's ffmpeg or ffprobe command. */
export function commandArgs(
  command: 'ffmpeg' | 'ffprobe',
  userArgs: readonly string[],
  dirs: SandboxDirs,
  demuxers: string,
): string[] {
  const args: string[] = [];
  const inputGuard = ['-protocol_whitelist', 'file', '-format_whitelist', demuxers];
  for (const [index, arg] of userArgs.entries()) {
    if (arg.startsWith('-')) {
      const name = arg.slice(1).split(':')[0] ?? '';
      if (REFUSED_OPTIONS.has(name)) {
        throw refused(`The option -${name} is not allowed.`);
      }
      if (name === 'f' && DEVICES.has((userArgs[index + 1] ?? '').toLowerCase())) {
        throw refused(`Devices such as ${userArgs[index + 1] ?? ''} are not available.`);
      }
    }
    const plain = arg.replace(/[\\'"]/g, '');
    const filter = REFUSED_FILTERS.exec(plain)?.[1];
    if (filter !== undefined) {
      throw refused(`The filter ${filter} is not allowed.`);
    }

    // Options before an -i apply to that input: each one gets the whitelists right before it.
    if (command === 'ffmpeg' && arg === '-i') {
      args.push(...inputGuard);
    }
    args.push(mapArgument(arg, dirs, RULES));
  }

  return command === 'ffmpeg'
    ? ['-hide_banner', '-nostdin', ...args]
    : ['-hide_banner', ...inputGuard, ...args];
}
