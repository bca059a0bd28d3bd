// A security policy ImageMagick loads beside the system's (MAGICK_CONFIGURE_PATH): what it adds
// holds for every conversion and command, whatever their arguments say.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { LIMITS } from './magick';

const MIB = 1024 * 1024;

const POLICY = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE policymap [
  <!ELEMENT policymap (policy)*>
  <!ATTLIST policymap xmlns CDATA #FIXED ''>
  <!ELEMENT policy EMPTY>
  <!ATTLIST policy xmlns CDATA #FIXED '' domain NMTOKEN #REQUIRED name NMTOKEN #IMPLIED
    pattern CDATA #IMPLIED rights NMTOKEN #IMPLIED stealth NMTOKEN #IMPLIED value CDATA #IMPLIED>
]>
<!-- Written by convertd. Added to the system policy, never loosening it. -->
<policymap>
  <!-- Formats that follow other files or URLs, run scripts, or reach a display. -->
  <policy domain="coder" rights="none" pattern="{MSL,MVG,SVG,SVGZ,MSVG,RSVG,TEXT,URL,HTTP,HTTPS,FTP,FILE,EPHEMERAL,SHOW,WIN,X,VID,INLINE,FD,CLIPBOARD,SCAN}" />
  <!-- PostScript and PDF go through Ghostscript: ghostscript's own engine serves them. -->
  <policy domain="coder" rights="none" pattern="{PS,PS2,PS3,EPS,EPS2,EPS3,EPSF,EPSI,EPT,EPT2,EPT3,EPI,AI,PDF,EPDF,PDFA,XPS,PCL}" />
  <!-- No external programs at all (video, graphviz, web pages, ...). -->
  <policy domain="delegate" rights="none" pattern="*" />
  <!-- "@file" reads a file's content as arguments or text. -->
  <policy domain="path" rights="none" pattern="@*" />
  <policy domain="resource" name="memory" value="${LIMITS.memory / MIB}MiB"/>
  <policy domain="resource" name="map" value="${LIMITS.map / MIB}MiB"/>
  <policy domain="resource" name="disk" value="${LIMITS.disk / MIB}MiB"/>
  <policy domain="resource" name="area" value="${LIMITS.area}"/>
  <policy domain="resource" name="width" value="${LIMITS.side}"/>
  <policy domain="resource" name="height" value="${LIMITS.side}"/>
</policymap>
`;

/** Writes the policy into `dir` (once per directory and process); resolves with `dir`. */
export function ensurePolicy(dir: string): Promise<string> {
  let written = WRITTEN.get(dir);
  if (!written) {
    written = write(dir);
    WRITTEN.set(dir, written);
    // A failed write is tried again by the next conversion.
    written.catch(() => WRITTEN.delete(dir));
  }

  return written;
}

const WRITTEN = new Map<string, Promise<string>>();

async function write(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `policy.xml.${process.pid}.tmp`);
  await writeFile(temp, POLICY);
  await rename(temp, join(dir, 'policy.xml'));

  return dir;
}
