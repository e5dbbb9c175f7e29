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

const IV_BYTES = 12;
/** GCM accepts shorter tags; a full 16-byte tag is the only one we ever write, so the only one we accept. */
const TAG_BYTES = 16;

export class TokenCipher {
  constructor(private readonly keys: KeyRing) {}

  encrypt(plaintext: string): string {
    const { id, key } = this.keys.current;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(id));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [id, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join('.');
  }

  decrypt(envelope: string): string {
    const [id, ivText, tagText, data, ...rest] = envelope.split('.');
    const key = id === undefined ? undefined : this.keys.all.get(id);
    if (!key) throw new Error(`token envelope cannot be opened: key "${id ?? ''}" is not in TOKEN_ENCRYPTION_KEY`);
    const iv = Buffer.from(ivText ?? '', 'base64url');
    const tag = Buffer.from(tagText ?? '', 'base64url');
    if (data === undefined || rest.length > 0 || iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
      throw new Error('token envelope cannot be opened: malformed');
    }
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(id!));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  }

  needsRewrap(envelope: string): boolean {
    return !envelope.startsWith(`${this.keys.current.id}.`);
  }

  knows(keyId: string): boolean {
    return this.keys.all.has(keyId);
  }
}
