import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import {
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  unlink,
  writeFile,
  type FileHandle,
} from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Clock } from '../clock';
import { isValidBucketName } from './bucket-names';
import { quotedMd5 } from './etag';
import { s3Errors } from './errors';
import { compareKeys } from './key-order';
import { KeyedLock } from './keyed-lock';
import { planCompletion, type CompletionPlan, type RequestedPart, type StoredPart } from './multipart';
import type { S3ObjectInfo, S3Store } from './store';

/**
 * An object as the store keeps it: the S3Store view plus the representation headers S3 hands back on GET/HEAD
 * (Cache-Control, Content-Encoding, SSE, …), lower-case names.
 */
export interface StoredObject extends S3ObjectInfo {
  headers: Record<string, string>;
}

export interface ObjectWriteOptions {
  contentType?: string;
  metadata?: Record<string, string>;
  headers?: Record<string, string>;
}

/** What the store measured while writing a body; the caller may veto the write (BadDigest, IncompleteBody). */
export interface BodyDigest {
  size: number;
  md5Hex: string;
  sha256Hex: string | undefined;
}

export interface BodyWriteOptions {
  /** Also compute SHA-256 (only when the client signed a payload hash, since it costs CPU). */
  sha256?: boolean;
  /** Throws to reject the body before it becomes visible. */
  verify?(digest: BodyDigest): void;
}

export interface BucketSummary {
  name: string;
  region: string;
  creationDate: Date;
}

export interface MultipartUpload {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: Date;
  options: ObjectWriteOptions;
  parts: Map<number, StoredPart>;
}

interface BucketState {
  name: string;
  region: string;
  creationDate: Date;
  objects: Map<string, StoredObjectRecord>;
  /** Keys in S3 listing order (UTF-8 byte order), rebuilt lazily after writes. */
  sortedKeys: string[] | undefined;
}

interface StoredObjectRecord {
  info: StoredObject;
  /** File name of the bytes inside the bucket's objects directory; each write gets a fresh one. */
  dataFile: string;
}

interface ObjectMetaFile {
  key: string;
  size: number;
  etag: string;
  lastModified: string;
  contentType: string;
  metadata: Record<string, string>;
  headers: Record<string, string>;
  dataFile: string;
}

interface UploadMetaFile {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: string;
  options: ObjectWriteOptions;
}

interface PartMetaFile {
  partNumber: number;
  size: number;
  md5: string;
  lastModified: string;
  dataFile: string;
}

interface UploadState extends MultipartUpload {
  partFiles: Map<number, string>;
}

const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';

function keyFileName(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

function uniqueSuffix(): string {
  return randomBytes(8).toString('hex');
}

/** Hashes and counts bytes as they pass, so the body is read from the socket exactly once. */
class DigestingPassThrough extends Transform {
  private readonly md5 = createHash('md5');
  private readonly sha256;
  size = 0;

  constructor(withSha256: boolean) {
    super();
    this.sha256 = withSha256 ? createHash('sha256') : undefined;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.md5.update(chunk);
    this.sha256?.update(chunk);
    this.size += chunk.length;
    callback(null, chunk);
  }

  digest(): BodyDigest {
    return { size: this.size, md5Hex: this.md5.digest('hex'), sha256Hex: this.sha256?.digest('hex') };
  }
}

/**
 * S3 state on disk. Layout under the root:
 *   buckets/<name>/bucket.json, buckets/<name>/objects/<sha256(key)>.json + its data file
 *   uploads/<uploadId>/upload.json, part-<n>.json + part data files
 *   tmp/ (bodies being received; same filesystem so commits are renames)
 * Bodies are streamed to a temp file, then renamed into place; the metadata JSON is renamed last, so a reader
 * (or a restart) sees either the old object or the new one, never a half-written one. An in-memory index mirrors
 * the metadata for listing.
 */
export class DiskS3Store implements S3Store {
  private readonly buckets = new Map<string, BucketState>();
  private readonly uploads = new Map<string, UploadState>();
  private readonly lock = new KeyedLock();

  private constructor(
    private readonly root: string,
    private readonly clock: Clock,
  ) {}

  static async open(rootDir: string, clock: Clock): Promise<DiskS3Store> {
    const store = new DiskS3Store(rootDir, clock);
    await rm(join(rootDir, 'tmp'), { recursive: true, force: true });
    await Promise.all(
      ['buckets', 'uploads', 'tmp'].map((dir) => mkdir(join(rootDir, dir), { recursive: true })),
    );
    await store.load();
    return store;
  }

  // ---- buckets -------------------------------------------------------------------------------------------

  async createBucket(name: string, region: string): Promise<void> {
    if (!isValidBucketName(name)) throw s3Errors.invalidBucketName(name);
    if (this.buckets.has(name)) throw s3Errors.bucketAlreadyOwnedByYou(name);
    const state: BucketState = {
      name,
      region,
      creationDate: new Date(this.clock.now()),
      objects: new Map(),
      sortedKeys: [],
    };
    // Claim the name before the first await so concurrent creates of one name cannot both succeed.
    this.buckets.set(name, state);
    try {
      await mkdir(join(this.bucketDir(name), 'objects'), { recursive: true });
      await this.writeJsonAtomically(join(this.bucketDir(name), 'bucket.json'), {
        name,
        region,
        creationDate: state.creationDate.toISOString(),
      });
    } catch (error) {
      this.buckets.delete(name);
      throw error;
    }
  }

  async deleteBucket(name: string): Promise<void> {
    const bucket = this.requireBucket(name);
    if (bucket.objects.size > 0) throw s3Errors.bucketNotEmpty(name);
    this.buckets.delete(name);
    for (const upload of [...this.uploads.values()].filter((u) => u.bucket === name)) {
      await this.abortMultipartUpload(name, upload.key, upload.uploadId);
    }
    await rm(this.bucketDir(name), { recursive: true, force: true });
  }

  bucketExists(name: string): boolean {
    return this.buckets.has(name);
  }

  bucketRegion(name: string): string | undefined {
    return this.buckets.get(name)?.region;
  }

  listBuckets(): BucketSummary[] {
    return [...this.buckets.values()]
      .map(({ name, region, creationDate }) => ({ name, region, creationDate }))
      .sort((a, b) => compareKeys(a.name, b.name));
  }

  // ---- objects -------------------------------------------------------------------------------------------

  async headObject(bucket: string, key: string): Promise<S3ObjectInfo | undefined> {
    return this.buckets.get(bucket)?.objects.get(key)?.info;
  }

  /** Like headObject, with the stored representation headers; throws NoSuchBucket / NoSuchKey. */
  statObject(bucket: string, key: string): StoredObject {
    const record = this.requireBucket(bucket).objects.get(key);
    if (!record) throw s3Errors.noSuchKey(key);
    return record.info;
  }

  async readObject(bucket: string, key: string): Promise<{ info: S3ObjectInfo; body: Buffer } | undefined> {
    const opened = await this.openObjectIfExists(bucket, key);
    if (!opened) return undefined;
    try {
      return { info: opened.info, body: await opened.handle.readFile() };
    } finally {
      await opened.handle.close();
    }
  }

  async objectPath(bucket: string, key: string): Promise<string | undefined> {
    const record = this.buckets.get(bucket)?.objects.get(key);
    return record ? join(this.bucketDir(bucket), 'objects', record.dataFile) : undefined;
  }

  /**
   * Opens an object's bytes. The handle keeps the bytes readable even if the object is overwritten or deleted
   * meanwhile (the data file is unlinked, not truncated), so a GET always returns one consistent version.
   */
  async openObject(bucket: string, key: string): Promise<{ info: StoredObject; handle: FileHandle }> {
    this.requireBucket(bucket);
    const opened = await this.openObjectIfExists(bucket, key);
    if (!opened) throw s3Errors.noSuchKey(key);
    return opened;
  }

  async putObject(
    bucket: string,
    key: string,
    body: Buffer,
    options: ObjectWriteOptions = {},
  ): Promise<S3ObjectInfo> {
    return this.putObjectStream(bucket, key, Readable.from([body]), options);
  }

  /** Streams a body into a new version of the object; nothing is visible until the body is complete and verified. */
  async putObjectStream(
    bucket: string,
    key: string,
    body: Readable,
    options: ObjectWriteOptions = {},
    write: BodyWriteOptions = {},
  ): Promise<StoredObject> {
    this.requireBucket(bucket);
    const received = await this.receiveBody(body, write);
    try {
      return await this.commitObject(bucket, key, received.tmpPath, {
        size: received.digest.size,
        etag: quotedMd5(received.digest.md5Hex),
        options,
      });
    } catch (error) {
      await unlink(received.tmpPath).catch(() => undefined);
      throw error;
    }
  }

  async copyObject(
    source: { bucket: string; key: string },
    target: { bucket: string; key: string },
    options: ObjectWriteOptions | undefined,
  ): Promise<StoredObject> {
    this.requireBucket(target.bucket);
    const { info, handle } = await this.openObject(source.bucket, source.key);
    const tmpPath = this.tmpPath();
    try {
      await pipeline(handle.createReadStream({ autoClose: false }), createWriteStream(tmpPath));
    } finally {
      await handle.close();
    }
    try {
      return await this.commitObject(target.bucket, target.key, tmpPath, {
        size: info.size,
        etag: info.etag,
        options: options ?? { contentType: info.contentType, metadata: info.metadata, headers: info.headers },
      });
    } catch (error) {
      await unlink(tmpPath).catch(() => undefined);
      throw error;
    }
  }

  /** Idempotent, as in S3: deleting a missing key succeeds. Throws NoSuchBucket. */
  async deleteObject(bucket: string, key: string): Promise<void> {
    const state = this.requireBucket(bucket);
    await this.lock.run(`${bucket}\n${key}`, async () => {
      const record = state.objects.get(key);
      if (!record) return;
      const dir = join(this.bucketDir(bucket), 'objects');
      await unlink(join(dir, `${keyFileName(key)}.json`)).catch(ignoreMissing);
      state.objects.delete(key);
      state.sortedKeys = undefined;
      await unlink(join(dir, record.dataFile)).catch(ignoreMissing);
    });
  }

  /** Keys in listing order; the array is shared, callers must not mutate it. */
  sortedKeys(bucket: string): readonly string[] {
    const state = this.requireBucket(bucket);
    state.sortedKeys ??= [...state.objects.keys()].sort(compareKeys);
    return state.sortedKeys;
  }

  objectInfo(bucket: string, key: string): StoredObject | undefined {
    return this.buckets.get(bucket)?.objects.get(key)?.info;
  }

  // ---- multipart -----------------------------------------------------------------------------------------

  async createMultipartUpload(
    bucket: string,
    key: string,
    options: ObjectWriteOptions,
  ): Promise<MultipartUpload> {
    this.requireBucket(bucket);
    const uploadId = randomBytes(48).toString('base64url');
    const upload: UploadState = {
      uploadId,
      bucket,
      key,
      initiated: new Date(this.clock.now()),
      options,
      parts: new Map(),
      partFiles: new Map(),
    };
    await mkdir(this.uploadDir(uploadId), { recursive: true });
    const meta: UploadMetaFile = {
      uploadId,
      bucket,
      key,
      initiated: upload.initiated.toISOString(),
      options,
    };
    await this.writeJsonAtomically(join(this.uploadDir(uploadId), 'upload.json'), meta);
    this.uploads.set(uploadId, upload);
    return upload;
  }

  /** Throws NoSuchBucket, then NoSuchUpload (also for an upload of another bucket or key). */
  requireUpload(bucket: string, key: string, uploadId: string): MultipartUpload {
    this.requireBucket(bucket);
    const upload = this.uploads.get(uploadId);
    if (!upload || upload.bucket !== bucket || upload.key !== key) throw s3Errors.noSuchUpload(uploadId);
    return upload;
  }

  listMultipartUploads(bucket: string): MultipartUpload[] {
    this.requireBucket(bucket);
    return [...this.uploads.values()]
      .filter((upload) => upload.bucket === bucket)
      .sort((a, b) => compareKeys(a.key, b.key) || a.initiated.getTime() - b.initiated.getTime());
  }

  async uploadPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: Readable,
    write: BodyWriteOptions = {},
  ): Promise<StoredPart> {
    this.requireUpload(bucket, key, uploadId);
    const received = await this.receiveBody(body, write);
    return this.lock.run(`upload\n${uploadId}\n${partNumber}`, async () => {
      const upload = this.uploads.get(uploadId);
      if (!upload) {
        await unlink(received.tmpPath).catch(() => undefined);
        throw s3Errors.noSuchUpload(uploadId);
      }
      const dataFile = `part-${partNumber}.${uniqueSuffix()}`;
      const part: StoredPart = {
        partNumber,
        size: received.digest.size,
        md5: received.digest.md5Hex,
        lastModified: new Date(this.clock.now()),
      };
      try {
        await rename(received.tmpPath, join(this.uploadDir(uploadId), dataFile));
        const meta: PartMetaFile = { ...part, lastModified: part.lastModified.toISOString(), dataFile };
        await this.writeJsonAtomically(join(this.uploadDir(uploadId), `part-${partNumber}.json`), meta);
      } catch (error) {
        await unlink(received.tmpPath).catch(() => undefined);
        // Aborted while the part was arriving: the upload directory is gone.
        if (!this.uploads.has(uploadId)) throw s3Errors.noSuchUpload(uploadId);
        throw error;
      }
      const previous = upload.partFiles.get(partNumber);
      upload.parts.set(partNumber, part);
      upload.partFiles.set(partNumber, dataFile);
      if (previous) await unlink(join(this.uploadDir(uploadId), previous)).catch(ignoreMissing);
      return part;
    });
  }

  /** Validates the part list, concatenates the part files on disk into the object and ends the upload. */
  async completeMultipartUpload(
    bucket: string,
    key: string,
    uploadId: string,
    requested: readonly RequestedPart[],
  ): Promise<{ object: StoredObject; plan: CompletionPlan }> {
    const upload = this.requireUpload(bucket, key, uploadId) as UploadState;
    const plan = planCompletion(uploadId, upload.parts, requested);
    const tmpPath = this.tmpPath();
    const output = await open(tmpPath, 'w');
    try {
      // Part by part through one file handle: bounded memory whatever the object size.
      for (const part of plan.parts) {
        const file = join(this.uploadDir(uploadId), upload.partFiles.get(part.partNumber) as string);
        for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) {
          await output.write(chunk as Buffer);
        }
      }
      await output.close();
    } catch (error) {
      await output.close().catch(() => undefined);
      await unlink(tmpPath).catch(() => undefined);
      if (!this.uploads.has(uploadId)) throw s3Errors.noSuchUpload(uploadId);
      throw error;
    }
    if (this.uploads.get(uploadId) !== upload) {
      await unlink(tmpPath).catch(() => undefined);
      throw s3Errors.noSuchUpload(uploadId);
    }
    this.uploads.delete(uploadId);
    try {
      const object = await this.commitObject(bucket, key, tmpPath, {
        size: plan.size,
        etag: plan.etag,
        options: upload.options,
      });
      return { object, plan };
    } catch (error) {
      this.uploads.set(uploadId, upload);
      await unlink(tmpPath).catch(() => undefined);
      throw error;
    } finally {
      if (!this.uploads.has(uploadId)) await rm(this.uploadDir(uploadId), { recursive: true, force: true });
    }
  }

  async abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    const upload = this.uploads.get(uploadId);
    if (!upload || upload.bucket !== bucket || upload.key !== key) throw s3Errors.noSuchUpload(uploadId);
    this.uploads.delete(uploadId);
    await rm(this.uploadDir(uploadId), { recursive: true, force: true });
  }

  // ---- internals -----------------------------------------------------------------------------------------

  private requireBucket(name: string): BucketState {
    const bucket = this.buckets.get(name);
    if (!bucket) throw s3Errors.noSuchBucket(name);
    return bucket;
  }

  private bucketDir(name: string): string {
    return join(this.root, 'buckets', name);
  }

  private uploadDir(uploadId: string): string {
    return join(this.root, 'uploads', uploadId);
  }

  private tmpPath(): string {
    return join(this.root, 'tmp', uniqueSuffix());
  }

  private async openObjectIfExists(
    bucket: string,
    key: string,
  ): Promise<{ info: StoredObject; handle: FileHandle } | undefined> {
    // A concurrent overwrite can unlink the data file between the index lookup and open(); retry on the new one.
    for (let attempt = 0; attempt < 5; attempt++) {
      const record = this.buckets.get(bucket)?.objects.get(key);
      if (!record) return undefined;
      try {
        const handle = await open(join(this.bucketDir(bucket), 'objects', record.dataFile), 'r');
        return { info: record.info, handle };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    return undefined;
  }

  private async receiveBody(
    body: Readable,
    write: BodyWriteOptions,
  ): Promise<{ tmpPath: string; digest: BodyDigest }> {
    const tmpPath = this.tmpPath();
    const digester = new DigestingPassThrough(write.sha256 ?? false);
    try {
      await pipeline(body, digester, createWriteStream(tmpPath));
      const digest = digester.digest();
      write.verify?.(digest);
      return { tmpPath, digest };
    } catch (error) {
      await unlink(tmpPath).catch(() => undefined);
      throw error;
    }
  }

  private async commitObject(
    bucket: string,
    key: string,
    tmpPath: string,
    object: { size: number; etag: string; options: ObjectWriteOptions },
  ): Promise<StoredObject> {
    return this.lock.run(`${bucket}\n${key}`, async () => {
      const state = this.requireBucket(bucket);
      const dir = join(this.bucketDir(bucket), 'objects');
      const dataFile = `${keyFileName(key)}.${uniqueSuffix()}`;
      const info: StoredObject = {
        bucket,
        key,
        size: object.size,
        etag: object.etag,
        // S3 timestamps have second precision on the wire; keep what clients will see.
        lastModified: new Date(Math.floor(this.clock.now() / 1000) * 1000),
        contentType: object.options.contentType ?? DEFAULT_CONTENT_TYPE,
        metadata: object.options.metadata ?? {},
        headers: object.options.headers ?? {},
      };
      await rename(tmpPath, join(dir, dataFile));
      const meta: ObjectMetaFile = {
        key,
        size: info.size,
        etag: info.etag,
        lastModified: info.lastModified.toISOString(),
        contentType: info.contentType,
        metadata: info.metadata,
        headers: info.headers,
        dataFile,
      };
      await this.writeJsonAtomically(join(dir, `${keyFileName(key)}.json`), meta);
      const previous = state.objects.get(key);
      state.objects.set(key, { info, dataFile });
      if (!previous) state.sortedKeys = undefined;
      if (previous) await unlink(join(dir, previous.dataFile)).catch(ignoreMissing);
      return info;
    });
  }

  private async writeJsonAtomically(path: string, value: unknown): Promise<void> {
    const tmp = this.tmpPath();
    await writeFile(tmp, JSON.stringify(value));
    await rename(tmp, path);
  }

  /** Rebuilds the index from disk and removes data files no metadata names (writes cut short by a crash). */
  private async load(): Promise<void> {
    for (const name of await readdir(join(this.root, 'buckets'))) {
      const dir = this.bucketDir(name);
      let bucketMeta: { region: string; creationDate: string };
      try {
        bucketMeta = JSON.parse(await readFile(join(dir, 'bucket.json'), 'utf8')) as typeof bucketMeta;
      } catch {
        continue;
      }
      const state: BucketState = {
        name,
        region: bucketMeta.region,
        creationDate: new Date(bucketMeta.creationDate),
        objects: new Map(),
        sortedKeys: undefined,
      };
      const objectsDir = join(dir, 'objects');
      await mkdir(objectsDir, { recursive: true });
      const files = await readdir(objectsDir);
      const referenced = new Set<string>();
      for (const file of files.filter((f) => f.endsWith('.json'))) {
        const meta = JSON.parse(await readFile(join(objectsDir, file), 'utf8')) as ObjectMetaFile;
        referenced.add(meta.dataFile);
        state.objects.set(meta.key, {
          dataFile: meta.dataFile,
          info: {
            bucket: name,
            key: meta.key,
            size: meta.size,
            etag: meta.etag,
            lastModified: new Date(meta.lastModified),
            contentType: meta.contentType,
            metadata: meta.metadata,
            headers: meta.headers,
          },
        });
      }
      for (const file of files) {
        if (!file.endsWith('.json') && !referenced.has(file)) await unlink(join(objectsDir, file));
      }
      this.buckets.set(name, state);
    }
    for (const uploadId of await readdir(join(this.root, 'uploads'))) {
      const dir = this.uploadDir(uploadId);
      let meta: UploadMetaFile;
      try {
        meta = JSON.parse(await readFile(join(dir, 'upload.json'), 'utf8')) as UploadMetaFile;
      } catch {
        await rm(dir, { recursive: true, force: true });
        continue;
      }
      const upload: UploadState = {
        uploadId,
        bucket: meta.bucket,
        key: meta.key,
        initiated: new Date(meta.initiated),
        options: meta.options,
        parts: new Map(),
        partFiles: new Map(),
      };
      for (const file of (await readdir(dir)).filter((f) => /^part-\d+\.json$/.test(f))) {
        const part = JSON.parse(await readFile(join(dir, file), 'utf8')) as PartMetaFile;
        upload.parts.set(part.partNumber, {
          partNumber: part.partNumber,
          size: part.size,
          md5: part.md5,
          lastModified: new Date(part.lastModified),
        });
        upload.partFiles.set(part.partNumber, part.dataFile);
      }
      if (this.buckets.has(upload.bucket)) this.uploads.set(uploadId, upload);
      else await rm(dir, { recursive: true, force: true });
    }
  }
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}
