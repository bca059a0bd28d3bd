// Checks of a task's options taken together, by operation, that need no file: the gateway runs
// them at creation and the engines with the same code before they run.
type Options = Record<string, unknown>;
type Errors = Record<string, string[]>;

/** A watermark puts a text or an image (the name of a task of the job) on the file. */
export function watermarkSourceErrors(options: Options): Errors | null {
  const text = typeof options.text === 'string' ? options.text.trim() : '';
  const image = typeof options.image === 'string' ? options.image : '';
  if (text === '' && image === '') {
    return { text: ['Give a text or an image (the name of a task in this job) to put on.'] };
  }

  return null;
}

export const OPERATION_CHECKS: Readonly<Record<string, (options: Options) => Errors | null>> = {
  watermark: watermarkSourceErrors,
};
