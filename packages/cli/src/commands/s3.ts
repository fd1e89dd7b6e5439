import {
  cannedAcls,
  storageClasses,
  uploadFiles,
  type CannedAcl,
  type ServerSideEncryption,
  type StorageClassName,
  type UploadFilesOptions,
} from '@keyless/core';
import { assertNoUnexpected, credentialFlags, credentialFlagsHelp } from '../credential-flags';
import { expandListFlags, integerOption, parseCommandLine, UsageError } from '../usage';
import type { CommandContext } from '../command';
import { engineContextFor } from '../engine-context';

export const s3Help = `keyless s3 — upload a folder's files to an S3 bucket, several at once.

Usage:
  keyless s3 upload --bucket B [--source DIR] [--glob PATTERN …] [--target-folder PREFIX] [options] [credential options]

upload selects the files under --source (default .) that the glob lines match, in order: "!pattern" removes
what earlier lines added, a later line adds back, dotfiles are included (default "**"). Symlinks are followed
when they stay inside the folder; a link a line could select that loops, dangles or leaves the folder is an
error naming it (links no line could select are left alone). Each file goes to <target-folder>/<its relative path> (or <target-folder>/<its name> with --flatten), with a content
type by extension, up to --concurrency files at a time (large files in parallel parts). On success stdout gets
one s3://bucket/key line per object; progress goes to stderr. The same options as the S3Upload@1 task.

Upload options:
  --bucket NAME                   the bucket (checked first; see --create-bucket)
  --source DIR                    the folder the globs are matched in (default .)
  --glob PATTERN …                glob lines, e.g. "**/*.html" "!drafts/**" (default **)
  --target-folder PREFIX          key prefix in the bucket (default: the bucket's root)
  --flatten                       drop the files' folders: every key is PREFIX/<file name>
  --content-type TYPE             one content type for every file (default: by extension)
  --content-encoding ENC          Content-Encoding for every file (e.g. gzip for pre-compressed files)
  --cache-control GLOB=VALUE …    Cache-Control by glob, first match wins, e.g. "**/*.html=no-cache"
  --storage-class CLASS           ${storageClasses.join(' | ')}
  --acl ACL                       canned ACL sent with every object: ${cannedAcls.join(', ')}
  --sse AES256|aws:kms|SSE-C      server-side encryption (SSE-C reads the 64-hex-digit key from KEYLESS_SSE_CUSTOMER_KEY)
  --kms-key-id ID                 with --sse aws:kms: the KMS key (default: the account's aws/s3 key)
  --create-bucket                 create the bucket in the region when it does not exist
  --force-path-style              path-style URLs (bucket in the path, not the host name)
  --concurrency N                 files uploaded at once, 1-64 (default 8)

${credentialFlagsHelp}

Examples:
  # A static site: HTML never cached, everything else cached for a year
  keyless s3 upload --bucket my-site --source ./dist --cache-control "**/*.html=no-cache" "**/*=max-age=31536000, immutable" \\
    --provider github --role-arn arn:aws:iam::123456789012:role/deploy --region us-east-1
  # Release artifacts under a versioned prefix, encrypted with a KMS key
  keyless s3 upload --bucket my-artifacts --source ./out --glob "**/*.zip" --target-folder releases/1.4.2 \\
    --sse aws:kms --kms-key-id alias/artifacts --provider azure-managed-identity --audience api://my-app \\
    --role-arn arn:aws:iam::123456789012:role/deploy --region eu-west-1`;

const uploadFlags = {
  ...credentialFlags,
  bucket: { type: 'string' },
  source: { type: 'string' },
  glob: { type: 'string', multiple: true },
  'target-folder': { type: 'string' },
  flatten: { type: 'boolean' },
  'content-type': { type: 'string' },
  'content-encoding': { type: 'string' },
  'cache-control': { type: 'string', multiple: true },
  'storage-class': { type: 'string' },
  acl: { type: 'string' },
  sse: { type: 'string' },
  'kms-key-id': { type: 'string' },
  'create-bucket': { type: 'boolean' },
  'force-path-style': { type: 'boolean' },
  concurrency: { type: 'string' },
} as const;

const listFlags = new Set(['glob', 'cache-control']);
const command = 's3 upload';

export async function runS3(argv: string[], context: CommandContext): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    context.stdout(`${s3Help}\n`);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'upload') throw new UsageError(`Unknown subcommand "${sub}"; use upload.`, 's3');
  const { values, positionals } = parseCommandLine(command, expandListFlags(rest, listFlags), uploadFlags);
  if (values.help) {
    context.stdout(`${s3Help}\n`);
    return 0;
  }
  assertNoUnexpected('s3', positionals);
  if (!values.bucket) throw new UsageError('--bucket is required.', 's3');
  const options: UploadFilesOptions = {
    bucket: values.bucket,
    sourceFolder: values.source ?? '.',
    globs: values.glob?.length ? values.glob : ['**'],
    targetFolder: values['target-folder'],
    flattenFolders: values.flatten ?? false,
    contentType: values['content-type'],
    contentEncoding: values['content-encoding'],
    cacheControl: values['cache-control'] ?? [],
    storageClass: oneOf('storage-class', values['storage-class'], storageClasses, true) as
      StorageClassName | undefined,
    acl: oneOf('acl', values.acl, cannedAcls, false) as CannedAcl | undefined,
    encryption: encryptionFrom(values.sse, values['kms-key-id'], context.env),
    createBucket: values['create-bucket'] ?? false,
    forcePathStyle: values['force-path-style'] ?? false,
    concurrency: integerOption(command, 'concurrency', values.concurrency, { min: 1, max: 64 }),
  };
  const reporter = context.reporter({ verbose: values.verbose ?? false });
  const result = await uploadFiles(options, await engineContextFor(command, values, context, reporter));
  reporter.info(
    `Uploaded ${result.files.length} file(s) to s3://${result.bucket} in ${result.seconds.toFixed(1)} s.`,
  );
  if (result.files.length) {
    context.stdout(`${result.files.map((file) => `s3://${result.bucket}/${file.key}`).join('\n')}\n`);
  }
  return 0;
}

function oneOf(
  flag: string,
  value: string | undefined,
  allowed: readonly string[],
  upperCase: boolean,
): string | undefined {
  if (value === undefined) return undefined;
  const normalized = upperCase ? value.toUpperCase() : value.toLowerCase();
  if (!allowed.includes(normalized)) {
    throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}; got "${value}".`, 's3');
  }
  return normalized;
}

function encryptionFrom(
  sse: string | undefined,
  kmsKeyId: string | undefined,
  env: NodeJS.ProcessEnv,
): ServerSideEncryption | undefined {
  if (sse === undefined) {
    if (kmsKeyId) throw new UsageError('--kms-key-id goes with --sse aws:kms.', 's3');
    return undefined;
  }
  switch (sse.toLowerCase()) {
    case 'aes256':
      if (kmsKeyId) throw new UsageError('--kms-key-id goes with --sse aws:kms, not AES256.', 's3');
      return { type: 'AES256' };
    case 'aws:kms':
    case 'kms':
      return { type: 'aws:kms', ...(kmsKeyId ? { kmsKeyId } : {}) };
    case 'sse-c': {
      // A key on the command line would be visible to every process on the machine (ps), so never there.
      const customerKey = env.KEYLESS_SSE_CUSTOMER_KEY?.trim();
      if (!customerKey) {
        throw new UsageError(
          '--sse SSE-C reads the customer key from KEYLESS_SSE_CUSTOMER_KEY, which is not set.',
          's3',
        );
      }
      return { type: 'SSE-C', customerKey };
    }
    default:
      throw new UsageError(`--sse must be AES256, aws:kms or SSE-C; got "${sse}".`, 's3');
  }
}
