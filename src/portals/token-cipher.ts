/**
 * Tokens at rest: AES-256-GCM envelopes `<keyId>.<iv>.<tag>.<ciphertext>` (base64url).
 * The key id travels with each envelope, so a new key can become current while envelopes
 * written under older keys still open; `needsRewrap` tells which ones to re-encrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface KeyRing {
  current: { id: string; key: Buffer };
  all: Map<string, Buffer>;
}

export class TokenCipher {
  constructor(private readonly keys: KeyRing) {}

  encrypt(plaintext: string): string {
    const { id, key } = this.keys.current;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(id));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [id, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join('.');
  }

  decrypt(envelope: string): string {
    const [id, iv, tag, data] = envelope.split('.');
    const key = id === undefined ? undefined : this.keys.all.get(id);
    if (!key || iv === undefined || tag === undefined || data === undefined) {
      throw new Error(`token envelope cannot be opened (key "${id ?? ''}" unknown or envelope malformed)`);
    }
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(id!));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  }

  needsRewrap(envelope: string): boolean {
    return !envelope.startsWith(`${this.keys.current.id}.`);
  }
}
