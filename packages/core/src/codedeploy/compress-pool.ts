import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * Reads, checksums and deflates small files on worker threads, so every core compresses while the main
 * thread only writes. Measured on Node 20: 20,000 async `zlib.deflateRaw` calls on 4 KiB inputs take 1.7-3.5 s
 * (each call builds a zlib stream, its buffers and a thread-pool round trip), the same work with
 * `deflateRawSync` 0.33 s; so the workers use the sync API, and requests travel in batches to keep
 * message-passing cost per file in microseconds.
 *
 * The worker's code is inline (plain JavaScript, node: built-ins only) so it survives bundling of the CLI
 * into single files.
 */
const workerSource = `
const { parentPort } = require('node:worker_threads');
const { openSync, fstatSync, readSync, closeSync } = require('node:fs');
const zlib = require('node:zlib');
// deflateRawSync's output and its 16 KiB work buffer are garbage outside the JS heap, and the worker
// allocates almost nothing on the heap, so V8 collected rarely while dead buffers piled up (~40 MB of RSS per
// worker, measured). A young-generation collection every 4 MB of such garbage frees them, for well under a
// millisecond each. Worker execArgv may not carry --expose-gc, so the flag is on only long enough to fetch
// gc() from a fresh context, then off again: no other context gets it. Without it, nothing changes but memory.
const collect = (() => {
  try {
    const v8 = require('node:v8');
    v8.setFlagsFromString('--expose-gc');
    try { return require('node:vm').runInNewContext('gc'); } finally { v8.setFlagsFromString('--no-expose-gc'); }
  } catch { return undefined; }
})();
let garbage = 0;
function collected(bytes) {
  garbage += bytes;
  if (garbage < (4 << 20) || typeof collect !== 'function') return;
  garbage = 0;
  collect({ type: 'minor' });
}
const crc32 = zlib.crc32 || ((data, previous = 0) => {
  let table = globalThis.__crcTable;
  if (!table) {
    table = globalThis.__crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; table[n] = c; }
  }
  let crc = ~previous;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
});
// One reusable read buffer per worker: reading into fresh buffers leaves garbage the GC collects late,
// which showed as tens of MB of extra RSS per worker.
let scratch = Buffer.allocUnsafeSlow(1 << 20);
function readWhole(path) {
  const fd = openSync(path, 'r');
  try {
    let size = fstatSync(fd).size;
    if (size + 1 > scratch.length) scratch = Buffer.allocUnsafeSlow(Math.max(size + 1, scratch.length * 2));
    let length = 0;
    // Read until EOF: the file may have grown since it was listed.
    for (;;) {
      if (length === scratch.length) {
        const bigger = Buffer.allocUnsafeSlow(scratch.length * 2);
        scratch.copy(bigger, 0, 0, length);
        scratch = bigger;
      }
      const read = readSync(fd, scratch, length, scratch.length - length, null);
      if (read === 0) break;
      length += read;
    }
    return scratch.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}
// Results travel back packed into one ArrayBuffer per batch, transferred (zero-copy); the main thread hands
// each one back once its entries are on disk, and it is packed into again. Freed buffers that wait for a
// garbage collection were what held the process's memory high (tens of MB of dead transferred buffers).
const free = [];
function packBuffer(minimum) {
  for (let index = 0; index < free.length; index++) {
    if (free[index].byteLength >= minimum) return free.splice(index, 1)[0];
  }
  return Buffer.allocUnsafeSlow(Math.max(minimum, 4 << 20)).buffer;
}
// For a larger file of unknown type: does deflate shrink a 32 KiB sample from its middle? Random or already
// compressed data is then stored without deflating all of it first.
function worthDeflating(raw) {
  if (raw.length < 256 * 1024) return true;
  const start = Math.floor(raw.length / 2) - 16384;
  const sample = raw.subarray(start, start + 32768);
  const compressed = zlib.deflateRawSync(sample, { level: 1 });
  collected(compressed.length + 16384);
  return compressed.length < sample.length * 0.95;
}
parentPort.on('message', (message) => {
  if (message.recycle) {
    if (free.length < 4) free.push(message.recycle);
    return;
  }
  const { batch, jobs } = message;
  let pack = packBuffer(0);
  let used = 0;
  const results = [];
  for (const job of jobs) {
    try {
      const raw = readWhole(job.path);
      const checksum = crc32(raw) >>> 0;
      let data = raw;
      let method = 0;
      if (!job.store && raw.length > 0 && worthDeflating(raw)) {
        const compressed = zlib.deflateRawSync(raw, { level: job.level });
        collected(compressed.length + 16384);
        // Store what deflate does not shrink (random data, tiny files): smaller and faster to unpack.
        if (compressed.length < raw.length) { data = compressed; method = 8; }
      }
      if (used + data.length > pack.byteLength) {
        const bigger = packBuffer(Math.max(used + data.length, pack.byteLength * 2));
        new Uint8Array(bigger).set(new Uint8Array(pack, 0, used));
        if (free.length < 4) free.push(pack);
        pack = bigger;
      }
      new Uint8Array(pack, used, data.length).set(data);
      results.push({ ok: true, crc32: checksum, size: raw.length, method, offset: used, length: data.length });
      used += data.length;
    } catch (error) {
      results.push({ ok: false, message: String(error && error.message || error), code: error && error.code });
    }
  }
  parentPort.postMessage({ batch, results, pack }, [pack]);
});
`;

export interface CompressedFile {
  crc32: number;
  size: number;
  method: 0 | 8;
  /** A view into a buffer shared with the rest of its batch: call release() once it has been written. */
  data: Buffer;
  release(): void;
}

interface Job {
  path: string;
  store: boolean;
  level: number;
}

type WorkerReply = {
  batch: number;
  results: Array<
    | { ok: true; crc32: number; size: number; method: 0 | 8; offset: number; length: number }
    | { ok: false; message: string; code?: string }
  >;
  pack: ArrayBuffer;
};

interface Pending {
  resolve(file: CompressedFile): void;
  reject(error: Error): void;
}

/** A reading/compression failure in a worker, with the file's errno code when there was one. */
export class CompressError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export class CompressPool {
  private readonly workers: Array<{ worker: Worker; outstandingBytes: number }>;
  private readonly batches = new Map<number, { pending: Pending[]; worker: number; bytes: number }>();
  private nextBatch = 0;
  private queued: Array<{ job: Job; pending: Pending; bytes: number }> = [];
  private queuedBytes = 0;
  private flushScheduled = false;
  private failure: Error | undefined;
  private closed = false;

  constructor(
    size = Math.max(1, availableParallelism()),
    /** A batch is sent once it holds this many files or bytes (or at the end of the current tick). */
    private readonly batchFiles = 64,
    private readonly batchBytes = 2 << 20,
  ) {
    this.workers = Array.from({ length: size }, () => {
      // A small young generation makes the worker collect its garbage buffers often: RSS stays low.
      const worker = new Worker(workerSource, {
        eval: true,
        resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 128 },
      });
      worker.unref();
      worker.on('message', (reply: WorkerReply) => this.onReply(reply));
      worker.on('error', (error) => this.fail(error));
      return { worker, outstandingBytes: 0 };
    });
  }

  compress(path: string, sizeHint: number, store: boolean, level: number): Promise<CompressedFile> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queued.push({ job: { path, store, level }, pending: { resolve, reject }, bytes: sizeHint });
      this.queuedBytes += sizeHint;
      if (this.queued.length >= this.batchFiles || this.queuedBytes >= this.batchBytes) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map(({ worker }) => worker.terminate()));
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.queued.length === 0) return;
    const items = this.queued;
    this.queued = [];
    const bytes = this.queuedBytes;
    this.queuedBytes = 0;
    // The least-loaded worker (by bytes in flight) takes the batch.
    let target = 0;
    for (let index = 1; index < this.workers.length; index++) {
      if (this.workers[index]!.outstandingBytes < this.workers[target]!.outstandingBytes) target = index;
    }
    const batch = this.nextBatch++;
    this.batches.set(batch, { pending: items.map((item) => item.pending), worker: target, bytes });
    this.workers[target]!.outstandingBytes += bytes;
    this.workers[target]!.worker.postMessage({ batch, jobs: items.map((item) => item.job) });
  }

  private onReply(reply: WorkerReply): void {
    const batch = this.batches.get(reply.batch);
    if (!batch) return;
    this.batches.delete(reply.batch);
    const worker = this.workers[batch.worker]!;
    worker.outstandingBytes -= batch.bytes;
    const { pack } = reply;
    let unreleased = 1;
    const release = () => {
      // Back to its worker once every entry in it is written (the sink copies what it is given).
      if (--unreleased === 0 && !this.closed) worker.worker.postMessage({ recycle: pack }, [pack]);
    };
    reply.results.forEach((result, index) => {
      const pending = batch.pending[index]!;
      if (result.ok) {
        unreleased++;
        let released = false;
        pending.resolve({
          crc32: result.crc32,
          size: result.size,
          method: result.method,
          data: Buffer.from(pack, result.offset, result.length),
          release: () => {
            if (released) return;
            released = true;
            release();
          },
        });
      } else pending.reject(new CompressError(result.message, result.code));
    });
    release();
  }

  private fail(error: Error): void {
    this.failure = error;
    for (const batch of this.batches.values()) for (const pending of batch.pending) pending.reject(error);
    this.batches.clear();
  }
}
