// Helpers of the remote storage tests: local servers started as child processes, and reading
// streams whole.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import type { Readable } from 'node:stream';

import { eventually } from '../../../test/harness';

export interface ChildServer {
  child: ChildProcess;
  /** What the process printed, for a test's failure message. */
  output: () => string;
  stop: () => Promise<void>;
}

/** Spawns `command` and waits until 127.0.0.1:`port` accepts connections. */
export async function spawnServer(
  command: string,
  args: string[],
  port: number,
  cwd?: string,
): Promise<ChildServer> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        resolve();
        return;
      }
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  try {
    await eventually(async () => child.exitCode === null && (await connects(port)), 30_000);
  } catch {
    await stop();
    throw new Error(`${command} did not start on port ${port}: ${output}`);
  }

  return { child, output: () => output, stop };
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function readAll(stream: NodeJS.ReadableStream | Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(Buffer.from(chunk as Buffer));
  }

  return Buffer.concat(chunks);
}
