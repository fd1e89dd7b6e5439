import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RefreshingCredentialCache } from '../credentials/refreshing-cache';
import { clientCredentials } from './client-credentials';

describe('clientCredentials', () => {
  const now = 1_700_000_000_000;
  let fetches = 0;
  const cache = new RefreshingCredentialCache(
    async () => {
      fetches++;
      return { accessKeyId: `AKID${fetches}`, secretAccessKey: 's', expiration: new Date(now + 3_600_000) };
    },
    () => now,
  );
  const credentials = clientCredentials(
    (properties) => cache.get(properties?.forceRefresh === true),
    () => now,
  );

  it('tells the SDK an expiry inside its refresh window, so every request asks the (caching) provider', async () => {
    const first = await credentials.provider();
    assert.equal(first.accessKeyId, 'AKID1');
    assert.ok(first.expiration!.getTime() - now < 300_000);
    assert.equal((await credentials.provider()).accessKeyId, 'AKID1', 'still cached underneath');
    assert.equal(fetches, 1);
  });

  it('forceRefresh fetches new credentials although the old ones have not expired', async () => {
    await credentials.forceRefresh();
    assert.equal((await credentials.provider()).accessKeyId, 'AKID2');
    assert.equal(fetches, 2);
  });
});
