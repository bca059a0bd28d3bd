// What the figures were measured on: the machine, the programs and the commit.
import { execFile } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';

import sharp from 'sharp';

import { REPO } from './stack';

const exec = promisify(execFile);

export interface MachineFacts {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  commit: string;
  /** Files changed or new in the work tree when the run started (the figures include them). */
  uncommitted: string[];
  engines: Record<string, string>;
}

export async function machineFacts(): Promise<MachineFacts> {
  const [commit, status, ...versions] = await Promise.all([
    text('git', ['-C', REPO, 'rev-parse', 'HEAD']),
    text('git', ['-C', REPO, 'status', '--porcelain'], false),
    text('/usr/bin/soffice', ['--version']),
    text('/usr/bin/chromium', ['--version']),
    text('/usr/bin/convert', ['-version']),
    text('/usr/bin/python3', ['/usr/bin/unoconv', '--version']),
  ]);

  return {
    cores: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    commit,
    uncommitted: status
      .split('\n')
      .filter(Boolean)
      .map((line) => line.slice(3)),
    engines: {
      libreoffice: firstLine(versions[0]),
      chromium: firstLine(versions[1]),
      imagemagick: firstLine(versions[2]),
      unoconv: firstLine(versions[3]) || 'not installed',
      libvips: sharp.versions.vips,
      sharp: sharp.versions.sharp ?? 'unknown',
    },
  };
}

async function text(cmd: string, args: string[], trim = true): Promise<string> {
  try {
    const { stdout, stderr } = await exec(cmd, args, { timeout: 30_000 });
    const out = stdout || stderr;
    return trim ? out.trim() : out;
  } catch {
    return '';
  }
}

function firstLine(value: string | undefined): string {
  return (
    (value ?? '')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('/usr/bin/chromium:'))[0] ?? ''
  );
}
