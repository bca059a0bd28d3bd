// What the arguments of each engine's `command` may not name, and the option check built on
// them: the gateway refuses a bad argument at creation, the engine again (and maps the paths).
import { splitArguments } from './arguments';
import { mapArgument, type ArgumentRules } from './guard';

/** ffmpeg's protocols (input and output) and a few aliases; `file:` is refused too, paths are enough. */
const PROTOCOLS = new Set(
  (
    'async bluray cache concat concatf crypto data ffrtmpcrypt ffrtmphttp file ftp gopher gophers ' +
    'hls http httpproxy https icecast ipfs ipns md5 mmsh mmst pipe prompeg rist rtmp rtmpe rtmps ' +
    'rtmpt rtmpte rtmpts rtp rtsp sctp sftp smb srt srtp subfile tcp tee tls udp udplite unix ' +
    'zmq amqp fd librtmp'
  ).split(' '),
);

export const FFMPEG_ARGUMENT_RULES: ArgumentRules = { schemes: PROTOCOLS };

/**
 * Coders that read other files, URLs, scripts or the screen: refused as `name:` prefixes in
 * commands (ImageMagick's policy refuses them too; GraphicsMagick has no policy).
 */
const SCRIPT_CODERS =
  'msl mvg svg svgz msvg rsvg text url http https ftp file ephemeral show win x vid inline fd ' +
  'ps ps2 ps3 eps eps2 eps3 epsf epsi ept ept2 ept3 epi ai xps pcl mpeg mp4 m2v ' +
  'm4v mov avi wmv flv mkv webm dot gv html shtml clipboard scan screenshot ' +
  // %[filename:x] in an output name expands to a property the input file may set (../../x).
  'filename';

/** Extensions that select those coders when a path has no prefix. */
const SCRIPT_EXTENSIONS = 'msl mvg svg svgz msvg ps eps epsf epsi ept ai xps';

export const MAGICK_ARGUMENT_RULES: ArgumentRules = {
  schemes: new Set(SCRIPT_CODERS.split(' ')),
  extensions: new Set(SCRIPT_EXTENSIONS.split(' ')),
  magick: true,
};

/** Only checked, never run: the directories the paths would map onto do not matter. */
const NOWHERE = { input: '/nonexistent/input', output: '/nonexistent/output' };

type Check = (value: unknown) => string[] | null;

const checks = new WeakMap<ArgumentRules, Check>();

/**
 * The OptionSpec check of `arguments` under these rules (see OptionSpec.check); one function per
 * rules, so engines that share rules share the check before the engine is known.
 */
export function argumentsCheck(rules: ArgumentRules): Check {
  let check = checks.get(rules);
  if (!check) {
    check = (value) => {
      try {
        for (const arg of splitArguments(typeof value === 'string' ? value : '')) {
          mapArgument(arg, NOWHERE, rules);
        }
        return null;
      } catch (err) {
        const messages = (err as { errors?: Record<string, string[]> }).errors?.arguments;
        if (messages) {
          return messages;
        }
        throw err;
      }
    };
    checks.set(rules, check);
  }

  return check;
}
