// Every engine adapter a worker tries at start-up; the ones whose program is found are served.
import path from 'node:path';

import { ArchiveToolEngine } from './archivetool/archivetool.engine';
import { CalibreEngine } from './calibre/calibre.engine';
import { ChromeEngine } from './chrome/chrome.engine';
import type { Engine } from './engine';
import { ExifToolEngine } from './exiftool/exiftool.engine';
import { FfmpegEngine } from './ffmpeg/ffmpeg.engine';
import { GhostscriptEngine } from './ghostscript/ghostscript.engine';
import { GraphicsMagickEngine } from './graphicsmagick/graphicsmagick.engine';
import { ImageMagickEngine } from './imagemagick/imagemagick.engine';
import { LibreOfficeEngine } from './libreoffice/libreoffice.engine';
import { MarkdownEngine } from './markdown/markdown.engine';
import { MupdfEngine } from './mupdf/mupdf.engine';
import { OcrmypdfEngine } from './ocrmypdf/ocrmypdf.engine';
import { PdfLibEngine } from './pdflib/pdflib.engine';
import { PopplerEngine } from './poppler/poppler.engine';
import { QpdfEngine } from './qpdf/qpdf.engine';
import { VipsEngine } from './vips/vips.engine';

export interface EngineEnvironment {
  /** Root for long-lived engine state (profiles), e.g. WORK_DIR. */
  workDir: string;
  /** This worker's dir for per-task scratch dirs. */
  tasksDir: string;
  /** Operator setting: engines may fetch private and loopback addresses (CONVERTD_ALLOW_PRIVATE_URLS). */
  allowPrivateUrls: boolean;
  /** Conversions at once of an engine; the size of its warm pool where it has one. */
  concurrency: (engine: string) => number;
  libreoffice?: { restartAfter?: number; maxRssBytes?: number };
  chrome?: { restartAfter?: number };
}

/** One instance of each adapter. Add new adapters here. */
export function createEngines(env: EngineEnvironment): Engine[] {
  return [
    new LibreOfficeEngine({
      // Per worker: a starting worker removes the dirs that dead workers left.
      profileRoot: path.join(env.tasksDir, 'libreoffice'),
      workRoot: env.tasksDir,
      poolSize: env.concurrency('libreoffice'),
      ...env.libreoffice,
    }),
    new ArchiveToolEngine(),
    new PopplerEngine(),
    new MupdfEngine(),
    new GhostscriptEngine(),
    new QpdfEngine(),
    new OcrmypdfEngine(),
    new PdfLibEngine(),
    new VipsEngine(),
    new ChromeEngine({
      root: path.join(env.tasksDir, 'chrome'),
      allowPrivateUrls: env.allowPrivateUrls,
      ...env.chrome,
    }),
    new CalibreEngine(),
    new FfmpegEngine(),
    new ExifToolEngine(),
    new ImageMagickEngine({ configDir: path.join(env.workDir, 'imagemagick') }),
    new GraphicsMagickEngine(),
    new MarkdownEngine(),
  ];
}
