import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { startSandbox } from '../src/index';

const root = {
  accessKeyId: 'AKIASEEDTEST00000001',
  secretAccessKey: 'seed-test-secret-key-0000000000000000000',
};
const trust = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

test('configured buckets exist at start and role inline policies are recorded', async () => {
  const sandbox = await startSandbox({
    port: 0,
    config: {
      rootCredentials: [root],
      s3: { buckets: [{ name: 'seeded-artifacts' }, { name: 'seeded-eu', region: 'eu-west-1' }] },
      iam: {
        roles: [
          {
            name: 'seeded-role',
            assumeRolePolicyDocument: trust,
            policies: [{ name: 'read', document: { Version: '2012-10-17', Statement: [] } }],
          },
        ],
      },
    },
  });
  try {
    const s3 = new S3Client({
      endpoint: sandbox.url,
      region: 'us-east-1',
      credentials: root,
      forcePathStyle: true,
    });
    const head = await s3.send(new HeadBucketCommand({ Bucket: 'seeded-artifacts' }));
    assert.equal(head.$metadata.httpStatusCode, 200);
    const eu = await s3.send(new HeadBucketCommand({ Bucket: 'seeded-eu' }));
    assert.equal(eu.BucketRegion, 'eu-west-1');
  } finally {
    await sandbox.close();
  }
});

test('a malformed seeded policy or bucket name fails start-up naming the config key', async () => {
  await assert.rejects(
    startSandbox({
      port: 0,
      config: {
        iam: {
          roles: [
            { name: 'r', assumeRolePolicyDocument: trust, policies: [{ name: 'p', document: '{not json' }] },
          ],
        },
      },
    }),
    /iam\.roles\[0\] \(r\): MalformedPolicyDocument/,
  );
  await assert.rejects(
    startSandbox({ port: 0, config: { s3: { buckets: [{ name: 'Not_A_Bucket' }] } } }),
    /s3\.buckets\[0\] \(Not_A_Bucket\)/,
  );
});
