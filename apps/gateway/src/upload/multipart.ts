// Streaming multipart/form-data parser for the upload target (why not busboy: docs/API.md §4, §10.4).
import { Readable } from 'node:stream';

import { AppError } from '@convertd/errors';

import {
  decodeFieldValue,
  parseBoundary,
  parsePartHeaders,
  toBaseName,
  type PartHeaders,
} from './multipart-headers';

const DEFAULT_MAX_FIELDS = 100;
const DEFAULT_MAX_FIELD_BYTES = 64 * 1024;
const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
const FILE_HIGH_WATER_MARK = 64 * 1024;
const MAX_TRANSPORT_PADDING = 256;
const CR = 0x0d;
const LF = 0x0a;
const DASH = 0x2d;
const SPACE = 0x20;
const TAB = 0x09;
const HEADER_END = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);

/** What the client said about the uploaded file. */
export interface UploadFileInfo {
  fieldName: string;
  /** The client's name reduced to its last path segment; 'file' when the client sent none. */
  filename: string;
  contentType: string | undefined;
}

/** Handed to `onFile`: read `stream` to the end (or until it errors) before settling. */
export interface UploadFileStream extends UploadFileInfo {
  stream: Readable;
  /** The text fields that preceded the file part. */
  fields: Readonly<Record<string, string>>;
}

export interface ParseUploadOptions<T> {
  maxFileBytes: number;
  /** Text fields, default 100; the body may hold at most `maxFields + 1` parts in all. */
  maxFields?: number;
  /** Per text field; default 64 KiB. */
  maxFieldBytes?: number;
  /** Per part header block; default 16 KiB. */
  maxHeaderBytes?: number;
  onFile: (file: UploadFileStream) => Promise<T>;
}

export interface ParsedUpload<T> {
  /** Text fields before the file part; fields after it are ignored, as S3 POST does. */
  fields: Record<string, string>;
  file: UploadFileInfo & { size: number };
  fileResult: T;
}

type Phase = 'preamble' | 'delimiter' | 'headers' | 'body' | 'epilogue';

interface FileState {
  info: UploadFileInfo;
  stream: Readable;
  bytes: number;
  /** `complete`: all bytes pushed, `end` waits for the closing boundary to prove the body whole. */
  state: 'open' | 'complete' | 'ended' | 'abandoned';
}

/**
 * Parses a multipart/form-data upload, streaming the first file part to `onFile` with backpressure
 * and buffering only small text fields. Rejects with an `AppError` (UPLOAD_FAILED,
 * PAYLOAD_TOO_LARGE) or with `onFile`'s error, only after `onFile` has settled; the file stream is
 * destroyed with that error first. On rejection the parser has detached from `body` and left it
 * flowing, so the rest is discarded; destroy `body` to cut the connection instead.
 */
export function parseUpload<T>(
  body: Readable,
  contentType: string | undefined,
  options: ParseUploadOptions<T>,
): Promise<ParsedUpload<T>> {
  return new Promise((resolve, reject) => {
    new UploadParser(body, options, resolve, reject).start(contentType);
  });
}

class UploadParser<T> {
  private readonly maxFields: number;
  private readonly maxFieldBytes: number;
  private readonly maxHeaderBytes: number;
  private delimiter = EMPTY;
  private phase: Phase = 'preamble';
  private sawDelimiter = false;
  // Bytes that may start a delimiter; the leading CRLF lets the first delimiter open the body.
  private held = Buffer.from('\r\n');
  private closeDash = false;
  private paddingBytes = 0;
  private headerChunks: Buffer[] = [];
  private headerBytes = 0;
  private headerTail = EMPTY;
  private partCount = 0;
  private sink: 'discard' | 'field' | 'file' = 'discard';
  private fieldName = '';
  private fieldCharset: string | undefined;
  private fieldChunks: Buffer[] = [];
  private fieldBytes = 0;
  private readonly fields = new Map<string, string>();
  private file: FileState | undefined;
  private wantsPause = false;
  private pausedForFile = false;
  private consumer: Promise<void> | undefined;
  private consumerResult: { value: T } | undefined;
  private bodyEnded = false;
  private detached = false;
  private failure: { error: unknown } | undefined;
  private settled = false;

  constructor(
    private readonly body: Readable,
    private readonly options: ParseUploadOptions<T>,
    private readonly resolve: (upload: ParsedUpload<T>) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.maxFields = options.maxFields ?? DEFAULT_MAX_FIELDS;
    this.maxFieldBytes = options.maxFieldBytes ?? DEFAULT_MAX_FIELD_BYTES;
    this.maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  }

  start(contentType: string | undefined): void {
    try {
      this.delimiter = Buffer.from(`\r\n--${parseBoundary(contentType)}`, 'latin1');
    } catch (error) {
      this.fail(error);
      return;
    }

    if (this.body.readableEnded || this.body.destroyed) {
      this.fail(uploadFailed('The upload body was already consumed.'));
      return;
    }

    this.body.on('data', this.onData);
    this.body.on('end', this.onEnd);
    this.body.on('error', this.onError);
    this.body.on('close', this.onClose);
    this.body.resume();
  }

  private readonly onData = (chunk: Buffer | string): void => {
    if (this.failure !== undefined) {
      return;
    }

    this.process(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    if (this.wantsPause && !this.pausedForFile && !this.detached) {
      this.pausedForFile = true;
      this.body.pause();
    }
  };

  private readonly onEnd = (): void => {
    this.bodyEnded = true;
    this.detach();
    if (this.phase !== 'epilogue') {
      const message = this.sawDelimiter
        ? 'The upload ended before the closing multipart boundary.'
        : 'The upload body does not contain the multipart boundary.';
      this.fail(uploadFailed(message));
      return;
    }

    if (this.file === undefined) {
      this.fail(uploadFailed('The upload contains no file part.'));
      return;
    }

    this.settleIfDone();
  };

  private readonly onError = (error: unknown): void => {
    this.fail(
      new AppError('UPLOAD_FAILED', { message: 'The upload was interrupted.', cause: error }),
    );
  };

  private readonly onClose = (): void => {
    if (!this.bodyEnded) {
      this.fail(uploadFailed('The upload was interrupted.'));
    }
  };

  private process(chunk: Buffer): void {
    let position = 0;
    while (position < chunk.length && this.failure === undefined) {
      switch (this.phase) {
        case 'preamble':
        case 'body':
          position = this.scanContent(chunk, position);
          break;
        case 'delimiter':
          position = this.scanDelimiterLine(chunk, position);
          break;
        case 'headers':
          position = this.scanHeaders(chunk, position);
          break;
        case 'epilogue':
          return;
        default:
          return assertNever(this.phase);
      }
    }
  }

  // Finds `CRLF--boundary` with Buffer.indexOf; only a possible delimiter prefix at the end of a
  // chunk (a few bytes starting with CR) is held back for the next one.
  private scanContent(chunk: Buffer, start: number): number {
    const delimiter = this.delimiter;
    if (this.held.length > 0) {
      const held = this.held;
      const count = Math.min(delimiter.length - held.length, chunk.length - start);
      const matched =
        chunk.compare(delimiter, held.length, held.length + count, start, start + count) === 0;
      if (matched && held.length + count === delimiter.length) {
        this.held = EMPTY;
        this.onDelimiter();
        return start + count;
      }

      if (matched) {
        this.held = Buffer.concat([held, chunk.subarray(start)]);
        return chunk.length;
      }

      // The delimiter holds a CR only at its start, so no later byte of `held` can start one.
      this.held = EMPTY;
      this.emit(held);
      if (this.failure !== undefined) {
        return chunk.length;
      }
    }

    const index = chunk.indexOf(delimiter, start);
    if (index !== -1) {
      this.emit(chunk.subarray(start, index));
      if (this.failure === undefined) {
        this.onDelimiter();
      }
      return index + delimiter.length;
    }

    const keep = partialDelimiterStart(chunk, start, delimiter);
    this.emit(chunk.subarray(start, keep));
    if (keep < chunk.length) {
      this.held = Buffer.from(chunk.subarray(keep));
    }

    return chunk.length;
  }

  // After `--boundary`: `--` closes the body; otherwise optional padding, then the CRLF that the
  // header block begins with.
  private scanDelimiterLine(chunk: Buffer, start: number): number {
    for (let position = start; position < chunk.length; position += 1) {
      const byte = chunk[position];
      if (this.closeDash) {
        if (byte !== DASH) {
          return this.malformed();
        }

        this.onClosingDelimiter();
        return chunk.length;
      }

      if (byte === DASH && this.paddingBytes === 0) {
        this.closeDash = true;
      } else if (byte === SPACE || byte === TAB) {
        this.paddingBytes += 1;
        if (this.paddingBytes > MAX_TRANSPORT_PADDING) {
          return this.malformed();
        }
      } else if (byte === CR) {
        this.startHeaders();
        return position;
      } else {
        return this.malformed();
      }
    }

    return chunk.length;
  }

  // Collects the header block from the delimiter line's CRLF to the blank line; the block may
  // arrive one byte at a time, so only the last 3 bytes are re-searched.
  private scanHeaders(chunk: Buffer, start: number): number {
    const room = this.maxHeaderBytes - this.headerBytes + HEADER_END.length;
    const piece = chunk.subarray(start, Math.min(chunk.length, start + room));
    const tail = this.headerTail;
    const window = tail.length > 0 ? Buffer.concat([tail, piece]) : piece;
    const index = window.indexOf(HEADER_END);
    if (index !== -1) {
      const endInPiece = index - tail.length;
      const all = Buffer.concat([...this.headerChunks, piece.subarray(0, Math.max(endInPiece, 0))]);
      this.startPart(all.subarray(0, this.headerBytes + endInPiece));
      return start + endInPiece + HEADER_END.length;
    }

    this.headerChunks.push(Buffer.from(piece));
    this.headerBytes += piece.length;
    if (this.headerBytes > this.maxHeaderBytes) {
      this.fail(uploadFailed(`A part's headers exceed ${this.maxHeaderBytes} bytes.`));
      return chunk.length;
    }

    this.headerTail = Buffer.from(window.subarray(Math.max(window.length - 3, 0)));
    return start + piece.length;
  }

  private onDelimiter(): void {
    this.sawDelimiter = true;
    this.endPart();
    this.phase = 'delimiter';
    this.closeDash = false;
    this.paddingBytes = 0;
  }

  private onClosingDelimiter(): void {
    this.phase = 'epilogue';
    const file = this.file;
    if (file?.state === 'complete') {
      file.state = 'ended';
      file.stream.push(null);
    }
    // The file stream takes no more reads once ended, so it will never resume a body paused for
    // it: the epilogue must still be read for the body to end.
    this.resumeBody();
  }

  private startHeaders(): void {
    this.phase = 'headers';
    this.headerChunks = [];
    this.headerBytes = 0;
    this.headerTail = EMPTY;
    this.partCount += 1;
    if (this.partCount > this.maxFields + 1) {
      this.fail(tooLarge(`The upload has more than ${this.maxFields + 1} parts.`));
    }
  }

  private startPart(block: Buffer): void {
    if (block.length > 0 && (block[0] !== CR || block[1] !== LF)) {
      this.malformed();
      return;
    }

    const headers = parsePartHeaders(block.subarray(2));
    this.phase = 'body';
    this.sink = 'discard';
    if (this.file !== undefined) {
      return;
    }

    // PHP sends a string upload as a `file` part without a filename.
    if (headers.hasFilename || headers.name === 'file') {
      this.openFile(headers);
      return;
    }

    if (headers.name === undefined || headers.name === '') {
      return;
    }

    if (this.fields.size >= this.maxFields && !this.fields.has(headers.name)) {
      this.fail(tooLarge(`The upload has more than ${this.maxFields} form fields.`));
      return;
    }

    this.sink = 'field';
    this.fieldName = headers.name;
    this.fieldCharset = headers.charset;
    this.fieldChunks = [];
    this.fieldBytes = 0;
  }

  private openFile(headers: PartHeaders): void {
    const info: UploadFileInfo = {
      fieldName: headers.name || 'file',
      filename: toBaseName(headers.filename ?? ''),
      contentType: headers.contentType,
    };
    const stream = new Readable({ highWaterMark: FILE_HIGH_WATER_MARK, read: this.onFileRead });
    // The consumer may not listen for errors; an unhandled 'error' event would crash the process.
    stream.on('error', noop);
    stream.on('close', this.onFileClose);
    this.file = { info, stream, bytes: 0, state: 'open' };
    this.sink = 'file';
    // The executor turns a synchronous throw from onFile into a rejection.
    const pending = new Promise<T>((resolve) => {
      resolve(this.options.onFile({ ...info, stream, fields: Object.fromEntries(this.fields) }));
    });
    this.consumer = pending.then(
      (value) => {
        this.onConsumerDone(value);
      },
      (error: unknown) => {
        this.consumer = undefined;
        this.fail(error);
      },
    );
  }

  private emit(data: Buffer): void {
    if (data.length === 0) {
      return;
    }

    switch (this.sink) {
      case 'discard':
        return;
      case 'field':
        this.fieldBytes += data.length;
        if (this.fieldBytes > this.maxFieldBytes) {
          this.fail(
            tooLarge(`The form field "${this.fieldName}" exceeds ${this.maxFieldBytes} bytes.`),
          );
          return;
        }

        this.fieldChunks.push(Buffer.from(data));
        return;
      case 'file':
        this.emitFileData(data);
        return;
      default:
        assertNever(this.sink);
    }
  }

  private emitFileData(data: Buffer): void {
    const file = this.file;
    if (file === undefined) {
      return;
    }

    file.bytes += data.length;
    if (file.bytes > this.options.maxFileBytes) {
      this.fail(
        tooLarge(`The file exceeds the upload limit of ${this.options.maxFileBytes} bytes.`),
      );
      return;
    }

    if (file.state === 'open' && !file.stream.push(data)) {
      this.wantsPause = true;
    }
  }

  private endPart(): void {
    if (this.sink === 'field') {
      const value = decodeFieldValue(Buffer.concat(this.fieldChunks), this.fieldCharset);
      this.fields.set(this.fieldName, value);
      this.fieldChunks = [];
    } else if (this.sink === 'file' && this.file?.state === 'open') {
      this.file.state = 'complete';
    }
    this.sink = 'discard';
  }

  private readonly onFileRead = (): void => {
    if (this.wantsPause) {
      this.resumeBody();
    }
  };

  // The consumer destroyed the stream: discard the rest of the file and let `onFile` settle.
  private readonly onFileClose = (): void => {
    const file = this.file;
    if (file === undefined || file.state === 'ended') {
      return;
    }

    file.state = 'abandoned';
    this.resumeBody();
  };

  private resumeBody(): void {
    this.wantsPause = false;
    if (!this.pausedForFile) {
      return;
    }

    this.pausedForFile = false;
    if (!this.detached) {
      this.body.resume();
    }
  }

  private onConsumerDone(value: T): void {
    this.consumerResult = { value };
    this.consumer = undefined;
    // A consumer that settled without reading to the end must not stall the body.
    const file = this.file;
    if (file !== undefined && file.state !== 'ended' && !file.stream.destroyed) {
      file.stream.resume();
    }

    this.settleIfDone();
  }

  private settleIfDone(): void {
    const file = this.file;
    const result = this.consumerResult;
    if (this.settled || this.failure !== undefined || !this.bodyEnded) {
      return;
    }
    if (file === undefined || result === undefined) {
      return;
    }

    this.settled = true;
    this.resolve({
      fields: Object.fromEntries(this.fields),
      file: { ...file.info, size: file.bytes },
      fileResult: result.value,
    });
  }

  private malformed(): number {
    this.fail(uploadFailed('The upload is not well-formed multipart/form-data.'));
    return Number.POSITIVE_INFINITY;
  }

  private fail(error: unknown): void {
    if (this.settled || this.failure !== undefined) {
      return;
    }

    this.failure = { error };
    this.detach();
    const file = this.file;
    if (file !== undefined && file.state !== 'ended' && !file.stream.destroyed) {
      file.stream.destroy(error instanceof Error ? error : new Error(String(error)));
    }

    const rejectNow = (): void => {
      this.settled = true;
      this.reject(error);
    };
    if (this.consumer === undefined) {
      rejectNow();
    } else {
      void this.consumer.then(rejectNow);
    }
  }

  private detach(): void {
    if (this.detached) {
      return;
    }

    this.detached = true;
    this.body.off('data', this.onData);
    this.body.off('end', this.onEnd);
    this.body.off('error', this.onError);
    this.body.off('close', this.onClose);
    // A client that aborts while the rest is discarded must not crash the process.
    this.body.on('error', noop);
    if (!this.body.destroyed && !this.body.readableEnded) {
      this.body.resume();
    }
  }
}

/** Index where a possible delimiter prefix starts at the end of `chunk`, else `chunk.length`. */
function partialDelimiterStart(chunk: Buffer, start: number, delimiter: Buffer): number {
  let position = chunk.indexOf(CR, Math.max(start, chunk.length - delimiter.length + 1));
  while (position !== -1) {
    if (chunk.compare(delimiter, 0, chunk.length - position, position) === 0) {
      return position;
    }
    position = chunk.indexOf(CR, position + 1);
  }

  return chunk.length;
}

function uploadFailed(message: string): AppError {
  return new AppError('UPLOAD_FAILED', { message });
}

function tooLarge(message: string): AppError {
  return new AppError('PAYLOAD_TOO_LARGE', { message });
}

function assertNever(value: never): never {
  throw new Error(`Unexpected value: ${String(value)}`);
}

function noop(): void {}
