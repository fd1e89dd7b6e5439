import { Transform, type TransformCallback } from 'node:stream';

/** The framing of an aws-chunked body was broken (bad size line, missing CRLF, truncated). */
export class ChunkedEncodingError extends Error {}

// A size line is `hex[;chunk-signature=<64 hex>]`; anything much longer is not aws-chunked framing.
const MAX_LINE_BYTES = 4096;
const MAX_TRAILER_BYTES = 16 * 1024;

type State = 'size' | 'data' | 'data-end' | 'trailer' | 'done';

/**
 * Parses `Content-Encoding: aws-chunked` request bodies as they stream in:
 * `hex-size[;chunk-signature=…]\r\n <data> \r\n` … `0[;…]\r\n` then trailer lines and an empty line.
 * Chunk boundaries may fall anywhere in the incoming buffers (TCP reads do not respect framing), so all
 * parsing is incremental; only size lines and trailers are ever buffered, never chunk data.
 */
export class AwsChunkedParser {
  private state: State = 'size';
  private line = '';
  /** Data bytes still expected in the current chunk, or CRLF bytes still expected after it. */
  private remaining = 0;
  decodedLength = 0;
  readonly trailers = new Map<string, string>();

  /** Feeds the next raw bytes; decoded data goes to `emit` (as views into `chunk`, not copies). */
  feed(chunk: Buffer, emit: (data: Buffer) => void): void {
    let offset = 0;
    while (offset < chunk.length) {
      switch (this.state) {
        case 'size':
        case 'trailer': {
          const newline = chunk.indexOf(0x0a, offset);
          const end = newline < 0 ? chunk.length : newline;
          this.line += chunk.toString('latin1', offset, end);
          offset = newline < 0 ? chunk.length : newline + 1;
          if (this.line.length > (this.state === 'size' ? MAX_LINE_BYTES : MAX_TRAILER_BYTES))
            throw new ChunkedEncodingError('aws-chunked framing line is too long');
          if (newline >= 0) {
            const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
            this.line = '';
            if (this.state === 'size') this.startChunk(line);
            else this.trailerLine(line);
          }
          break;
        }
        case 'data': {
          const take = Math.min(this.remaining, chunk.length - offset);
          if (take > 0) emit(chunk.subarray(offset, offset + take));
          this.decodedLength += take;
          this.remaining -= take;
          offset += take;
          if (this.remaining === 0) {
            this.state = 'data-end';
            this.remaining = 2;
          }
          break;
        }
        case 'data-end': {
          const expected = this.remaining === 2 ? 0x0d : 0x0a;
          if (chunk[offset] !== expected)
            throw new ChunkedEncodingError('aws-chunked chunk is not followed by CRLF');
          offset += 1;
          this.remaining -= 1;
          if (this.remaining === 0) this.state = 'size';
          break;
        }
        case 'done':
          // Bytes after the final empty line are not part of the object.
          throw new ChunkedEncodingError('data after the end of an aws-chunked body');
      }
    }
  }

  /** Throws unless the body ended at a framing boundary after the final chunk. */
  end(): void {
    // Some writers end right after the trailer lines without the closing empty line; the data is complete.
    if (this.state === 'done' || (this.state === 'trailer' && this.line === '')) this.state = 'done';
    else throw new ChunkedEncodingError(`aws-chunked body ended inside a ${this.state} section`);
  }

  private startChunk(line: string): void {
    const sizeText = (line.split(';', 1)[0] ?? '').trim();
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText))
      throw new ChunkedEncodingError(`invalid aws-chunked size line '${line.slice(0, 80)}'`);
    const size = Number.parseInt(sizeText, 16);
    if (size === 0) {
      this.state = 'trailer';
      return;
    }
    this.state = 'data';
    this.remaining = size;
  }

  private trailerLine(line: string): void {
    if (line === '') {
      this.state = 'done';
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ChunkedEncodingError(`invalid aws-chunked trailer '${line.slice(0, 80)}'`);
    this.trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
}

/** The parser as a stream stage, for piping a request into a file. */
export class AwsChunkedDecoder extends Transform {
  readonly parser = new AwsChunkedParser();

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.parser.feed(chunk, (data) => this.push(data));
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.parser.end();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }
}

/** Decodes a whole aws-chunked body held in memory (small bodies, tests). */
export function decodeAwsChunked(body: Buffer): { data: Buffer; trailers: Map<string, string> } {
  const parser = new AwsChunkedParser();
  const parts: Buffer[] = [];
  parser.feed(body, (data) => parts.push(data));
  parser.end();
  return { data: Buffer.concat(parts), trailers: parser.trailers };
}
