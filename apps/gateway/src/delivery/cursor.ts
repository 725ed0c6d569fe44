import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { InvalidCursorError } from './delivery-store.ts';

/**
 * List cursors: a store's position (e.g. a row sequence) encrypted and authenticated with the store's own key, bound
 * to the client it was handed to. A client learns nothing from it (not the global sequence, so not how many other
 * clients accepted in between), and cannot use or forge another client's.
 */
export class CursorCodec {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('a cursor key is 32 bytes');
  }

  static newKey(): Buffer {
    return randomBytes(32);
  }

  seal(clientId: string, position: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(clientId, 'utf8'));
    const sealed = Buffer.concat([cipher.update(position, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
  }

  /** The position, or InvalidCursorError for a cursor not handed to this client by this store. */
  open(clientId: string, cursor: string): string {
    const bytes = Buffer.from(cursor, 'base64url');
    if (cursor.length > 200 || bytes.length < 29) throw new InvalidCursorError('cursor is not one this gateway handed out');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, 12));
      decipher.setAAD(Buffer.from(clientId, 'utf8'));
      decipher.setAuthTag(bytes.subarray(12, 28));
      return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new InvalidCursorError('cursor is not one this gateway handed out');
    }
  }
}
