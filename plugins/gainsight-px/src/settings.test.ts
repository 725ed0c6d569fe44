import { describe, expect, it } from 'vitest';
import gainsightPxFactory from './index.ts';
import { readPxSettings, REGION_BASE_URLS } from './settings.ts';

describe('readPxSettings', () => {
  it('defaults to the US data centre with no key and no product key', () => {
    expect(readPxSettings({})).toEqual({
      baseUrl: 'https://api.aptrinsic.com/v1',
      apiKey: { source: 'GAINSIGHT_API_KEY', value: undefined },
      productKey: undefined,
    });
  });

  it.each([
    ['us', 'https://api.aptrinsic.com/v1'],
    ['eu', 'https://api-eu.aptrinsic.com/v1'],
    ['us2', 'https://api-us2.aptrinsic.com/v1'],
    ['EU', 'https://api-eu.aptrinsic.com/v1'],
    [' us2 ', 'https://api-us2.aptrinsic.com/v1'],
  ])('GAINSIGHT_PX_REGION=%j selects %s', (region, baseUrl) => {
    expect(readPxSettings({ GAINSIGHT_PX_REGION: region }).baseUrl).toBe(baseUrl);
  });

  it('treats an empty region as the default', () => {
    expect(readPxSettings({ GAINSIGHT_PX_REGION: '' }).baseUrl).toBe(REGION_BASE_URLS.us);
  });

  it.each(['apac', 'u s', 'constructor', 'toString', '__proto__', 'hasOwnProperty'])(
    'rejects GAINSIGHT_PX_REGION=%j with an error naming the variable and the choices',
    (region) => {
      expect(() => readPxSettings({ GAINSIGHT_PX_REGION: region })).toThrow(
        `GAINSIGHT_PX_REGION must be one of us, eu, us2 (got "${region}")`,
      );
    },
  );

  it('GAINSIGHT_PX_BASE_URL overrides the region and loses trailing slashes', () => {
    expect(readPxSettings({ GAINSIGHT_PX_BASE_URL: 'http://127.0.0.1:8081/v1/', GAINSIGHT_PX_REGION: 'eu' }).baseUrl).toBe(
      'http://127.0.0.1:8081/v1',
    );
    expect(readPxSettings({ GAINSIGHT_PX_BASE_URL: 'https://px.example.com//' }).baseUrl).toBe('https://px.example.com');
  });

  it('treats an empty GAINSIGHT_PX_BASE_URL as unset', () => {
    expect(readPxSettings({ GAINSIGHT_PX_BASE_URL: '', GAINSIGHT_PX_REGION: 'eu' }).baseUrl).toBe(REGION_BASE_URLS.eu);
  });

  it.each(['not a url', 'api.aptrinsic.com/v1', 'ftp://api.aptrinsic.com/v1', 'file:///etc/passwd'])(
    'rejects GAINSIGHT_PX_BASE_URL=%j with an error naming the variable',
    (baseUrl) => {
      expect(() => readPxSettings({ GAINSIGHT_PX_BASE_URL: baseUrl })).toThrow(
        `GAINSIGHT_PX_BASE_URL must be an http(s) URL (got "${baseUrl}")`,
      );
    },
  );

  it('reads the API key as a secret reference naming its variable', () => {
    expect(readPxSettings({ GAINSIGHT_API_KEY: 'secret-1' }).apiKey).toEqual({ source: 'GAINSIGHT_API_KEY', value: 'secret-1' });
    expect(readPxSettings({ GAINSIGHT_API_KEY: '' }).apiKey.value).toBeUndefined();
  });

  it('reads the default product key; empty means none', () => {
    expect(readPxSettings({ GAINSIGHT_PX_PRODUCT_KEY: 'AP-1-2' }).productKey).toBe('AP-1-2');
    expect(readPxSettings({ GAINSIGHT_PX_PRODUCT_KEY: '' }).productKey).toBeUndefined();
  });
});

describe('plugin factory', () => {
  it('builds the descriptor from the environment, injecting the key as X-APTRINSIC-API-KEY', () => {
    const plugin = gainsightPxFactory.create({ GAINSIGHT_PX_REGION: 'eu', GAINSIGHT_API_KEY: 'secret-1' });
    expect(gainsightPxFactory.id).toBe('gainsight-px');
    expect(plugin.id).toBe('gainsight-px');
    expect(plugin.upstream).toEqual({
      baseUrl: 'https://api-eu.aptrinsic.com/v1',
      auth: { type: 'apikey', in: 'header', name: 'X-APTRINSIC-API-KEY', secret: { source: 'GAINSIGHT_API_KEY', value: 'secret-1' } },
    });
    expect(plugin.sandbox).toBeDefined();
    expect(plugin.operations.map((o) => [o.id, o.upstream.method, o.upstream.path])).toEqual([
      ['sendCustomEvent', 'POST', '/events/custom'],
      ['getUser', 'GET', '/users/{identifyId}'],
      ['listUsers', 'GET', '/users'],
      ['createUser', 'POST', '/users'],
      ['updateUser', 'PUT', '/users/update'],
      ['deleteUser', 'DELETE', '/users/delete'],
      ['getAccount', 'GET', '/accounts/{id}'],
      ['listAccounts', 'GET', '/accounts'],
      ['createAccount', 'POST', '/accounts'],
      ['updateAccount', 'PUT', '/accounts/update'],
    ]);
  });

  it('propagates a bad variable as a start-up error', () => {
    expect(() => gainsightPxFactory.create({ GAINSIGHT_PX_REGION: 'mars' })).toThrow(/GAINSIGHT_PX_REGION/);
  });
});
