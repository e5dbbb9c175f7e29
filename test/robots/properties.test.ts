import { describe, expect, it } from 'vitest';
import { parseHandlerCall } from '../../src/robots/handler-call.ts';
import { coerceProperties } from '../../src/robots/properties.ts';

const declared = {
  flag: { Name: 'Flag', Type: 'bool', Required: 'Y' },
  count: { Name: { en: 'Count', ru: 'Количество' }, Type: 'int' },
  ratio: { Name: 'Ratio', Type: 'double' },
  due: { Name: 'Due', Type: 'date' },
  at: { Name: 'At', Type: 'datetime' },
  owner: { Name: 'Owner', Type: 'user' },
  watchers: { Name: 'Watchers', Type: 'user', Multiple: 'Y' },
  mode: { Name: 'Mode', Type: 'select', Options: { a: 'A', b: 'B' }, Default: 'a' },
  note: { Name: 'Note', Type: 'text' },
} as const;

describe('property coercion', () => {
  it('turns the queue server strings into typed values', () => {
    const result = coerceProperties(declared, {
      flag: 'Y',
      count: '42',
      ratio: '3,5',
      due: '24.11.2026',
      at: '2026-11-24T10:00:00+01:00',
      owner: 'user_12',
      watchers: ['user_1', 'user_2'],
      note: 'hello',
    });
    expect(result).toEqual({
      ok: true,
      values: {
        flag: true,
        count: 42,
        ratio: 3.5,
        due: '2026-11-24',
        at: '2026-11-24T09:00:00.000Z',
        owner: 12,
        watchers: [1, 2],
        mode: 'a',
        note: 'hello',
      },
    });
  });

  it('names every property that is wrong, in the words an admin reads', () => {
    const result = coerceProperties(declared, { count: 'many', owner: 'group_3', mode: 'z', watchers: 'user_x' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([
      '«Flag» is required',
      '«Count» must be a whole number, got "many"',
      '«Owner» must be a user (user_<id>), got "group_3"',
      '«Watchers» must be a user (user_<id>), got "user_x"',
      '«Mode» must be one of a, b, got "z"',
    ]);
  });

  it('treats an empty string as absent (null arrives as "")', () => {
    expect(coerceProperties({ n: { Name: 'N', Type: 'int' } }, { n: '' })).toEqual({ ok: true, values: {} });
  });

  it('refuses a list for a single-valued property', () => {
    const result = coerceProperties({ n: { Name: 'N', Type: 'string' } }, { n: ['a', 'b'] });
    expect(result).toEqual({ ok: false, errors: ['«N» takes one value, got 2'] });
  });
});

describe('handler call parsing', () => {
  const valid = {
    workflow_id: 'wf1',
    code: 'hash_value',
    document_id: ['crm', 'CCrmDocumentDeal', 'DEAL_7'],
    event_token: 'tok',
    properties: { value: 'x' },
    use_subscription: 'Y',
    timeout_duration: '60',
    ts: '1764000000',
    auth: { member_id: 'm', application_token: 'a', user_id: '1' },
  };

  it('reads a full call', () => {
    const parsed = parseHandlerCall(valid, 'hash_value');
    expect(parsed.ok && parsed.call).toMatchObject({
      code: 'hash_value',
      documentType: null,
      useSubscription: true,
      timeoutSeconds: 60,
      queuedAt: 1764000000,
      authUserId: 1,
    });
  });

  it('lists what is missing or malformed', () => {
    const parsed = parseHandlerCall({ ...valid, code: 'other', document_id: ['crm'], event_token: '', timeout_duration: '-1' }, 'hash_value');
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors).toEqual([
      'code "other" does not match the handler URL (hash_value)',
      'event_token must be a non-empty string of at most 1024 characters',
      'document_id must be three strings (document_id[0..2])',
      'timeout_duration must be a whole number of seconds',
    ]);
  });

  it('waits for an answer unless use_subscription is N', () => {
    const parsed = parseHandlerCall({ ...valid, use_subscription: '' }, 'hash_value');
    expect(parsed.ok && parsed.call.useSubscription).toBe(true);
  });
});
