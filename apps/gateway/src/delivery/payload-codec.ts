import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { UpstreamRequest } from '@gateway/core';

/** A stored payload could not be read back as the request it was (altered, or not written with this key). */
export class PayloadUnreadableError extends Error {
  override readonly name = 'PayloadUnreadableError';
}

/** What a payload is bound to: a sealed payload moved to another delivery no longer opens. */
export interface PayloadBinding {
  readonly id: string;
  readonly pluginId: string;
  readonly operationId: string;
}

const SEALED = 's1.';

/**
 * How a shaped upstream request is kept in a store, and read back for its delivery. With a seal key
 * (DELIVERY_SEAL_KEY) it is encrypted and authenticated (AES-256-GCM, bound to its delivery): whoever can write to
 * the store can neither read it nor change it, nor move it to another delivery, without the change being found.
 */
export class PayloadCodec {
  constructor(private readonly sealKey?: Buffer) {
    if (sealKey && sealKey.length !== 32) throw new Error('a seal key is 32 bytes');
  }

  encode(request: UpstreamRequest, binding: PayloadBinding): string {
    const text = JSON.stringify(request);
    if (!this.sealKey) return text;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, iv);
    cipher.setAAD(bindingOf(binding));
    const sealed = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    return `${SEALED}${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64')}`;
  }

  decode(payload: string, binding: PayloadBinding): UpstreamRequest {
    const sealed = payload.startsWith(SEALED);
    if (this.sealKey && !sealed)
      throw new PayloadUnreadableError('it is not sealed, and DELIVERY_SEAL_KEY requires every stored request to be');
    if (!this.sealKey && sealed) throw new PayloadUnreadableError('it is sealed and DELIVERY_SEAL_KEY is not set');
    const text = this.sealKey ? this.open(payload.slice(SEALED.length), binding) : payload;
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch {
      throw new PayloadUnreadableError('it is not the JSON this gateway wrote');
    }
    if (typeof request !== 'object' || request === null || typeof (request as UpstreamRequest).path !== 'string')
      throw new PayloadUnreadableError('it is not a request this gateway wrote');
    return request as UpstreamRequest;
  }

  private open(sealed: string, binding: PayloadBinding): string {
    const bytes = Buffer.from(sealed, 'base64');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.sealKey as Buffer, bytes.subarray(0, 12));
      decipher.setAAD(bindingOf(binding));
      decipher.setAuthTag(bytes.subarray(12, 28));
      return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new PayloadUnreadableError('its seal does not match (altered, moved from another delivery, or sealed with another key)');
    }
  }
}

const bindingOf = ({ id, pluginId, operationId }: PayloadBinding): Buffer =>
  Buffer.from(JSON.stringify([id, pluginId, operationId]), 'utf8');
