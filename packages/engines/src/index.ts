export type {
  ConversionPair,
  ConvertRequest,
  ConvertResult,
  Engine,
  EngineInput,
  EngineJob,
  EngineResult,
} from './engine';
export type { EngineLogger } from './logger';
export { DEFAULT_KILL_GRACE_MS, OUTPUT_CAP_BYTES, runProcess } from './runner';
export type { RunProcessOptions, RunProcessResult } from './runner';
export { LibreOfficeEngine } from './libreoffice/libreoffice.engine';
export type { LibreOfficeEngineOptions } from './libreoffice/libreoffice.engine';
export { ArchiveToolEngine } from './archivetool/archivetool.engine';
export type { ArchiveToolEngineOptions } from './archivetool/archivetool.engine';
export { archiveEntryNames } from './archivetool/entries';
export type { ArchiveEntry } from './archivetool/entries';
export { zipStream } from './archivetool/zip';
export { MupdfEngine } from './mupdf/mupdf.engine';
export type { MupdfEngineOptions } from './mupdf/mupdf.engine';
export { PopplerEngine } from './poppler/poppler.engine';
export type { PopplerEngineOptions } from './poppler/poppler.engine';
export { GhostscriptEngine } from './ghostscript/ghostscript.engine';
export type { GhostscriptEngineOptions } from './ghostscript/ghostscript.engine';
export { QpdfEngine } from './qpdf/qpdf.engine';
export { OcrmypdfEngine } from './ocrmypdf/ocrmypdf.engine';
export type { OcrmypdfEngineOptions } from './ocrmypdf/ocrmypdf.engine';
export { inspectPdf, openPdf, unlockPdf } from './pdf/unlock';
export { pagesOf, parsePageSpec, selectPageNumbers } from './pdf/pages';
export type { PageRange } from './pdf/pages';
export { PdfLibEngine } from './pdflib/pdflib.engine';
export type { OpenedPdf, PdfFacts, PdfToolOptions } from './pdf/unlock';
export { ChromeEngine } from './chrome/chrome.engine';
export type { ChromeEngineOptions } from './chrome/chrome.engine';
export { CalibreEngine } from './calibre/calibre.engine';
export type { CalibreEngineOptions } from './calibre/calibre.engine';
export { VipsEngine } from './vips/vips.engine';
export { FfmpegEngine } from './ffmpeg/ffmpeg.engine';
export type { FfmpegEngineOptions } from './ffmpeg/ffmpeg.engine';
export { ExifToolEngine } from './exiftool/exiftool.engine';
export type { ExifToolEngineOptions } from './exiftool/exiftool.engine';
export { ImageMagickEngine } from './imagemagick/imagemagick.engine';
export type { ImageMagickEngineOptions } from './imagemagick/imagemagick.engine';
export { GraphicsMagickEngine } from './graphicsmagick/graphicsmagick.engine';
export type { GraphicsMagickEngineOptions } from './graphicsmagick/graphicsmagick.engine';
export { MarkdownEngine } from './markdown/markdown.engine';
export { createEngines } from './registry';
export type { EngineEnvironment } from './registry';
