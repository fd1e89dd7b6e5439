import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import YAML, { type Tags } from 'yaml';
import { awsErrorCode, awsErrorMessage, httpStatusOf } from '../aws/aws-errors';
import { TemplateSourceError, TemplateSyntaxError, TemplateTooLargeError } from './errors';

/** TemplateBody's limit; above it the template must come from S3. */
export const maxInlineTemplateBytes = 51_200;
/** TemplateURL's limit. */
export const maxTemplateBytes = 1_048_576;

/** Where the template comes from. */
export type TemplateSource =
  | { kind: 'file'; path: string }
  | { kind: 'url'; url: string }
  | { kind: 's3'; bucket: string; key: string }
  /** The template the stack already has (UsePreviousTemplate): an update that changes only parameters or tags. */
  | { kind: 'previous' };

/** The template as CloudFormation will receive it: inline text or a URL, plus what we could parse locally. */
export interface PreparedTemplate {
  templateBody?: string;
  templateUrl?: string;
  /** Reuse the stack's current template (only for a stack that exists). */
  usePrevious?: boolean;
  /** The parsed document, for local templates (used to explain capability errors). */
  document?: TemplateDocument;
  /** e.g. "infrastructure.yml (3,120 bytes)" or the URL. */
  description: string;
}

export interface TemplateDocument {
  Parameters?: Record<string, unknown>;
  Resources?: Record<string, { Type?: unknown; Properties?: unknown }>;
  [section: string]: unknown;
}

/** Where and how to upload a template over 51,200 bytes. */
export interface TemplateUploadTarget {
  /** Required only when the template is too large to pass inline. */
  bucket?: string;
  stackName: string;
  s3: S3Client;
  /** The S3 endpoint override, if any (the sandbox, LocalStack); else the regional AWS endpoint is used. */
  s3Endpoint?: string;
  region: string;
  /** Told when an upload happens or is skipped. */
  note?: (message: string) => void;
}

// CloudFormation's YAML short forms. Each may tag a scalar, a sequence or a mapping; the engine never
// evaluates them (CloudFormation does), so each simply becomes `{ "Fn::X": value }`.
const shortForms: Record<string, string> = {
  Ref: 'Ref',
  Condition: 'Condition',
  Base64: 'Fn::Base64',
  Cidr: 'Fn::Cidr',
  FindInMap: 'Fn::FindInMap',
  GetAtt: 'Fn::GetAtt',
  GetAZs: 'Fn::GetAZs',
  ImportValue: 'Fn::ImportValue',
  Join: 'Fn::Join',
  Select: 'Fn::Select',
  Split: 'Fn::Split',
  Sub: 'Fn::Sub',
  Transform: 'Fn::Transform',
  And: 'Fn::And',
  Equals: 'Fn::Equals',
  If: 'Fn::If',
  Not: 'Fn::Not',
  Or: 'Fn::Or',
  Length: 'Fn::Length',
  ToJsonString: 'Fn::ToJsonString',
  ForEach: 'Fn::ForEach',
};

const cloudFormationTags: Tags = Object.entries(shortForms).flatMap(([short, long]) => [
  { tag: `!${short}`, resolve: (value: string) => ({ [long]: value }) },
  { tag: `!${short}`, collection: 'seq' as const, resolve: (value: unknown) => ({ [long]: toJs(value) }) },
  { tag: `!${short}`, collection: 'map' as const, resolve: (value: unknown) => ({ [long]: toJs(value) }) },
]);

function toJs(value: unknown): unknown {
  return YAML.isNode(value) ? value.toJSON() : value;
}

/**
 * Parses a template locally so a malformed file fails at once with its line and column, before any AWS call.
 * `label` is how the file is named in messages (its base name).
 */
export function parseTemplate(text: string, label: string): TemplateDocument {
  const trimmed = text.trimStart();
  let parsed: unknown;
  if (trimmed.startsWith('{')) {
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw jsonSyntaxError(text, label, error);
    }
  } else {
    const document = YAML.parseDocument(text, { customTags: cloudFormationTags, uniqueKeys: true });
    const first = document.errors[0];
    if (first) {
      const position = first.linePos?.[0];
      const where = position ? ` line ${position.line}, column ${position.col}` : '';
      const reason = first.message.split(' at line ')[0]?.split('\n')[0] ?? first.message;
      throw new TemplateSyntaxError(
        `${label}${where}: ${reason}.`,
        'Fix the YAML there (indentation and unclosed brackets or quotes are the usual causes).',
      );
    }
    parsed = document.toJS({ maxAliasCount: 1000 });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new TemplateSyntaxError(
      `${label} is not a CloudFormation template: its top level is not a mapping.`,
      'A template is a YAML or JSON object with at least a Resources section.',
    );
  }
  const template = parsed as TemplateDocument;
  if (typeof template.Resources !== 'object' || template.Resources === null) {
    throw new TemplateSyntaxError(
      `${label} has no Resources section, so it is not a CloudFormation template.`,
      'Check the file path points at the template, not at a parameters or pipeline file.',
    );
  }
  const resources = Object.keys(template.Resources).length;
  if (resources > maxResources) {
    throw new TemplateSyntaxError(
      `${label} declares ${resources} resources; CloudFormation accepts at most ${maxResources} in one template.`,
      'Split it into nested stacks (AWS::CloudFormation::Stack) or several stacks, each under the limit.',
    );
  }
  return template;
}

/** CloudFormation's quota of resources per template (raised from 200 in 2020). */
const maxResources = 500;

function jsonSyntaxError(text: string, label: string, error: unknown): TemplateSyntaxError {
  const message = error instanceof Error ? error.message : String(error);
  const position = /at position (\d+)/.exec(message);
  const lineColumn = /\(line (\d+) column (\d+)\)/.exec(message);
  let where = '';
  if (lineColumn) {
    where = ` line ${lineColumn[1]}, column ${lineColumn[2]}`;
  } else if (position) {
    const before = text.slice(0, Number(position[1]));
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    where = ` line ${line}, column ${column}`;
  }
  const reason = message
    .replace(/ in JSON at position \d+.*$/, '')
    .replace(/\s*\(line \d+ column \d+\)$/, '');
  return new TemplateSyntaxError(
    `${label}${where}: ${reason}.`,
    'Fix the JSON there (a missing comma or quote is the usual cause).',
  );
}

/** The plain path-style URL of an S3 object (never presigned: presigned URLs expire and grow long). */
export function s3ObjectUrl(bucket: string, key: string, region: string, s3Endpoint?: string): string {
  const path = key.split('/').map(encodeURIComponent).join('/');
  if (s3Endpoint) return `${s3Endpoint.replace(/\/+$/, '')}/${encodeURIComponent(bucket)}/${path}`;
  return `https://${bucket}.s3.${region}.amazonaws.com/${path}`;
}

/** The content-addressed key a large template is uploaded under: same content, same key, no collisions. */
export function templateObjectKey(stackName: string, body: Buffer): string {
  const sha256 = createHash('sha256').update(body).digest('hex');
  return `keyless/templates/${stackName}/${sha256}.template`;
}

/**
 * Loads the template: reads and checks a local file (size, syntax) and uploads it to S3 when it is over the
 * inline limit; URLs and S3 locations are passed through as URLs; `previous` is passed on as a flag.
 */
export async function prepareTemplate(
  source: TemplateSource,
  upload: TemplateUploadTarget,
  cwd: string = process.cwd(),
): Promise<PreparedTemplate> {
  if (source.kind === 'previous') return { usePrevious: true, description: "the stack's current template" };
  if (source.kind === 'url') {
    let url: URL;
    try {
      url = new URL(source.url);
    } catch {
      throw new TemplateSourceError(
        `The template URL "${source.url}" is not a URL.`,
        'Give the https URL of the template object in S3.',
      );
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new TemplateSourceError(
        `The template URL "${source.url}" must use https.`,
        'Give the https URL of the template object in S3.',
      );
    }
    return { templateUrl: source.url, description: source.url };
  }
  if (source.kind === 's3') {
    const templateUrl = s3ObjectUrl(source.bucket, source.key, upload.region, upload.s3Endpoint);
    return { templateUrl, description: `s3://${source.bucket}/${source.key}` };
  }

  const path = resolve(cwd, source.path);
  const label = basename(path);
  const size = await fileSize(path, source.path);
  if (size > maxTemplateBytes) {
    throw new TemplateTooLargeError(
      `${label} is ${groupDigits(size)} bytes; CloudFormation accepts at most ${groupDigits(maxTemplateBytes)} bytes (1 MB) even from S3.`,
      'Split it into nested stacks or move large inline code (Lambda ZipFile, policies) to S3.',
    );
  }
  const body = await readFile(path);
  const text = body.toString('utf8');
  const document = parseTemplate(text, label);
  const description = `${label} (${groupDigits(size)} bytes)`;
  if (size <= maxInlineTemplateBytes) return { templateBody: text, document, description };

  if (!upload.bucket) {
    throw new TemplateTooLargeError(
      `${label} is ${groupDigits(size)} bytes, over the ${groupDigits(maxInlineTemplateBytes)}-byte limit for an inline template, so it must go through S3.`,
      'Give a bucket for it (--bucket, task input s3BucketName); Keyless uploads it under a content-hash key.',
    );
  }
  const key = templateObjectKey(upload.stackName, body);
  await uploadIfMissing(upload, upload.bucket, key, body);
  const templateUrl = s3ObjectUrl(upload.bucket, key, upload.region, upload.s3Endpoint);
  return { templateUrl, document, description: `${description} via s3://${upload.bucket}/${key}` };
}

/**
 * 51200 → "51,200", as toLocaleString('en-US') writes it. Not toLocaleString itself: its first call loads ICU's
 * number formatting, ~15 ms on every task's start-up path (issue 5).
 */
function groupDigits(value: number): string {
  return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

async function fileSize(path: string, given: string): Promise<number> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error('not a regular file');
    return info.size;
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : awsErrorMessage(error);
    throw new TemplateSourceError(
      `The template file ${given} ${reason === 'does not exist' ? 'does not exist' : `cannot be read (${reason})`} (looked for ${path}).`,
      'Check the path; relative paths are resolved from the working directory.',
    );
  }
}

async function uploadIfMissing(
  target: TemplateUploadTarget,
  bucket: string,
  key: string,
  body: Buffer,
): Promise<void> {
  try {
    await target.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    target.note?.(`Template already in s3://${bucket}/${key}; not uploading it again.`);
    return;
  } catch (error) {
    if (httpStatusOf(error) !== 404) throw explainS3Error(error, bucket, key);
  }
  try {
    await target.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'text/plain' }),
    );
    target.note?.(`Uploaded the template to s3://${bucket}/${key} (${groupDigits(body.length)} bytes).`);
  } catch (error) {
    throw explainS3Error(error, bucket, key);
  }
}

function explainS3Error(error: unknown, bucket: string, key: string): TemplateSourceError {
  const code = awsErrorCode(error);
  const status = httpStatusOf(error);
  if (code === 'NoSuchBucket' || (status === 404 && code !== 'NotFound')) {
    return new TemplateSourceError(
      `The template bucket ${bucket} does not exist (uploading ${key}).`,
      'Create the bucket first, or give an existing bucket in the same region.',
      { cause: error },
    );
  }
  if (code === 'AccessDenied' || status === 403) {
    return new TemplateSourceError(
      `Access to s3://${bucket}/${key} was denied while uploading the template.`,
      'Allow s3:PutObject and s3:GetObject on that bucket for the deploy role.',
      { cause: error },
    );
  }
  return new TemplateSourceError(
    `Uploading the template to s3://${bucket}/${key} failed: ${awsErrorMessage(error)}`,
    'Check the bucket name, its region and the S3 permissions of the deploy role.',
    { cause: error },
  );
}
