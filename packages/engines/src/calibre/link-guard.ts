// calibre's DOCX reader embeds a picture that the document links to as a file:// URL, which
// would put any file of this machine into the book. Python imports `sitecustomize` from
// PYTHONPATH at start, before calibre: ours makes calibre treat such links as missing pictures,
// as it does for any linked picture it cannot find.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Printed when calibre's code no longer looks as the guard expects; the run then fails. */
export const GUARD_MARKER = 'convertd-link-guard';

const SITECUSTOMIZE = `# Written by convertd for one ebook-convert run; see link-guard.ts.
import sys
from importlib.abc import MetaPathFinder
from importlib.machinery import PathFinder

_MODULE = 'calibre.ebooks.docx.images'


def _guard(module):
    images = getattr(module, 'Images', None)
    read = getattr(images, 'read_image_data', None)
    missing = getattr(module, 'LinkedImageNotFound', None)
    if read is None or missing is None:
        raise RuntimeError('${GUARD_MARKER}: calibre.ebooks.docx.images changed')

    def read_image_data(self, fname, base=None):
        if str(fname).lower().startswith('file:'):
            raise missing(fname)
        return read(self, fname, base)

    images.read_image_data = read_image_data


class _Finder(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != _MODULE:
            return None
        spec = PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            _guard(module)

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _Finder())
`;

/** Writes the guard into `dir`, which goes on PYTHONPATH. */
export async function writeLinkGuard(dir: string): Promise<void> {
  await writeFile(join(dir, 'sitecustomize.py'), SITECUSTOMIZE);
}
