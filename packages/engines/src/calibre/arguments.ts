// What ebook-convert is asked to do: which pairs it serves and the options of one run.
import { CALIBRE } from '@convertd/api';

const PAIRS = new Set(
  CALIBRE.entries.flatMap(({ inputs, outputs }) =>
    typeof outputs === 'string'
      ? []
      : inputs.flatMap((input) => outputs.map((output) => `${input}>${output}`)),
  ),
);

/** Whether the catalogue lists `input` to `output` for calibre (a format to itself is not). */
export function supports(input: string, output: string): boolean {
  return input !== output && PAIRS.has(`${input}>${output}`);
}

const PDF_MARGINS = ['top', 'right', 'bottom', 'left'] as const;

/**
 * ebook-convert options after the input and output paths. Values always follow `=` in the same
 * argument, so a title that starts with "-" stays a title.
 */
export function conversionArgs(
  inputFormat: string,
  outputFormat: string,
  options: Readonly<Record<string, unknown>>,
): string[] {
  const args: string[] = [];
  // HTML input follows links to other local HTML files into the book, and plain text that looks
  // like Markdown becomes HTML that is followed the same way: anything on this machine could be
  // pulled in. The input is staged alone in its directory, and nothing is followed.
  if (inputFormat === 'html' || inputFormat === 'htm') {
    args.push('--max-levels=0');
  } else if (inputFormat === 'txt') {
    args.push('--formatting-type=plain');
  }

  const title = options['title'];
  if (typeof title === 'string' && title !== '') {
    args.push(`--title=${title}`);
  }

  const author = options['author'];
  if (typeof author === 'string' && author !== '') {
    args.push(`--authors=${author}`);
  }

  if (outputFormat === 'pdf') {
    const size = options['page_size'];
    if (typeof size === 'string') {
      args.push(`--paper-size=${size}`);
    }

    for (const side of PDF_MARGINS) {
      const points = options[`margin_${side}`];
      if (typeof points === 'number') {
        args.push(`--pdf-page-margin-${side}=${points}`);
      }
    }
  }

  return args;
}
