// Where a LibreOffice profile's files and sockets are, for starting soffice on it and cleaning up.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Where soffice puts its single-instance socket; fixed in LibreOffice's sal, TMPDIR is ignored. */
const PIPE_DIRS = ['/tmp', '/var/tmp'];

/** The `-env:UserInstallation` value for a profile directory. */
export function installationUrl(dir: string): string {
  return pathToFileURL(dir).href;
}

/**
 * soffice names its socket OSL_PIPE_<uid>_SingleOfficeIPC_<MD5 of the UTF-16 profile URL>, each
 * byte in hex without zero padding (desktop/source/app/officeipcthread.cxx, CreateMD5FromString).
 */
export function ipcPipePaths(dir: string): string[] {
  const digest = createHash('md5')
    .update(Buffer.from(installationUrl(dir), 'utf16le'))
    .digest();
  const hash = Array.from(digest, (byte) => byte.toString(16)).join('');
  const name = `OSL_PIPE_${process.getuid?.() ?? 0}_SingleOfficeIPC_${hash}`;

  return PIPE_DIRS.map((pipeDir) => join(pipeDir, name));
}
