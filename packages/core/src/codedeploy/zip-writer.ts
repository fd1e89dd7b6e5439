import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import * as zlib from 'node:zlib';

/**
 * A hand-written streaming ZIP writer (PKWARE APPNOTE 6.3). No well-kept npm library compresses entries in
 * parallel while streaming, which is what makes bundling fast on CI machines; this module is the format
 * layer only (headers, data descriptors, central directory, ZIP64), and bundle.ts feeds it entries that were
 * compressed ahead on the libuv thread pool. Entries carry Unix modes in their external attributes, so hook
 * scripts stay executable after the agent's `unzip`.
 */

const signatures = {
  localHeader: 0x04034b50,
  centralHeader: 0x02014b50,
  dataDescriptor: 0x08074b50,
  zip64EndRecord: 0x06064b50,
  zip64EndLocator: 0x07064b50,
  endRecord: 0x06054b50,
} as const;

/** "Made by" Unix (3), spec 3.0: what Info-ZIP writes, and what makes unzip honour the external mode bits. */
const versionMadeBy = (3 << 8) | 30;
const versionDefault = 20;
const versionZip64 = 45;
const flagDataDescriptor = 0x0008;
const flagUtf8 = 0x0800;
const max16 = 0xffff;
const max32 = 0xffffffff;
const msDosDirectory = 0x10;

export const methodStore = 0;
export const methodDeflate = 8;
export type ZipMethod = typeof methodStore | typeof methodDeflate;

type Crc32 = (data: Uint8Array, previous?: number) => number;

/** zlib's native crc32 (Node 20.15+/22); the table version only for older runtimes. */
export const crc32: Crc32 =
  (zlib as unknown as { crc32?: Crc32 }).crc32 ??
  (() => {
    const table = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c;
    }
    return (data: Uint8Array, previous = 0) => {
      let crc = ~previous;
      for (let index = 0; index < data.length; index++)
        crc = table[(crc ^ data[index]!) & 0xff]! ^ (crc >>> 8);
      return ~crc >>> 0;
    };
  })();

/** Where the archive's bytes go, in order. */
export interface ByteSink {
  write(chunks: Buffer[]): Promise<void>;
}

export interface ZipEntryMeta {
  /** '/'-separated, relative; directories end with '/'. */
  name: string;
  /** The full st_mode (type and permission bits). */
  mode: number;
  mtime: Date;
}

export interface PreparedZipEntry extends ZipEntryMeta {
  method: ZipMethod;
  crc32: number;
  size: number;
  /** The stored bytes (compressed when method is deflate). */
  data: Buffer;
}

interface CentralRecord {
  meta: ZipEntryMeta;
  method: ZipMethod;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  offset: number;
}

export interface ZipSummary {
  entries: number;
  bytes: number;
  zip64: boolean;
}

function dosDateTime(date: Date): { time: number; date: number } {
  // DOS time has no zone and starts in 1980; Info-ZIP writes local time, and so do we.
  const year = Math.min(Math.max(date.getFullYear(), 1980), 2107);
  return {
    time: (date.getHours() << 11) | (date.getMinutes() << 5) | Math.floor(date.getSeconds() / 2),
    date: ((year - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate(),
  };
}

function externalAttributes(mode: number): number {
  const isDirectory = (mode & 0o170000) === 0o040000;
  return (mode & 0xffff) * 0x10000 + (isDirectory ? msDosDirectory : 0);
}

/** Writes entries in order, then the central directory. Use one writer per archive. */
export class ZipWriter {
  private offset = 0;
  // The central directory is encoded as each entry is written, into 256 KiB chunks: holding a record object
  // (name, Date, sizes) per entry until finish() kept tens of thousands of objects alive, which survived
  // every scavenge and made V8 grow the main thread's young generation (tens of MB of RSS).
  private readonly centralChunks: Buffer[] = [];
  private centralChunk = Buffer.allocUnsafeSlow(centralChunkBytes);
  private centralFilled = 0;
  private centralCount = 0;

  constructor(private readonly sink: ByteSink) {}

  get bytesWritten(): number {
    return this.offset;
  }

  /** An entry whose CRC and sizes are known: the local header carries them, no data descriptor needed. */
  async add(entry: PreparedZipEntry): Promise<void> {
    const name = Buffer.from(entry.name, 'utf8');
    const zip64 = entry.size >= max32 || entry.data.length >= max32;
    const extra = zip64 ? zip64Extra([entry.size, entry.data.length]) : Buffer.alloc(0);
    const header = localHeader({
      name,
      extra,
      flags: flagUtf8,
      method: entry.method,
      mtime: entry.mtime,
      crc32: entry.crc32,
      compressedSize: zip64 ? max32 : entry.data.length,
      size: zip64 ? max32 : entry.size,
      version: zip64 ? versionZip64 : versionDefault,
    });
    this.record({
      meta: entry,
      method: entry.method,
      flags: flagUtf8,
      crc32: entry.crc32,
      compressedSize: entry.data.length,
      size: entry.size,
      offset: this.offset,
    });
    await this.emit(entry.data.length ? [header, entry.data] : [header]);
  }

  /**
   * An entry too large to hold in memory: streamed through deflate (or stored), with CRC and sizes in a data
   * descriptor after the data. `expectedSize` (from stat) decides whether the entry needs ZIP64 fields.
   * The source may reuse a chunk's buffer once the next chunk is requested: each is consumed before that.
   */
  async addStream(
    meta: ZipEntryMeta,
    method: ZipMethod,
    expectedSize: number,
    source: AsyncIterable<Buffer>,
    level: number,
  ): Promise<void> {
    const name = Buffer.from(meta.name, 'utf8');
    // Deflate can grow incompressible data by a few bytes per 16 KiB block; leave room for that.
    const zip64 = expectedSize >= max32 - 64 * 1024 * 1024;
    const flags = flagUtf8 | flagDataDescriptor;
    const header = localHeader({
      name,
      extra: zip64 ? zip64Extra([0, 0]) : Buffer.alloc(0),
      flags,
      method,
      mtime: meta.mtime,
      crc32: 0,
      compressedSize: zip64 ? max32 : 0,
      size: zip64 ? max32 : 0,
      version: zip64 ? versionZip64 : versionDefault,
    });
    const offset = this.offset;
    await this.emit([header]);
    let crc = 0;
    let size = 0;
    let compressedSize = 0;
    if (method === methodStore) {
      for await (const chunk of source) {
        crc = crc32(chunk, crc);
        size += chunk.length;
        compressedSize += chunk.length;
        await this.emit([chunk]);
      }
    } else {
      const deflate = zlib.createDeflateRaw({ level });
      const pump = (async () => {
        for await (const chunk of source) {
          crc = crc32(chunk, crc);
          size += chunk.length;
          // Wait until deflate has consumed the chunk: the source may refill the same buffer for the next one.
          await new Promise<void>((resolve, reject) =>
            deflate.write(chunk, (error) => (error ? reject(error) : resolve())),
          );
        }
        deflate.end();
      })().catch((error: unknown) => {
        deflate.destroy(error instanceof Error ? error : new Error(String(error)));
      });
      for await (const chunk of deflate as AsyncIterable<Buffer>) {
        compressedSize += chunk.length;
        await this.emit([chunk]);
      }
      await pump;
    }
    if (!zip64 && (size >= max32 || compressedSize >= max32)) {
      throw new Error(
        `${meta.name} grew past 4 GiB while being bundled; bundle it again once it stops changing.`,
      );
    }
    const descriptor = Buffer.alloc(zip64 ? 24 : 16);
    descriptor.writeUInt32LE(signatures.dataDescriptor, 0);
    descriptor.writeUInt32LE(crc >>> 0, 4);
    if (zip64) {
      descriptor.writeBigUInt64LE(BigInt(compressedSize), 8);
      descriptor.writeBigUInt64LE(BigInt(size), 16);
    } else {
      descriptor.writeUInt32LE(compressedSize, 8);
      descriptor.writeUInt32LE(size, 12);
    }
    await this.emit([descriptor]);
    this.record({
      meta,
      method,
      flags,
      crc32: crc >>> 0,
      compressedSize,
      size,
      offset,
    });
  }

  /** Central directory and end records; ZIP64 records when entries, sizes or offsets need them. */
  async finish(): Promise<ZipSummary> {
    const centralOffset = this.offset;
    if (this.centralFilled) this.centralChunks.push(this.centralChunk.subarray(0, this.centralFilled));
    for (const chunk of this.centralChunks) await this.emit([chunk]);
    this.centralChunks.length = 0;
    const centralSize = this.offset - centralOffset;
    const count = this.centralCount;
    const zip64 = count >= max16 || centralSize >= max32 || centralOffset >= max32;
    const tail: Buffer[] = [];
    if (zip64) {
      const record = Buffer.alloc(56);
      record.writeUInt32LE(signatures.zip64EndRecord, 0);
      record.writeBigUInt64LE(44n, 4);
      record.writeUInt16LE(versionMadeBy, 12);
      record.writeUInt16LE(versionZip64, 14);
      record.writeUInt32LE(0, 16);
      record.writeUInt32LE(0, 20);
      record.writeBigUInt64LE(BigInt(count), 24);
      record.writeBigUInt64LE(BigInt(count), 32);
      record.writeBigUInt64LE(BigInt(centralSize), 40);
      record.writeBigUInt64LE(BigInt(centralOffset), 48);
      const locator = Buffer.alloc(20);
      locator.writeUInt32LE(signatures.zip64EndLocator, 0);
      locator.writeUInt32LE(0, 4);
      locator.writeBigUInt64LE(BigInt(this.offset), 8);
      locator.writeUInt32LE(1, 16);
      tail.push(record, locator);
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(signatures.endRecord, 0);
    end.writeUInt16LE(0, 4);
    end.writeUInt16LE(0, 6);
    end.writeUInt16LE(Math.min(count, max16), 8);
    end.writeUInt16LE(Math.min(count, max16), 10);
    end.writeUInt32LE(Math.min(centralSize, max32), 12);
    end.writeUInt32LE(Math.min(centralOffset, max32), 16);
    end.writeUInt16LE(0, 20);
    tail.push(end);
    await this.emit(tail);
    return { entries: count, bytes: this.offset, zip64 };
  }

  /** Encodes an entry's central directory header now; nothing of the entry is kept. */
  private record(record: CentralRecord): void {
    const length = centralHeaderLength(record);
    if (this.centralFilled + length > this.centralChunk.length) {
      this.centralChunks.push(this.centralChunk.subarray(0, this.centralFilled));
      this.centralChunk = Buffer.allocUnsafeSlow(Math.max(centralChunkBytes, length));
      this.centralFilled = 0;
    }
    writeCentralHeader(record, this.centralChunk, this.centralFilled);
    this.centralFilled += length;
    this.centralCount++;
  }

  private async emit(chunks: Buffer[]): Promise<void> {
    for (const chunk of chunks) this.offset += chunk.length;
    await this.sink.write(chunks);
  }
}

function zip64Extra(values: number[]): Buffer {
  const extra = Buffer.alloc(4 + 8 * values.length);
  extra.writeUInt16LE(0x0001, 0);
  extra.writeUInt16LE(8 * values.length, 2);
  values.forEach((value, index) => extra.writeBigUInt64LE(BigInt(value), 4 + 8 * index));
  return extra;
}

function localHeader(fields: {
  name: Buffer;
  extra: Buffer;
  flags: number;
  method: ZipMethod;
  mtime: Date;
  crc32: number;
  compressedSize: number;
  size: number;
  version: number;
}): Buffer {
  // From Node's shared pool (every byte is written below): a Buffer.alloc per entry made an ArrayBuffer each.
  const header = Buffer.allocUnsafe(30 + fields.name.length + fields.extra.length);
  const { time, date } = dosDateTime(fields.mtime);
  header.writeUInt32LE(signatures.localHeader, 0);
  header.writeUInt16LE(fields.version, 4);
  header.writeUInt16LE(fields.flags, 6);
  header.writeUInt16LE(fields.method, 8);
  header.writeUInt16LE(time, 10);
  header.writeUInt16LE(date, 12);
  header.writeUInt32LE(fields.crc32 >>> 0, 14);
  header.writeUInt32LE(fields.compressedSize, 18);
  header.writeUInt32LE(fields.size, 22);
  header.writeUInt16LE(fields.name.length, 26);
  header.writeUInt16LE(fields.extra.length, 28);
  fields.name.copy(header, 30);
  fields.extra.copy(header, 30 + fields.name.length);
  return header;
}

const centralChunkBytes = 256 * 1024;

/** APPNOTE 4.5.3: only the fields that overflow go into the ZIP64 extra, in this order. */
function centralOverflow(record: CentralRecord): number[] {
  const overflow: number[] = [];
  if (record.size >= max32) overflow.push(record.size);
  if (record.compressedSize >= max32) overflow.push(record.compressedSize);
  if (record.offset >= max32) overflow.push(record.offset);
  return overflow;
}

function centralHeaderLength(record: CentralRecord): number {
  const overflow = centralOverflow(record).length;
  return 46 + Buffer.byteLength(record.meta.name, 'utf8') + (overflow ? 4 + 8 * overflow : 0);
}

/** One central directory header; exported for the ZIP64 field tests (sizes past 4 GiB cannot be generated). */
export function centralHeader(record: CentralRecord): Buffer {
  const header = Buffer.alloc(centralHeaderLength(record));
  writeCentralHeader(record, header, 0);
  return header;
}

/** Writes one central directory header into `target` at `at` (every byte of it: the target may be reused). */
function writeCentralHeader(record: CentralRecord, target: Buffer, at: number): void {
  const name = Buffer.from(record.meta.name, 'utf8');
  const overflow = centralOverflow(record);
  const extra = overflow.length ? zip64Extra(overflow) : Buffer.alloc(0);
  const header = target.subarray(at, at + 46 + name.length + extra.length);
  const { time, date } = dosDateTime(record.meta.mtime);
  header.writeUInt32LE(signatures.centralHeader, 0);
  header.writeUInt16LE(versionMadeBy, 4);
  header.writeUInt16LE(overflow.length ? versionZip64 : versionDefault, 6);
  header.writeUInt16LE(record.flags, 8);
  header.writeUInt16LE(record.method, 10);
  header.writeUInt16LE(time, 12);
  header.writeUInt16LE(date, 14);
  header.writeUInt32LE(record.crc32 >>> 0, 16);
  header.writeUInt32LE(Math.min(record.compressedSize, max32), 20);
  header.writeUInt32LE(Math.min(record.size, max32), 24);
  header.writeUInt16LE(name.length, 28);
  header.writeUInt16LE(extra.length, 30);
  header.writeUInt16LE(0, 32);
  header.writeUInt16LE(0, 34);
  header.writeUInt16LE(0, 36);
  header.writeUInt32LE(externalAttributes(record.meta.mode), 38);
  header.writeUInt32LE(Math.min(record.offset, max32), 42);
  name.copy(header, 46);
  extra.copy(header, 46 + name.length);
}

export type { CentralRecord };

/**
 * A file sink that copies what it is given into two reusable 2 MiB buffers, writing one while the other
 * fills, and hashes every byte (SHA-256) on the way, so the content-addressed key is known when the archive
 * is complete, without reading it back. Because it copies, a caller may reuse or hand back its buffers as
 * soon as write() resolves: memory stays at the two buffers whatever the archive's size.
 */
export class HashingFileSink implements ByteSink {
  private readonly hash: Hash = createHash('sha256');
  private readonly buffers: [Buffer, Buffer];
  private current = 0;
  private filled = 0;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly file: FileHandle,
    flushBytes = 2 << 20,
  ) {
    this.buffers = [Buffer.allocUnsafeSlow(flushBytes), Buffer.allocUnsafeSlow(flushBytes)];
  }

  async write(chunks: Buffer[]): Promise<void> {
    for (const chunk of chunks) {
      let offset = 0;
      while (offset < chunk.length) {
        const buffer = this.buffers[this.current]!;
        const copied = chunk.copy(buffer, this.filled, offset);
        offset += copied;
        this.filled += copied;
        if (this.filled === buffer.length) await this.swap();
      }
    }
  }

  /** Starts writing the current buffer and switches to the other (once its own write has finished). */
  private async swap(): Promise<void> {
    const data = this.buffers[this.current]!.subarray(0, this.filled);
    this.hash.update(data);
    const previous = this.inFlight;
    if (previous) await previous;
    this.inFlight = this.writeAll(data);
    // A failed write surfaces from the next swap or flush; until then it must not count as unhandled.
    this.inFlight.catch(() => undefined);
    this.current = 1 - this.current;
    this.filled = 0;
  }

  private async writeAll(data: Buffer): Promise<void> {
    let written = 0;
    // A short write is rare on regular files but allowed; write the rest.
    while (written < data.length) {
      written += (await this.file.write(data, written, data.length - written, null)).bytesWritten;
    }
  }

  async flush(): Promise<void> {
    if (this.filled > 0) await this.swap();
    const last = this.inFlight;
    this.inFlight = undefined;
    if (last) await last;
  }

  /** Flushes and returns the hex SHA-256 of everything written. */
  async digest(): Promise<string> {
    await this.flush();
    return this.hash.digest('hex');
  }
}
