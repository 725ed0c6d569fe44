import { hash, timingSafeEqual } from 'node:crypto';

export type Identity = { readonly ok: true; readonly clientId: string } | { readonly ok: false; readonly reason: 'missing' | 'invalid' };

// One-shot hashing: no Hash object per request.
const digest = (value: string): Buffer => hash('sha256', value, 'buffer');

/**
 * Checks inbound API keys in constant time: the presented key's digest is compared with every configured
 * key's digest, so neither the match position nor the key length shows in the timing.
 * A client is identified by a short digest of its key, never by the key itself.
 */
export class InboundKeys {
  private readonly digests: readonly { readonly digest: Buffer; readonly clientId: string }[];

  constructor(keys: readonly string[]) {
    this.digests = keys.map((key) => {
      const d = digest(key);
      return { digest: d, clientId: `key:${d.toString('hex').slice(0, 12)}` };
    });
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  /** From `X-API-Key: <key>` or `Authorization: Bearer <key>`. */
  identify(headers: { readonly 'x-api-key'?: string | string[] | undefined; readonly authorization?: string | undefined }): Identity {
    const presented = presentedKey(headers);
    if (presented === undefined) return { ok: false, reason: 'missing' };
    const candidate = digest(presented);
    let clientId: string | undefined;
    for (const entry of this.digests) {
      if (timingSafeEqual(entry.digest, candidate)) clientId = entry.clientId;
    }
    return clientId ? { ok: true, clientId } : { ok: false, reason: 'invalid' };
  }
}

function presentedKey(headers: {
  readonly 'x-api-key'?: string | string[] | undefined;
  readonly authorization?: string | undefined;
}): string | undefined {
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.length > 0) return apiKey;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  return match?.[1];
}

export const WWW_AUTHENTICATE = 'Bearer realm="gateway", ApiKey realm="gateway", header="X-API-Key"';
