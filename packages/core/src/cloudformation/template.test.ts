import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { PutObjectCommand } from '@aws-sdk/client-s3';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { TemplateSourceError, TemplateSyntaxError, TemplateTooLargeError } from './errors';
import { parseTemplate, prepareTemplate, s3ObjectUrl, templateObjectKey } from './template';

const dir = mkdtempSync(join(tmpdir(), 'keyless-template-'));
after(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** A fake S3 holding objects by bucket/key; records the commands it got. */
function fakeS3(existing: string[] = []) {
  const objects = new Set(existing);
  const sent: string[] = [];
  const client = {
    send: async (command: HeadObjectCommand | PutObjectCommand) => {
      const { Bucket, Key } = command.input;
      sent.push(`${command.constructor.name} ${Bucket}/${Key}`);
      if (command instanceof HeadObjectCommand) {
        if (objects.has(`${Bucket}/${Key}`)) return {};
        throw Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
      }
      if (Bucket === 'missing') {
        throw Object.assign(new Error('The specified bucket does not exist'), {
          name: 'NoSuchBucket',
          $metadata: { httpStatusCode: 404 },
        });
      }
      objects.add(`${Bucket}/${Key}`);
      return { ETag: '"x"' };
    },
  };
  return { client: client as unknown as S3Client, sent, objects };
}

const small = 'Resources:\n  Handle:\n    Type: AWS::CloudFormation::WaitConditionHandle\n';
function large(bytes: number): string {
  return `${small}Description: "${'x'.repeat(bytes - small.length - 16)}"\n`;
}

describe('parseTemplate', () => {
  it('accepts CloudFormation short tags on scalars, lists and maps', () => {
    const template = parseTemplate(
      'Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Sub "${AWS::StackName}-b"\n      Tags: [{Key: a, Value: !Select [0, !GetAZs ""]}]\nOutputs:\n  Arn:\n    Value: !GetAtt B.Arn\n  If:\n    Value: !If [C, !Ref B, !Ref "AWS::NoValue"]\n',
      't.yml',
    );
    assert.deepEqual(template.Outputs, {
      Arn: { Value: { 'Fn::GetAtt': 'B.Arn' } },
      If: { Value: { 'Fn::If': ['C', { Ref: 'B' }, { Ref: 'AWS::NoValue' }] } },
    });
  });

  it('reports a YAML error with the file, line and column', () => {
    const text = 'Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n   Properties: {}\n';
    assert.throws(
      () => parseTemplate(text, 'infrastructure.yml'),
      (error: unknown) =>
        error instanceof TemplateSyntaxError &&
        /^infrastructure\.yml line 4, column \d+: .+\.$/.test(error.message) &&
        !error.message.includes('\n'),
    );
  });

  it('reports a JSON error with line and column', () => {
    assert.throws(
      () => parseTemplate('{\n  "Resources": {\n    "A": 1\n    "B": 2\n  }\n}', 'stack.json'),
      (error: unknown) =>
        error instanceof TemplateSyntaxError && /^stack\.json line 4, column \d+: /.test(error.message),
    );
  });

  it('says when a file is not a template at all', () => {
    assert.throws(
      () => parseTemplate('- ParameterKey: A\n', 'p.yml'),
      /p\.yml is not a CloudFormation template/,
    );
    assert.throws(() => parseTemplate('Parameters: {}\n', 'p.yml'), /p\.yml has no Resources section/);
  });

  it('refuses more resources than CloudFormation accepts in one template, before anything is uploaded', () => {
    const handles = (count: number) =>
      `Resources:\n${Array.from({ length: count }, (_, i) => `  H${i}: {Type: AWS::CloudFormation::WaitConditionHandle}\n`).join('')}`;
    assert.equal(Object.keys(parseTemplate(handles(500), 'big.yml').Resources ?? {}).length, 500);
    assert.throws(
      () => parseTemplate(handles(700), 'big.yml'),
      /big\.yml declares 700 resources; CloudFormation accepts at most 500 in one template\./,
    );
  });
});

describe('prepareTemplate', () => {
  const base = { stackName: 'web', region: 'eu-west-1' };

  it('passes a small template inline', async () => {
    const s3 = fakeS3();
    const prepared = await prepareTemplate(
      { kind: 'file', path: file('small.yml', small) },
      { ...base, s3: s3.client },
    );
    assert.equal(prepared.templateBody, small);
    assert.equal(prepared.templateUrl, undefined);
    assert.deepEqual(s3.sent, []);
  });

  it('uploads a template over 51,200 bytes under a content-hash key once, and passes a path-style URL', async () => {
    const text = large(51_201);
    const path = file('large.yml', text);
    const sha = createHash('sha256').update(text).digest('hex');
    const s3 = fakeS3();
    const upload = { ...base, s3: s3.client, bucket: 'templates', s3Endpoint: 'http://127.0.0.1:4566' };
    const first = await prepareTemplate({ kind: 'file', path }, upload);
    assert.equal(first.templateUrl, `http://127.0.0.1:4566/templates/keyless/templates/web/${sha}.template`);
    assert.equal(first.templateBody, undefined);
    const second = await prepareTemplate({ kind: 'file', path }, upload);
    assert.equal(second.templateUrl, first.templateUrl);
    assert.deepEqual(s3.sent, [
      `HeadObjectCommand templates/keyless/templates/web/${sha}.template`,
      `PutObjectCommand templates/keyless/templates/web/${sha}.template`,
      `HeadObjectCommand templates/keyless/templates/web/${sha}.template`,
    ]);
  });

  it('without a bucket, a large template fails naming its size and the option', async () => {
    await assert.rejects(
      prepareTemplate(
        { kind: 'file', path: file('big.yml', large(60_000)) },
        { ...base, s3: fakeS3().client },
      ),
      (error: unknown) =>
        error instanceof TemplateTooLargeError &&
        /big\.yml is 60,000 bytes, over the 51,200-byte limit/.test(error.message) &&
        /--bucket/.test(error.fix ?? ''),
    );
  });

  it('refuses a template over 1 MB before any call', async () => {
    const s3 = fakeS3();
    await assert.rejects(
      prepareTemplate(
        { kind: 'file', path: file('huge.yml', large(1_048_577)) },
        { ...base, s3: s3.client, bucket: 'b' },
      ),
      /huge\.yml is 1,048,577 bytes; CloudFormation accepts at most 1,048,576 bytes/,
    );
    assert.deepEqual(s3.sent, []);
  });

  it('explains a missing bucket and a missing file', async () => {
    await assert.rejects(
      prepareTemplate(
        { kind: 'file', path: file('l2.yml', large(52_000)) },
        { ...base, s3: fakeS3().client, bucket: 'missing' },
      ),
      (error: unknown) =>
        error instanceof TemplateSourceError &&
        /The template bucket missing does not exist/.test(error.message),
    );
    await assert.rejects(
      prepareTemplate({ kind: 'file', path: 'nope.yml' }, { ...base, s3: fakeS3().client }, dir),
      /The template file nope\.yml does not exist/,
    );
  });

  it('turns bucket and key into the regional URL on AWS, and passes URLs through', async () => {
    const s3 = fakeS3();
    const fromS3 = await prepareTemplate(
      { kind: 's3', bucket: 'my-bucket', key: 'a b/t.yml' },
      { ...base, s3: s3.client },
    );
    assert.equal(fromS3.templateUrl, 'https://my-bucket.s3.eu-west-1.amazonaws.com/a%20b/t.yml');
    const url = 'https://x.s3.amazonaws.com/t.yml';
    assert.equal((await prepareTemplate({ kind: 'url', url }, { ...base, s3: s3.client })).templateUrl, url);
    await assert.rejects(
      prepareTemplate({ kind: 'url', url: 'ftp://x/y' }, { ...base, s3: s3.client }),
      /must use https/,
    );
  });

  it('keys and URLs are deterministic', () => {
    assert.match(
      templateObjectKey('web', Buffer.from('x')),
      /^keyless\/templates\/web\/[0-9a-f]{64}\.template$/,
    );
    assert.equal(s3ObjectUrl('b', 'k/x', 'us-east-1', 'http://127.0.0.1:9/'), 'http://127.0.0.1:9/b/k/x');
  });
});
