import { describe, expect, it } from 'vitest';
import { gainsightPxPlugin, readPxSettings } from './index.ts';

const summarize = gainsightPxPlugin(readPxSettings({})).operations.find((op) => op.id === 'sendCustomEvent')?.delivery?.summarize;

describe('sendCustomEvent delivery summary', () => {
  it('keeps the event name, the user and the account, and nothing else of the event', () => {
    const body = {
      eventName: 'Signup',
      identifyId: 'u-1',
      accountId: 'acct-1',
      propertyKey: 'AP-TEST-1',
      attributes: { plan: 'pro' },
      globalContext: { region: 'eu' },
    };
    expect(summarize?.({ body })).toEqual({ eventName: 'Signup', identifyId: 'u-1', accountId: 'acct-1' });
    expect(summarize?.({ body: { eventName: 'Login', identifyId: 'u-2' } })).toEqual({ eventName: 'Login', identifyId: 'u-2' });
  });
});
