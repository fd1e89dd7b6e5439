import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidInputError } from '../errors';
import { RegionMissingError } from '../credentials/errors';
import { resolveRegion } from './region';

describe('resolveRegion', () => {
  it('prefers explicit, then AWS.Region, then AWS_REGION, then AWS_DEFAULT_REGION', () => {
    const env = { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'eu-west-2' };
    assert.equal(
      resolveRegion('us-east-1', { env, pipelineVariables: { 'AWS.Region': 'ap-south-1' } }),
      'us-east-1',
    );
    assert.equal(
      resolveRegion(undefined, { env, pipelineVariables: { 'AWS.Region': 'ap-south-1' } }),
      'ap-south-1',
    );
    assert.equal(resolveRegion(undefined, { env }), 'eu-west-1');
    assert.equal(resolveRegion('  ', { env: { AWS_DEFAULT_REGION: 'eu-west-2' } }), 'eu-west-2');
  });
  it('accepts other partitions', () => {
    for (const region of ['us-gov-west-1', 'cn-north-1', 'us-isob-east-1', 'ap-southeast-5']) {
      assert.equal(resolveRegion(region, { env: {} }), region);
    }
  });
  it('rejects malformed names', () => {
    for (const region of ['us east 1', 'US-EAST-1', 'useast1', 'us-east']) {
      assert.throws(() => resolveRegion(region, { env: {} }), InvalidInputError);
    }
  });
  it('names all four places when missing', () => {
    assert.throws(
      () => resolveRegion(undefined, { env: {} }),
      (error: unknown) => {
        assert.ok(error instanceof RegionMissingError);
        assert.equal(error.exitCode, 2);
        for (const place of ['region input', 'AWS.Region', 'AWS_REGION', 'AWS_DEFAULT_REGION'])
          assert.ok(error.message.includes(place));
        return true;
      },
    );
  });
});
