import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AwsError, renderError } from '../aws/errors';
import { parseFormEncoded, parseQueryTree } from '../aws/query';
import { Ec2Params, filterMatches, renderEc2Response } from './ec2-protocol';
import { launchTemplateData } from './ec2-service';

function params(form: string): Ec2Params {
  return new Ec2Params(parseQueryTree(parseFormEncoded(form)));
}

test('EC2 requests: `.N` lists, filters with value lists, tag specifications', () => {
  const p = params(
    'Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-1&InstanceId.2=i-2' +
      '&Filter.1.Name=tag%3AApp&Filter.1.Value.1=web&Filter.1.Value.2=api' +
      '&Filter.2.Name=instance-state-name&Filter.2.Value.1=running' +
      '&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=a+b',
  );
  assert.deepEqual(p.strings('InstanceId'), ['i-1', 'i-2']);
  assert.deepEqual(p.filters(), [
    { name: 'tag:App', values: ['web', 'api'] },
    { name: 'instance-state-name', values: ['running'] },
  ]);
  assert.deepEqual(p.tagSpecifications(), [{ resourceType: 'instance', tags: { Name: 'a b' } }]);
  assert.deepEqual(p.strings('Missing'), []);
});

test('list order follows the index numerically, not lexically', () => {
  const form = Array.from({ length: 11 }, (_, i) => `InstanceId.${i + 1}=i-${i + 1}`).join('&');
  assert.deepEqual(
    params(form).strings('InstanceId'),
    Array.from({ length: 11 }, (_, i) => `i-${i + 1}`),
  );
});

test('LaunchTemplateData: nested structs and SecurityGroupId.N lists', () => {
  const p = params(
    'LaunchTemplateName=web&LaunchTemplateData.ImageId=ami-1&LaunchTemplateData.InstanceType=t3.micro' +
      '&LaunchTemplateData.UserData=ZWNobyBoaQ%3D%3D&LaunchTemplateData.IamInstanceProfile.Arn=arn%3Aaws%3Aiam%3A%3A1%3Ainstance-profile%2Fweb' +
      '&LaunchTemplateData.SecurityGroupId.1=sg-1&LaunchTemplateData.SecurityGroupId.2=sg-2' +
      '&LaunchTemplateData.TagSpecification.1.ResourceType=instance&LaunchTemplateData.TagSpecification.1.Tag.1.Key=K' +
      '&LaunchTemplateData.TagSpecification.1.Tag.1.Value=V',
  );
  const data = p.struct('LaunchTemplateData');
  assert.ok(data);
  assert.deepEqual(launchTemplateData(data), {
    imageId: 'ami-1',
    instanceType: 't3.micro',
    userData: 'ZWNobyBoaQ==',
    iamInstanceProfile: { arn: 'arn:aws:iam::1:instance-profile/web', name: undefined },
    securityGroupIds: ['sg-1', 'sg-2'],
    tagSpecifications: [{ resourceType: 'instance', tags: { K: 'V' } }],
  });
});

test('integers are checked', () => {
  assert.equal(params('MaxCount=3').integer('MaxCount'), 3);
  assert.throws(
    () => params('MaxCount=three').integer('MaxCount'),
    (e: AwsError) => e.code === 'InvalidParameterValue',
  );
  assert.throws(
    () => params('').requiredString('ImageId'),
    (e: AwsError) => e.code === 'MissingParameter',
  );
});

test('EC2 responses: no Result wrapper, requestId first, lists as <item>, escaped text, millisecond times', () => {
  const xml = renderEc2Response(
    'DescribeInstances',
    {
      reservationSet: [
        {
          reservationId: 'r-1',
          groupSet: undefined,
          instancesSet: [
            {
              instanceId: 'i-1',
              launchTime: new Date('2024-05-01T10:00:00.123Z'),
              tagSet: [{ key: 'a<b', value: '&' }],
            },
          ],
        },
      ],
    },
    'req-1',
  );
  assert.equal(
    xml,
    '<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">' +
      '<requestId>req-1</requestId><reservationSet><item><reservationId>r-1</reservationId><instancesSet><item>' +
      '<instanceId>i-1</instanceId><launchTime>2024-05-01T10:00:00.123Z</launchTime>' +
      '<tagSet><item><key>a&lt;b</key><value>&amp;</value></item></tagSet></item></instancesSet></item></reservationSet>' +
      '</DescribeInstancesResponse>',
  );
});

test('EC2 errors: <Response><Errors><Error> with RequestID, no namespace', () => {
  const rendered = renderError(
    { kind: 'ec2' },
    new AwsError('InvalidInstanceID.NotFound', "The instance ID 'i-1' does not exist"),
    'req-2',
  );
  assert.equal(rendered.status, 400);
  assert.equal(
    rendered.body,
    '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code>' +
      '<Message>The instance ID &apos;i-1&apos; does not exist</Message></Error></Errors><RequestID>req-2</RequestID></Response>',
  );
});

test('filter values support * and ? wildcards and nothing else', () => {
  assert.ok(filterMatches('web-*', 'web-1'));
  assert.ok(filterMatches('web-?', 'web-1'));
  assert.ok(!filterMatches('web-?', 'web-12'));
  assert.ok(filterMatches('a.b', 'a.b'));
  assert.ok(!filterMatches('a.b*', 'axb'));
});
