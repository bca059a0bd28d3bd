// What a `command` argument may name: files under /input and /output (mapped onto the task's own
// directories), never another path, a URL, or a pseudo-file that reads or runs something else.
import { refused } from './arguments';

/** Real directories behind the paths the command sees. */
export interface SandboxDirs {
  /** Shown as /input. */
  input: string;
  /** Shown as /output. */
  output: string;
}

export interface ArgumentRules {
  /** URL schemes and format prefixes refused anywhere in an argument, lower case. */
  schemes: ReadonlySet<string>;
  /** File extensions refused: formats that name other files or run scripts. */
  extensions?: ReadonlySet<string>;
  /**
   * ImageMagick and GraphicsMagick read argument lists and text from `@file` and run
   * `|command` as a file name: both are refused.
   */
  magick?: boolean;
}

// A slash after any other character starts an absolute path (`=/etc`, `'/etc`, `[f=mp4]/etc`).
const NAME_CHAR = /[\p{L}\p{N}_.~+%#-]/u;
// What separates path segments, option values and filter arguments, for the `..` check.
const SEGMENT_BREAK = /[/\s=:,;|[\](){}<>@!'"]/u;
const ROOTS = /^\/(input|output)(?![\p{L}\p{N}_.~+%#-])/u;
const SCHEME = /(?:^|[^a-z0-9_])([a-z][a-z0-9_]*):/gu;
const SUBFILE = /(?:^|[^a-z0-9_])subfile,/u;
const AT_FILE = /(?:^|[\s:='"])@/u;

/**
 * The argument with /input and /output replaced by the real directories; INVALID_DATA naming
 * `arguments` when it names anything else.
 */
export function mapArgument(arg: string, dirs: SandboxDirs, rules: ArgumentRules): string {
  // Programs unescape their own quoting (ffmpeg filter graphs: `\/etc`, `'.'.`): check the
  // argument as written and as it reads once quotes and backslashes are gone.
  const plain = arg.replace(/[\\'"]/g, '');
  const lower = plain.toLowerCase();
  for (const match of lower.matchAll(SCHEME)) {
    const scheme = match[1] ?? '';
    if (rules.schemes.has(scheme)) {
      throw refused(`URLs and pseudo-files such as ${scheme}: are not allowed.`);
    }
  }
  if (rules.schemes.has('subfile') && SUBFILE.test(lower)) {
    throw refused('URLs and pseudo-files such as subfile: are not allowed.');
  }
  if (rules.magick === true) {
    if (arg.includes('|')) {
      throw refused('Pipes to programs (|command) are not allowed.');
    }
    if (AT_FILE.test(arg) || AT_FILE.test(plain)) {
      throw refused(
        "@file arguments (which read a file's content as arguments or text) are not allowed.",
      );
    }
  }
  if (rules.extensions) {
    const ext = /\.([a-z0-9]+)(?:\[[^\]]*\])?$/u.exec(lower)?.[1];
    if (ext !== undefined && rules.extensions.has(ext)) {
      throw refused(`Files of type .${ext} cannot be used in a command.`);
    }
  }
  if ([arg, plain].some((form) => form.split(SEGMENT_BREAK).includes('..'))) {
    throw refused(`Paths may not contain "..": ${shorten(arg)}`);
  }
  for (const form of [arg, plain]) {
    for (const at of rootedSlashes(form)) {
      if (!ROOTS.test(form.slice(at))) {
        throw refused(
          `Only files under /input/ and /output/ can be used; ${shorten(pathAt(form, at))} cannot.`,
        );
      }
    }
  }

  return arg.replace(
    /(^|[^\p{L}\p{N}_.~+%#-])\/(input|output)(?![\p{L}\p{N}_.~+%#-])/gu,
    (_whole, before: string, root: string) =>
      `${before}${root === 'input' ? dirs.input : dirs.output}`,
  );
}

/** Indexes of the slashes that start a path. */
function rootedSlashes(text: string): number[] {
  const found: number[] = [];
  for (let i = text.indexOf('/'); i >= 0; i = text.indexOf('/', i + 1)) {
    if (i === 0 || !NAME_CHAR.test(text[i - 1] ?? '')) {
      found.push(i);
    }
  }

  return found;
}

/** The path starting at `at`, up to the next separator, for messages. */
function pathAt(text: string, at: number): string {
  return /^\/[^\s'",;|[\]]*/u.exec(text.slice(at))?.[0] ?? text.slice(at);
}

function shorten(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
