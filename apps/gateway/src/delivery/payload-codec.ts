import type { UpstreamRequest } from '@gateway/core';

/** A stored payload could not be read back as the request it was (altered, or not written by this gateway). */
export class PayloadUnreadableError extends Error {
  override readonly name = 'PayloadUnreadableError';
}

/** How a shaped upstream request is kept in a store, and read back for its delivery. */
export class PayloadCodec {
  encode(request: UpstreamRequest): string {
    return JSON.stringify(request);
  }

  decode(payload: string): UpstreamRequest {
    let request: unknown;
    try {
      request = JSON.parse(payload);
    } catch {
      throw new PayloadUnreadableError('the stored request is not the JSON this gateway wrote');
    }
    if (typeof request !== 'object' || request === null || typeof (request as UpstreamRequest).path !== 'string')
      throw new PayloadUnreadableError('the stored request is not the one this gateway wrote');
    return request as UpstreamRequest;
  }
}
