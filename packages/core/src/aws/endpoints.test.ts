import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidInputError } from '../errors';
import { resolveEndpoint } from './endpoints';

describe('resolveEndpoint', () => {
  const env = {
    AWS_ENDPOINT_URL_CLOUDFORMATION: 'http://127.0.0.1:1',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:2',
  };
  it('explicit option wins', () =>
    assert.equal(resolveEndpoint('cloudformation', { cloudformation: 'http://x:3/' }, env), 'http://x:3'));
  it('then the default option', () =>
    assert.equal(resolveEndpoint('s3', { default: 'http://x:4' }, env), 'http://x:4'));
  it('then AWS_ENDPOINT_URL_<SERVICE>', () =>
    assert.equal(resolveEndpoint('cloudformation', undefined, env), 'http://127.0.0.1:1'));
  it('then AWS_ENDPOINT_URL', () =>
    assert.equal(resolveEndpoint('codedeploy', {}, env), 'http://127.0.0.1:2'));
  it('upper-cases the service id and turns spaces into _', () =>
    assert.equal(
      resolveEndpoint('Some Service', {}, { AWS_ENDPOINT_URL_SOME_SERVICE: 'https://a' }),
      'https://a',
    ));
  it('is undefined without overrides', () => assert.equal(resolveEndpoint('sts', {}, {}), undefined));
  it('rejects something that is not a URL, naming where it came from', () => {
    assert.throws(
      () => resolveEndpoint('sts', {}, { AWS_ENDPOINT_URL_STS: 'localhost 4566' }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidInputError);
        assert.match(error.message, /AWS_ENDPOINT_URL_STS/);
        return true;
      },
    );
    assert.throws(() => resolveEndpoint('sts', { sts: 'ftp://x' }, {}), /must use http or https/);
  });
});
