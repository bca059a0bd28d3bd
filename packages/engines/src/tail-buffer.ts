// Keeps only the last bytes of a stream, so a process flooding its output cannot exhaust memory.

/** Collects chunks and drops the oldest bytes once more than `capBytes` are held. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private held = 0;
  private seen = 0;

  constructor(private readonly capBytes: number) {}

  push(chunk: Buffer): void {
    this.seen += chunk.length;
    this.chunks.push(chunk);
    this.held += chunk.length;

    while (this.held > this.capBytes) {
      const first = this.chunks[0];
      if (first === undefined) {
        break;
      }

      const excess = this.held - this.capBytes;
      if (first.length <= excess) {
        this.chunks.shift();
        this.held -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.held -= excess;
      }
    }
  }

  /** Total bytes pushed, including the dropped ones. */
  get bytesSeen(): number {
    return this.seen;
  }

  /** The held bytes as UTF-8, or only the last `maxBytes` of them. */
  text(maxBytes = this.capBytes): string {
    const all = Buffer.concat(this.chunks);
    const start = Math.max(0, all.length - maxBytes);

    return dropBrokenLead(all.subarray(start)).toString('utf8');
  }
}

// A cut can land inside a multi-byte character: skip its continuation bytes, not print U+FFFD.
function dropBrokenLead(buf: Buffer): Buffer {
  let i = 0;
  while (i < buf.length && i < 3 && ((buf[i] ?? 0) & 0xc0) === 0x80) {
    i += 1;
  }

  return buf.subarray(i);
}
