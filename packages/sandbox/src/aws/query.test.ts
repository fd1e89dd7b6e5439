import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AwsError, authError, renderError } from './errors';
import { parseFormEncoded, QueryParams, renderQueryResult } from './query';

test('form bodies decode + and %XX; .member.N lists, nested structs and entry maps become trees', () => {
  const flat = parseFormEncoded(
    'Action=CreateStack&Version=2010-05-15&StackName=my+stack' +
      '&Parameters.member.2.ParameterKey=B&Parameters.member.2.ParameterValue=2' +
      '&Parameters.member.1.ParameterKey=A&Parameters.member.1.ParameterValue=a%26b' +
      '&ClientIDList.member.1=api%3A%2F%2Fx&ClientIDList.member.10=ten&ClientIDList.member.2=two' +
      '&Attributes.entry.1.key=k&Attributes.entry.1.value=v&EmptyList=',
  );
  const params = new QueryParams(flat);
  assert.equal(params.string('StackName'), 'my stack');
  assert.deepEqual(params.tree['Parameters'], [
    { ParameterKey: 'A', ParameterValue: 'a&b' },
    { ParameterKey: 'B', ParameterValue: '2' },
  ]);
  assert.deepEqual(params.list('ClientIDList'), ['api://x', 'two', 'ten']);
  assert.deepEqual(params.tree['Attributes'], { k: 'v' });
  assert.deepEqual(params.list('EmptyList'), []);
  assert.equal(params.list('Missing'), undefined);
});

test('integer parameters are validated', () => {
  const params = new QueryParams(parseFormEncoded('DurationSeconds=12x'));
  assert.throws(
    () => params.integer('DurationSeconds'),
    (e) => e instanceof AwsError && e.code === 'ValidationError',
  );
  assert.equal(new QueryParams(parseFormEncoded('DurationSeconds=900')).integer('DurationSeconds'), 900);
});

test('query results use the exact awsQuery envelope, member lists, ISO dates and XML escaping', () => {
  const xml = renderQueryResult(
    'GetThing',
    'https://iam.amazonaws.com/doc/2010-05-08/',
    {
      Name: 'a<b>&"c\'',
      List: ['x', 'y'],
      When: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)),
      Flag: true,
      Skip: undefined,
    },
    'req-1',
  );
  assert.equal(
    xml,
    '<GetThingResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetThingResult>' +
      '<Name>a&lt;b&gt;&amp;&quot;c&apos;</Name><List><member>x</member><member>y</member></List>' +
      '<When>2024-01-02T03:04:05Z</When><Flag>true</Flag></GetThingResult>' +
      '<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetThingResponse>\n',
  );
  assert.equal(
    renderQueryResult('DeleteRole', 'ns', undefined, 'r'),
    '<DeleteRoleResponse xmlns="ns"><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteRoleResponse>\n',
  );
});

test('errors render per protocol: query ErrorResponse, JSON __type + x-amzn-ErrorType, S3 <Error>', () => {
  const error = new AwsError('NoSuchEntity', 'The role with name <x> cannot be found.', 404);
  const query = renderError(
    { kind: 'query', xmlns: 'https://iam.amazonaws.com/doc/2010-05-08/' },
    error,
    'rid',
  );
  assert.equal(query.status, 404);
  assert.equal(
    query.body,
    '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code>' +
      '<Message>The role with name &lt;x&gt; cannot be found.</Message></Error><RequestId>rid</RequestId></ErrorResponse>\n',
  );
  const json = renderError({ kind: 'json', version: '1.1' }, error, 'rid');
  assert.equal(json.headers['x-amzn-errortype'], 'NoSuchEntity');
  assert.deepEqual(JSON.parse(json.body), {
    __type: 'NoSuchEntity',
    message: 'The role with name <x> cannot be found.',
  });
  const s3 = renderError(
    { kind: 'rest-xml' },
    new AwsError('NoSuchKey', 'The specified key does not exist.', 404, 'Sender', { Key: 'a&b' }),
    'rid',
  );
  assert.match(
    s3.body,
    /<Error><Code>NoSuchKey<\/Code><Message>The specified key does not exist\.<\/Message><Key>a&amp;b<\/Key><RequestId>rid<\/RequestId><\/Error>$/,
  );
});

test("auth failures map to each protocol family's code and status", () => {
  const query = { kind: 'query', xmlns: 'ns' } as const;
  const json = { kind: 'json', version: '1.1' } as const;
  const s3 = { kind: 'rest-xml' } as const;
  const pick = (e: AwsError) => [e.code, e.status, e.message];
  assert.deepEqual(pick(authError(query, { kind: 'unknown-key' })), [
    'InvalidClientTokenId',
    403,
    'The security token included in the request is invalid.',
  ]);
  assert.deepEqual(pick(authError(query, { kind: 'expired-token' })), [
    'ExpiredToken',
    403,
    'The security token included in the request is expired',
  ]);
  assert.deepEqual(pick(authError(query, { kind: 'missing' })), [
    'MissingAuthenticationToken',
    403,
    'Request is missing Authentication Token',
  ]);
  assert.equal(authError(query, { kind: 'bad-signature' }).code, 'SignatureDoesNotMatch');
  assert.deepEqual(pick(authError(json, { kind: 'expired-token' })).slice(0, 2), [
    'ExpiredTokenException',
    400,
  ]);
  assert.equal(authError(json, { kind: 'bad-signature' }).code, 'InvalidSignatureException');
  assert.equal(authError(json, { kind: 'unknown-key' }).code, 'UnrecognizedClientException');
  assert.deepEqual(pick(authError(s3, { kind: 'unknown-key' })).slice(0, 2), ['InvalidAccessKeyId', 403]);
  assert.deepEqual(pick(authError(s3, { kind: 'expired-token' })).slice(0, 2), ['ExpiredToken', 400]);
  const skew = authError(query, {
    kind: 'skewed',
    direction: 'past',
    requestTime: 'A',
    now: 'C',
    boundary: 'B',
  });
  assert.equal(skew.message, 'Signature expired: A is now earlier than B (C - 15 min.)');
  assert.equal(
    authError(s3, { kind: 'skewed', direction: 'past', requestTime: 'A', now: 'C', boundary: 'B' }).code,
    'RequestTimeTooSkewed',
  );
});
