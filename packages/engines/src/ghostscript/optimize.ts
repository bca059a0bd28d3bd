// pdfwrite settings for each optimize profile, and the JPEG quality of re-encoded images.
import type { OPTIMIZE_PROFILES } from '@convertd/api';

export type OptimizeProfile = (typeof OPTIMIZE_PROFILES)[number];

interface ProfileSettings {
  /** Ghostscript's distiller preset: image resolutions, font and colour handling. */
  preset: '/screen' | '/ebook' | '/printer' | '/prepress';
  args: readonly string[];
  /** JPEG quality when the task sets none; undefined keeps the preset's own. */
  quality?: number;
  /** Linearize the result (qpdf), so a browser shows page 1 before the rest has arrived. */
  linearize?: true;
}

const PROFILES: Record<OptimizeProfile, ProfileSettings> = {
  // 150 dpi images. Ghostscript 10.0's own -dFastWebView writes broken hint tables and objects
  // that poppler and qpdf complain about, so qpdf linearizes instead.
  web: { preset: '/ebook', args: [], linearize: true },
  // 300 dpi images.
  print: { preset: '/printer', args: [] },
  // Images keep their resolution; fonts are embedded and subset, streams recompressed.
  archive: {
    preset: '/prepress',
    args: [
      '-dDownsampleColorImages=false',
      '-dDownsampleGrayImages=false',
      '-dDownsampleMonoImages=false',
      '-dEmbedAllFonts=true',
      '-dSubsetFonts=true',
    ],
  },
  // Scans: photos and grey pages as 150 dpi JPEG, black-and-white as 300 dpi CCITT G4.
  // Ghostscript does not split a page into mask and background layers as true MRC does.
  mrc: {
    preset: '/ebook',
    args: [
      '-dAutoFilterColorImages=false',
      '-dColorImageFilter=/DCTEncode',
      '-dAutoFilterGrayImages=false',
      '-dGrayImageFilter=/DCTEncode',
      '-dMonoImageFilter=/CCITTFaxEncode',
      '-dMonoImageResolution=300',
    ],
  },
  // 72 dpi images at a low JPEG quality: the smallest file that stays readable on screen.
  max: { preset: '/screen', args: [], quality: 40 },
};

/** Whether the profile's result is linearized for the web. */
export function linearizes(profile: OptimizeProfile): boolean {
  return PROFILES[profile].linearize === true;
}

/** pdfwrite arguments that go before `-sOutputFile`. */
export function optimizeArgs(profile: OptimizeProfile, quality: number | undefined): string[] {
  const settings = PROFILES[profile];
  const args = [`-dPDFSETTINGS=${settings.preset}`, ...settings.args];
  const jpegQuality = quality ?? settings.quality;
  if (jpegQuality !== undefined) {
    // Without this, JPEG images that are not downsampled are copied as they are.
    args.push('-dPassThroughJPEGImages=false');
  }

  return args;
}

/**
 * PostScript run before the input (`-c <this> -f input`) that sets the JPEG quality of every
 * image pdfwrite encodes; undefined when the profile keeps the preset's quality.
 */
export function qualityProgram(
  profile: OptimizeProfile,
  quality: number | undefined,
): string | undefined {
  const jpegQuality = quality ?? PROFILES[profile].quality;
  if (jpegQuality === undefined) {
    return undefined;
  }

  const q = qFactor(jpegQuality);
  // Blend/HSamples/VSamples as in the presets' own dictionaries (4:2:0 chroma subsampling).
  const dict = `<< /QFactor ${q} /Blend 1 /HSamples [2 1 1 2] /VSamples [2 1 1 2] >>`;
  const keys = ['/ColorACSImageDict', '/ColorImageDict', '/GrayACSImageDict', '/GrayImageDict'];

  return `<< ${keys.map((k) => `${k} ${dict}`).join(' ')} >> setdistillerparams`;
}

/**
 * The DCT QFactor that matches an IJG quality: QFactor scales the standard tables as libjpeg's
 * quality scaling does, with 1.0 at quality 50.
 */
export function qFactor(quality: number): string {
  const q = Math.min(100, Math.max(1, Math.round(quality)));
  const scale = q < 50 ? 50 / q : (100 - q) / 50;

  return Math.max(0.01, scale).toFixed(3);
}
