// Leases LibreOffice user profiles: one per running soffice, kept warm between conversions.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Where soffice puts its single-instance socket; fixed in LibreOffice's sal, TMPDIR is ignored. */
const PIPE_DIRS = ['/tmp', '/var/tmp'];

/**
 * Two soffice processes on one profile hand the work to each other and exit, so a profile is
 * never shared; reusing one saves the ~0.2 s first-run setup. Profiles are created on demand, so
 * the pool grows to the highest concurrency seen.
 */
export class ProfilePool {
  private readonly idle: string[] = [];
  private readonly leased = new Set<string>();
  private closed = false;

  constructor(private readonly root: string) {}

  async acquire(): Promise<string> {
    if (this.closed) {
      throw new Error('the profile pool is closed');
    }

    let dir = this.idle.pop();
    if (dir === undefined) {
      await mkdir(this.root, { recursive: true });
      dir = await mkdtemp(join(this.root, 'profile-'));
    }

    this.leased.add(dir);

    return dir;
  }

  /**
   * Returns a profile. `wipe` is for a profile whose process was killed or failed: its lock files
   * and half-written registry could break the next start, so it is deleted instead of reused.
   */
  async release(dir: string, { wipe }: { wipe: boolean }): Promise<void> {
    this.leased.delete(dir);
    if (wipe || this.closed) {
      await rm(dir, { recursive: true, force: true });
      // A killed soffice leaves its socket behind; one per kill would pile up in /tmp.
      await Promise.all(ipcPipePaths(dir).map((path) => rm(path, { force: true })));

      return;
    }

    this.idle.push(dir);
  }

  /** Deletes idle profiles; leased ones are deleted when they come back. */
  async close(): Promise<void> {
    this.closed = true;
    const dirs = this.idle.splice(0);
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }

  get size(): { idle: number; leased: number } {
    return { idle: this.idle.length, leased: this.leased.size };
  }
}

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
