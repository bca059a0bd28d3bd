// PDF/A with Ghostscript: the sRGB profile Ghostscript ships and the PostScript prefix that
// makes it the document's output intent.
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { PDFA_LEVELS } from '@convertd/api';

export type PdfaLevel = (typeof PDFA_LEVELS)[number];

/** Where Debian and upstream builds put Ghostscript's sRGB profile. */
function profileCandidates(version: string | undefined): string[] {
  const versioned = version === undefined ? [] : [version];

  return [
    '/usr/share/color/icc/ghostscript/srgb.icc',
    ...versioned.map((v) => `/usr/share/ghostscript/${v}/iccprofiles/srgb.icc`),
    ...versioned.map((v) => `/usr/local/share/ghostscript/${v}/iccprofiles/srgb.icc`),
    '/usr/share/ghostscript/iccprofiles/srgb.icc',
  ];
}

/** The first sRGB profile found, or undefined. */
export async function findSrgbProfile(version: string | undefined): Promise<string | undefined> {
  for (const candidate of profileCandidates(version)) {
    try {
      await access(candidate);

      return candidate;
    } catch {
      // Not in this place; try the next.
    }
  }

  return undefined;
}

/** The part number Ghostscript's -dPDFA takes. */
export function pdfaPart(level: PdfaLevel): number {
  return Number(level[0]);
}

/**
 * Writes the prefix file that embeds `iccProfile` as the PDF/A output intent and returns its
 * path. Ghostscript reads the profile from PostScript, so it must be given
 * `--permit-file-read=<iccProfile>` under -dSAFER.
 */
export async function writePdfaPrefix(workDir: string, iccProfile: string): Promise<string> {
  const file = join(workDir, 'pdfa-prefix.ps');
  const program = [
    '%!',
    `/convertd_icc (${psString(iccProfile)}) def`,
    '[/_objdef {convertd_profile} /type /stream /OBJ pdfmark',
    '[{convertd_profile} << /N 3 >> /PUT pdfmark',
    '[{convertd_profile} convertd_icc (r) file /PUT pdfmark',
    '[/_objdef {convertd_intent} /type /dict /OBJ pdfmark',
    '[{convertd_intent} <<',
    '  /Type /OutputIntent',
    '  /S /GTS_PDFA1',
    '  /DestOutputProfile {convertd_profile}',
    '  /OutputConditionIdentifier (sRGB IEC61966-2.1)',
    '  /Info (sRGB IEC61966-2.1)',
    '>> /PUT pdfmark',
    '[{Catalog} << /OutputIntents [ {convertd_intent} ] >> /PUT pdfmark',
    '',
  ].join('\n');
  await writeFile(file, program);

  return file;
}

/** Escapes a PostScript string literal's body. */
function psString(value: string): string {
  return value.replace(/[\\()]/g, (c) => `\\${c}`);
}
