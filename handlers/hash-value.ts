/** Hash a value: MD5, SHA-1 or SHA-256 of a string (the reference's own example action; no REST). */
import { createHash } from 'node:crypto';
import { defineHandler } from '../src/robots/definition.ts';
import { ERROR_RETURN } from './_shared/robot-kit.ts';

export default defineHandler({
  code: 'hash_value',
  kind: 'both',
  config: {
    NAME: { en: 'Hash a value', ru: 'Вычислить хеш', de: 'Hashwert berechnen' },
    DESCRIPTION: {
      en: 'Computes the MD5, SHA-1 or SHA-256 hash of a string.',
      ru: 'Вычисляет хеш MD5, SHA-1 или SHA-256 строки.',
      de: 'Berechnet den MD5-, SHA-1- oder SHA-256-Hash einer Zeichenkette.',
    },
    PROPERTIES: {
      value: {
        Name: { en: 'Value', ru: 'Значение', de: 'Wert' },
        Type: 'string',
        Required: 'Y',
      },
      algorithm: {
        Name: { en: 'Algorithm', ru: 'Алгоритм', de: 'Algorithmus' },
        Type: 'select',
        Options: { md5: 'MD5', sha1: 'SHA-1', sha256: 'SHA-256' },
        Default: 'sha256',
      },
    },
    RETURN_PROPERTIES: {
      hash: { Name: { en: 'Hash', ru: 'Хеш', de: 'Hash' }, Type: 'string' },
      ...ERROR_RETURN,
    },
  },
  async run({ properties }) {
    const algorithm = properties.algorithm ?? 'sha256';
    return { hash: createHash(algorithm).update(properties.value, 'utf8').digest('hex') };
  },
});
