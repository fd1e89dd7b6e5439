import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateRoleCommand,
  DeleteRolePolicyCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { startSandbox } from '../src/index';

const root = {
  accessKeyId: 'AKIAROLEPOLICY000001',
  secretAccessKey: 'role-policy-test-secret-000000000000000',
};

test('inline role policies: put, get (URL-encoded), list, delete, and IAM errors', async () => {
  const sandbox = await startSandbox({ port: 0, config: { rootCredentials: [root] } });
  try {
    const iam = new IAMClient({ endpoint: sandbox.url, region: 'us-east-1', credentials: root });
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'app',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        }),
      }),
    );
    const document = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }],
    });
    await iam.send(
      new PutRolePolicyCommand({ RoleName: 'app', PolicyName: 'read', PolicyDocument: document }),
    );
    const got = await iam.send(new GetRolePolicyCommand({ RoleName: 'app', PolicyName: 'read' }));
    assert.equal(decodeURIComponent(got.PolicyDocument ?? ''), document);
    const listed = await iam.send(new ListRolePoliciesCommand({ RoleName: 'app' }));
    assert.deepEqual(listed.PolicyNames, ['read']);
    await assert.rejects(
      iam.send(new PutRolePolicyCommand({ RoleName: 'app', PolicyName: 'bad', PolicyDocument: '{nope' })),
      { name: 'MalformedPolicyDocumentException' },
    );
    await iam.send(new DeleteRolePolicyCommand({ RoleName: 'app', PolicyName: 'read' }));
    await assert.rejects(iam.send(new GetRolePolicyCommand({ RoleName: 'app', PolicyName: 'read' })), {
      name: 'NoSuchEntityException',
    });
  } finally {
    await sandbox.close();
  }
});
