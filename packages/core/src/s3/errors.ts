import { KeylessError } from '../errors';

/**
 * The files to upload cannot be selected as given: a missing folder, a symlink loop or escape, a key clash.
 */
export class UploadSourceError extends KeylessError {
  readonly code = 'UploadSource';
  override readonly exitCode = 2;
}

/** The bucket is missing (and not to be created), not ours, in another region, or could not be created. */
export class BucketError extends KeylessError {
  readonly code = 'Bucket';
}

/** Uploading a file failed (after the SDK's retries). */
export class FileUploadError extends KeylessError {
  readonly code = 'FileUpload';
}
