// Markdown to one standalone HTML5 page with markdown-it. Raw HTML in the source stays text, and
// no link or image may point at a local file or run script: the page is opened by Chrome and
// LibreOffice on the server, so its references are as untrusted as the upload itself.
import MarkdownIt from 'markdown-it';
import type { Token } from 'markdown-it';

export interface PageSettings {
  breaks: boolean;
  typographer: boolean;
  /** Title when the document has no heading. */
  fallbackTitle: string;
  /**
   * Decides each image whose source is a relative path: a replacement source (a data: URL of
   * the file it names), or null to leave only the alternative text. Relative sources are kept
   * as they are when unset.
   */
  localImage?: (path: string) => string | null;
  /** Leave only the alternative text of images on other hosts (no fetches by the renderer). */
  dropRemoteImages?: boolean;
}

const SCHEME = /^([a-z][a-z0-9+.-]*):/i;
const WEB_SCHEMES = new Set(['http', 'https', 'mailto']);
const DATA_IMAGE = /^data:image\/(?:gif|png|jpeg|webp);/i;
// eslint-disable-next-line no-control-regex
const CONTROL_OR_SPACE = /[\u0000-\u0020\u007f]/;

const STYLE = `
:root { color-scheme: light; }
body { margin: 0 auto; max-width: 46em; padding: 2em 1.5em; font: 16px/1.6 "DejaVu Sans",
  "Noto Sans", "Liberation Sans", Arial, sans-serif; color: #1f2328; background: #fff; }
h1, h2, h3, h4, h5, h6 { line-height: 1.25; margin: 1.5em 0 0.5em; }
h1 { font-size: 2em; border-bottom: 1px solid #d0d7de; padding-bottom: 0.3em; }
h2 { font-size: 1.5em; border-bottom: 1px solid #d0d7de; padding-bottom: 0.3em; }
a { color: #0969da; }
img { max-width: 100%; }
pre, code { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 0.9em; }
code { background: #f6f8fa; padding: 0.1em 0.3em; border-radius: 4px; }
pre { background: #f6f8fa; padding: 1em; overflow: auto; border-radius: 6px; }
pre code { background: none; padding: 0; white-space: pre-wrap; }
blockquote { margin: 1em 0; padding: 0 1em; color: #57606a; border-left: 0.25em solid #d0d7de; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #d0d7de; padding: 0.4em 0.8em; }
th { background: #f6f8fa; }
hr { border: 0; border-top: 1px solid #d0d7de; margin: 2em 0; }
@media print { body { max-width: none; padding: 0; } pre { white-space: pre-wrap; } }
`;

/** True for links and images convertd lets through: web and mail addresses and paths. */
export function allowedUrl(url: string): boolean {
  const value = url.trim();
  // Browsers drop tabs and newlines inside URLs, so "java\tscript:" would still be a scheme.
  if (CONTROL_OR_SPACE.test(value) || value.includes('\\')) {
    return false;
  }

  const scheme = SCHEME.exec(value)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    return WEB_SCHEMES.has(scheme) || (scheme === 'data' && DATA_IMAGE.test(value));
  }

  // "//host/share" names another machine; "/path" links stay (site links of the reader), while
  // images are held to the page's own directory by checkImage.
  return !value.startsWith('//');
}

/** The relative path an image source names, or undefined for a URL or one that climbs out. */
export function relativePath(src: string): string | undefined {
  if (SCHEME.test(src) || src.startsWith('/')) {
    return undefined;
  }

  const path = src.split(/[?#]/, 1)[0] ?? '';
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return undefined;
  }

  const parts = decoded.split(/[/\\]/);
  if (decoded === '' || parts.some((part) => part === '..')) {
    return undefined;
  }

  return parts.filter((part) => part !== '' && part !== '.').join('/');
}

/** Renders `source` as a complete UTF-8 HTML5 page titled after its first heading. */
export function renderPage(source: string, settings: PageSettings): string {
  const md = new MarkdownIt({
    html: false,
    linkify: false,
    breaks: settings.breaks,
    typographer: settings.typographer,
  });
  md.validateLink = allowedUrl;
  const env = {};
  const tokens = md.parse(source.replace(/^\uFEFF/, ''), env);
  for (const token of tokens) {
    for (const child of token.children ?? []) {
      if (child.type === 'image') {
        checkImage(child, settings);
      }
    }
  }

  const body = md.renderer.render(tokens, md.options, env);
  const title = md.utils.escapeHtml(firstHeading(tokens) ?? settings.fallbackTitle);

  return [
    '<!DOCTYPE html>',
    '<html>',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="script-src 'none'; object-src 'none'">`,
    `<title>${title}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** Rewrites or removes an image's source as the settings ask; a removed image keeps its text. */
function checkImage(token: Token, settings: PageSettings): void {
  const src = String(token.attrGet('src') ?? '');
  const local = relativePath(src);
  let kept: string | null = src;
  if (SCHEME.test(src)) {
    kept =
      settings.dropRemoteImages === true && !src.toLowerCase().startsWith('data:') ? null : src;
  } else if (local === undefined) {
    kept = null;
  } else if (settings.localImage !== undefined) {
    kept = settings.localImage(local);
  }

  if (kept === null) {
    token.type = 'text';
    token.tag = '';
    token.attrs = null;
    token.content = plainText(token.children ?? []);
    token.children = null;
  } else {
    token.attrSet('src', kept);
  }
}

function firstHeading(tokens: readonly Token[]): string | undefined {
  const at = tokens.findIndex((t) => t.type === 'heading_open');
  const text = at < 0 ? '' : plainText(tokens[at + 1]?.children ?? []).trim();

  return text === '' ? undefined : text;
}

function plainText(children: readonly Token[]): string {
  return children
    .map((c) => {
      switch (c.type) {
        case 'text':
        case 'code_inline':
          return c.content;
        case 'softbreak':
        case 'hardbreak':
          return ' ';
        case 'image':
          return plainText(c.children ?? []);
        default:
          return '';
      }
    })
    .join('');
}
