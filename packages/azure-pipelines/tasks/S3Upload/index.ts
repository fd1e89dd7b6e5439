// S3Upload@1: the AWS Toolkit's inputs (same names, defaults and meaning) mapped onto core's uploadFiles, as
// `keyless s3 upload` maps its flags; outputs and a run summary of what was uploaded.
import {
  cannedAcls,
  checkUploadOptions,
  formatBytes,
  storageClasses,
  uploadFiles,
  type ServerSideEncryption,
  type UploadFilesOptions,
  type UploadFilesResult,
} from '@keyless/core';
import { publishOutput, runTask, table, type TaskContext, type TaskInputs } from '../../src';

const taskName = 'S3Upload';
/** uploadedKeys stays well under what an environment variable can carry into later steps. */
const maxKeysJson = 32 * 1024;
const summaryRows = 100;

interface Settings {
  options: UploadFilesOptions;
  /** Inputs that are set but mean nothing in this configuration, with why (told, not silently dropped). */
  ignored: string[];
}

/** Every input checked before any AWS call: a wrong value fails here, naming the input and the fix. */
function readSettings(ctx: TaskContext): Settings {
  const inputs = ctx.inputs;
  const ignored: string[] = [];
  const encryption = readEncryption(inputs, ctx, ignored);
  const globs = inputs.list('globExpressions');
  const options: UploadFilesOptions = {
    bucket: inputs.required('bucketName'),
    sourceFolder: inputs.path('sourceFolder') ?? ctx.cwd,
    globs: globs.length > 0 ? globs : ['**'],
    targetFolder: inputs.optional('targetFolder'),
    flattenFolders: inputs.boolean('flattenFolders', false),
    contentType: inputs.optional('contentType'),
    contentEncoding: inputs.optional('contentEncoding'),
    cacheControl: inputs.list('cacheControl'),
    // Both always sent, as the toolkit sent its defaults.
    storageClass: inputs.choice('storageClass', storageClasses, 'STANDARD'),
    acl: inputs.choice('filesAcl', cannedAcls, 'private'),
    createBucket: inputs.boolean('createBucket', false),
    forcePathStyle: inputs.boolean('forcePathStyleAddressing', false),
    concurrency: inputs.integer('concurrency', { min: 1, max: 64, fallback: 8 }),
    onProgress: (done, total) => ctx.progress((done / total) * 100, `Uploaded ${done} of ${total} files`),
  };
  if (encryption) options.encryption = encryption;
  checkUploadOptions(options);
  return { options, ignored };
}

function readEncryption(
  inputs: TaskInputs,
  ctx: TaskContext,
  ignored: string[],
): ServerSideEncryption | undefined {
  const customerKey = inputs.optional('customerKey');
  // A key typed into the input (not a secret variable) is masked from here on, before anything can echo it.
  ctx.reporter.registerSecret(customerKey);
  const mode = inputs.choice('keyManagement', ['none', 'awsManaged', 'customerManaged'], 'none');
  const kmsKeyId = inputs.optional('kmsMasterKeyId');
  if (mode === 'customerManaged') {
    if (kmsKeyId) ignored.push('kmsMasterKeyId (it applies to keyManagement awsManaged with KMS)');
    return {
      type: 'SSE-C',
      customerKey: inputs.required('customerKey', 'when keyManagement is customerManaged'),
    };
  }
  if (customerKey) ignored.push('customerKey (it applies to keyManagement customerManaged)');
  if (mode === 'none') {
    if (kmsKeyId) ignored.push('kmsMasterKeyId (keyManagement is none)');
    return undefined;
  }
  const algorithm = inputs.choice('encryptionAlgorithm', ['KMS', 'AES256'], 'KMS');
  if (algorithm === 'AES256') {
    if (kmsKeyId) ignored.push('kmsMasterKeyId (it applies to encryptionAlgorithm KMS)');
    return { type: 'AES256' };
  }
  return { type: 'aws:kms', ...(kmsKeyId ? { kmsKeyId } : {}) };
}

function noteDiagnosticInputs(ctx: TaskContext): void {
  for (const name of ['logRequest', 'logResponse']) {
    const line = `${name}: AWS requests and responses are not logged (their headers carry credentials); the log lists every uploaded file instead.`;
    if (ctx.inputs.boolean(name, false)) ctx.reporter.warn(line);
    else ctx.reporter.debug(line);
  }
}

/** The keys as a JSON array, cut off (whole keys only) before it would exceed maxKeysJson characters. */
function keysJson(keys: string[]): { json: string; included: number } {
  let included = 0;
  let length = 2;
  for (const key of keys) {
    const next = JSON.stringify(key).length + (included > 0 ? 1 : 0);
    if (length + next > maxKeysJson) break;
    length += next;
    included++;
  }
  return { json: JSON.stringify(keys.slice(0, included)), included };
}

function summaryOf(result: UploadFilesResult): string {
  const rows = result.files
    .slice(0, summaryRows)
    .map((file) => [`\`${file.key}\``, formatBytes(file.bytes), file.contentType]);
  const more = result.files.length - rows.length;
  return [
    `${result.files.length} file(s), ${formatBytes(result.totalBytes)}, uploaded to \`s3://${result.bucket}\` (${result.region}) in ${result.seconds.toFixed(1)} s${result.bucketCreated ? '; the bucket was created' : ''}.`,
    '',
    ...(rows.length > 0 ? [table(['Key', 'Size', 'Content type'], rows)] : []),
    ...(more > 0 ? ['', `…and ${more} more (the task log lists every file).`] : []),
  ].join('\n');
}

void runTask(taskName, async (ctx) => {
  const { options, ignored } = readSettings(ctx);
  noteDiagnosticInputs(ctx);
  for (const note of ignored) ctx.reporter.info(`Ignoring ${note}.`);
  const credentials = await ctx.credentials();
  const result = await uploadFiles(options, {
    credentials,
    env: ctx.env,
    reporter: ctx.reporter,
    cwd: ctx.cwd,
    signal: ctx.signal,
  });
  const keys = result.files.map((file) => file.key);
  const { json, included } = keysJson(keys);
  publishOutput('uploadedCount', String(keys.length));
  publishOutput('uploadedKeys', json);
  if (included < keys.length) {
    ctx.reporter.info(
      `uploadedKeys lists the first ${included} of ${keys.length} keys (it is capped at 32 KB).`,
    );
  }
  ctx.summary(`S3 upload to ${result.bucket}`, summaryOf(result));
  const message = `Uploaded ${keys.length} file(s), ${formatBytes(result.totalBytes)}, to s3://${result.bucket}.`;
  return { result: 'Succeeded', message };
});
