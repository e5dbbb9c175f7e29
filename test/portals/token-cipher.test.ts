import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { applicationTokenMatches, hashApplicationToken } from '../../src/portals/application-token.ts';
import { TokenCipher, type KeyRing } from '../../src/portals/token-cipher.ts';

const ring = (...ids: string[]): KeyRing => {
  const all = new Map(ids.map((id) => [id, randomBytes(32)]));
  return { current: { id: ids[0]!, key: all.get(ids[0]!)! }, all };
};

describe('token cipher', () => {
  it('round-trips and never stores the plaintext', () => {
    const cipher = new TokenCipher(ring('k1'));
    const envelope = cipher.encrypt('secret-access-token');
    expect(envelope).not.toContain('secret-access-token');
    expect(envelope.startsWith('k1.')).toBe(true);
    expect(cipher.decrypt(envelope)).toBe('secret-access-token');
  });

  it('opens envelopes of an older key after rotation and reports them for rewrapping', () => {
    const old = ring('k1');
    const envelope = new TokenCipher(old).encrypt('t');
    const rotated: KeyRing = { current: { id: 'k2', key: randomBytes(32) }, all: new Map([...old.all, ['k2', randomBytes(32)]]) };
    rotated.all.set('k2', rotated.current.key);
    const cipher = new TokenCipher(rotated);
    expect(cipher.decrypt(envelope)).toBe('t');
    expect(cipher.needsRewrap(envelope)).toBe(true);
    expect(cipher.needsRewrap(cipher.encrypt('t'))).toBe(false);
  });

  it('refuses a tampered envelope and an unknown key', () => {
    const cipher = new TokenCipher(ring('k1'));
    const [id, iv, tag, data] = cipher.encrypt('token').split('.');
    const flipped = Buffer.from(data!, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    expect(() => cipher.decrypt([id, iv, tag, flipped.toString('base64url')].join('.'))).toThrow();
    expect(() => new TokenCipher(ring('other')).decrypt([id, iv, tag, data].join('.'))).toThrow(/not in TOKEN_ENCRYPTION_KEY/);
  });

  it('refuses an envelope whose tag was cut short (GCM would accept 4 bytes)', () => {
    const cipher = new TokenCipher(ring('k1'));
    const [id, iv, tag, data] = cipher.encrypt('token').split('.');
    const short = Buffer.from(tag!, 'base64url').subarray(0, 4).toString('base64url');
    expect(() => cipher.decrypt([id, iv, short, data].join('.'))).toThrow(/malformed/);
    expect(() => cipher.decrypt([id, iv, tag, data, 'extra'].join('.'))).toThrow(/malformed/);
  });
});

describe('application token', () => {
  it('matches only the same token', () => {
    const hash = hashApplicationToken('app-token-1');
    expect(applicationTokenMatches(hash, 'app-token-1')).toBe(true);
    expect(applicationTokenMatches(hash, 'app-token-2')).toBe(false);
    expect(applicationTokenMatches(hash, '')).toBe(false);
    expect(applicationTokenMatches(hash, ['app-token-1'])).toBe(false);
    expect(applicationTokenMatches(null, 'app-token-1')).toBe(false);
  });
});
