/**
 * The sandbox's S3 state as other sandbox parts use it in-process: CloudFormation's AWS::S3::Bucket provider
 * creates real buckets, TemplateURL is resolved against stored objects, and (later) CodeDeploy instances
 * download bundles. Objects live on disk under the sandbox's data directory, never whole in memory.
 */
export interface S3Store {
  /** Throws AwsError BucketAlreadyOwnedByYou / BucketAlreadyExists / InvalidBucketName as S3 does. */
  createBucket(name: string, region: string): Promise<void>;
  /** Throws AwsError NoSuchBucket / BucketNotEmpty. */
  deleteBucket(name: string): Promise<void>;
  bucketExists(name: string): boolean;
  bucketRegion(name: string): string | undefined;
  /** Undefined when the bucket or key does not exist. */
  headObject(bucket: string, key: string): Promise<S3ObjectInfo | undefined>;
  /** Reads a whole object (for small objects such as templates); undefined when missing. */
  readObject(bucket: string, key: string): Promise<{ info: S3ObjectInfo; body: Buffer } | undefined>;
  /** Path of the object's bytes on disk (for streaming large objects, e.g. CodeDeploy bundles). */
  objectPath(bucket: string, key: string): Promise<string | undefined>;
  putObject(
    bucket: string,
    key: string,
    body: Buffer,
    options?: { contentType?: string; metadata?: Record<string, string> },
  ): Promise<S3ObjectInfo>;
}

export interface S3ObjectInfo {
  bucket: string;
  key: string;
  size: number;
  /** Quoted, as on the wire: "md5hex" or "md5-of-md5s-N". */
  etag: string;
  lastModified: Date;
  contentType: string;
  metadata: Record<string, string>;
  versionId?: string;
}
