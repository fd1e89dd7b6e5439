import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { buildClientConfig } from './client-config';
import { isNeverProxiedHost, proxyAgentFor, proxyUrlFor } from './proxy';

const proxy = 'http://proxy.corp:3128';

describe('proxyUrlFor', () => {
  it('uses HTTPS_PROXY, https_proxy, then HTTP_PROXY for https targets', () => {
    assert.equal(
      proxyUrlFor('https://sts.amazonaws.com', { HTTPS_PROXY: proxy, HTTP_PROXY: 'http://other:1' }),
      proxy,
    );
    assert.equal(proxyUrlFor('https://sts.amazonaws.com', { https_proxy: proxy }), proxy);
    assert.equal(proxyUrlFor('https://sts.amazonaws.com', { HTTP_PROXY: proxy }), proxy);
    assert.equal(proxyUrlFor('https://sts.amazonaws.com', {}), undefined);
  });
  it('never proxies loopback or link-local, whatever the settings', () => {
    const env = { HTTPS_PROXY: proxy, HTTP_PROXY: proxy };
    for (const url of [
      'http://169.254.169.254/metadata/identity/oauth2/token',
      'http://127.0.0.1:4566',
      'http://127.9.9.9',
      'http://localhost:8080',
      'http://api.localhost',
      'http://[::1]:4566',
      'http://[fe80::1]/x',
      'http://[febf::1]/x',
    ]) {
      assert.equal(proxyUrlFor(url, env), undefined, url);
    }
    assert.equal(isNeverProxiedHost('169.253.0.1'), false);
    assert.equal(isNeverProxiedHost('[fec0::1]'), false);
  });
  it('honours NO_PROXY hosts, suffixes, wildcards, ports and CIDRs', () => {
    const cases: Array<[string, string, boolean]> = [
      ['amazonaws.com', 'https://sts.us-east-1.amazonaws.com', false],
      ['.amazonaws.com', 'https://sts.us-east-1.amazonaws.com', false],
      ['*.amazonaws.com', 'https://sts.us-east-1.amazonaws.com', false],
      ['example.com', 'https://notexample.com', true],
      ['example.com', 'https://example.com', false],
      ['*', 'https://anything.io', false],
      ['example.com:8443', 'https://example.com:8443', false],
      ['example.com:8443', 'https://example.com', true],
      ['example.com:443', 'https://example.com', false],
      ['10.0.0.0/8', 'https://10.1.2.3', false],
      ['10.0.0.0/8', 'https://11.1.2.3', true],
      ['foo.com, bar.com', 'https://api.bar.com', false],
      ['', 'https://api.bar.com', true],
    ];
    for (const [noProxy, url, proxied] of cases) {
      assert.equal(
        proxyUrlFor(url, { HTTPS_PROXY: proxy, NO_PROXY: noProxy }) === proxy,
        proxied,
        `${noProxy} / ${url}`,
      );
    }
    assert.equal(proxyUrlFor('https://a.b', { HTTPS_PROXY: proxy, no_proxy: 'a.b' }), undefined);
  });
});

describe('proxyAgentFor and buildClientConfig', () => {
  it('returns a tunnelling agent only when a proxy applies', () => {
    assert.ok(proxyAgentFor('https://sts.amazonaws.com', { HTTPS_PROXY: proxy }) instanceof HttpsProxyAgent);
    assert.equal(
      proxyAgentFor('http://169.254.169.254', { HTTPS_PROXY: proxy, HTTP_PROXY: proxy }),
      undefined,
    );
  });
  it('builds client config with region, endpoint, retries and a silent logger', () => {
    const config = buildClientConfig('cloudformation', {
      region: 'eu-west-1',
      env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' },
    });
    assert.equal(config.region, 'eu-west-1');
    assert.equal(config.endpoint, 'http://127.0.0.1:4566');
    assert.equal(config.maxAttempts, 8);
    assert.equal(config.credentials, undefined);
    config.logger.info('nothing');
  });
});
