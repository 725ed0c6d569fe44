import type { Environment, SecretRef } from '@gateway/core';

export const REGION_BASE_URLS = {
  us: 'https://api.aptrinsic.com/v1',
  eu: 'https://api-eu.aptrinsic.com/v1',
  us2: 'https://api-us2.aptrinsic.com/v1',
} as const;

export type Region = keyof typeof REGION_BASE_URLS;

export interface PxSettings {
  readonly baseUrl: string;
  readonly apiKey: SecretRef;
  readonly productKey: string | undefined;
}

/** Reads the plugin's variables; a bad value is an error naming the variable. */
export function readPxSettings(environment: Environment): PxSettings {
  const rawRegion = environment.GAINSIGHT_PX_REGION?.trim() || 'us';
  const region = rawRegion.toLowerCase();
  // Own keys only: `in` would also accept inherited names such as "constructor" or "toString".
  if (!Object.hasOwn(REGION_BASE_URLS, region)) {
    throw new Error(`GAINSIGHT_PX_REGION must be one of ${Object.keys(REGION_BASE_URLS).join(', ')} (got "${rawRegion}")`);
  }
  const baseUrl = environment.GAINSIGHT_PX_BASE_URL || REGION_BASE_URLS[region as Region];
  if (!URL.canParse(baseUrl) || !/^https?:$/.test(new URL(baseUrl).protocol)) {
    throw new Error(`GAINSIGHT_PX_BASE_URL must be an http(s) URL (got "${baseUrl}")`);
  }
  return {
    baseUrl: baseUrl.replace(/\/+$/, ''),
    apiKey: { source: 'GAINSIGHT_API_KEY', value: environment.GAINSIGHT_API_KEY || undefined },
    productKey: environment.GAINSIGHT_PX_PRODUCT_KEY || undefined,
  };
}
