import { describe, expect, it } from 'vitest';
import { parseHandlerCall } from '../../src/robots/handler-call.ts';
import { crmItemOf } from '../../src/robots/document-roles.ts';
import { coerceProperties, mentionsUserRole } from '../../src/robots/properties.ts';

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
      '«Owner» "group_3" is a user group; this robot needs one user',
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

  describe('values as a portal externalises them (restactivity.php execute)', () => {
    const dates = { due: { Name: 'Due', Type: 'date' }, at: { Name: 'At', Type: 'datetime' } } as const;
    it.each([
      ['en', '11/25/2026', '11/25/2026 02:05:52 pm', '2026-11-25T14:05:52.000Z'],
      ['en, morning', '1/5/2026', '1/5/2026 12:05:00 am', '2026-01-05T00:05:00.000Z'],
      ['ru/de', '25.11.2026', '25.11.2026 14:05:52', '2026-11-25T14:05:52.000Z'],
      ['ISO', '2026-11-25', '2026-11-25T14:05:52Z', '2026-11-25T14:05:52.000Z'],
    ])('dates in the display format of %s', (_culture, due, at, iso) => {
      expect(coerceProperties(dates, { due, at })).toEqual({ ok: true, values: { due: iso.slice(0, 10), at: iso } });
    });

    it('refuses a date that does not exist or a clock that is not one, naming the value', () => {
      const result = coerceProperties(dates, { due: '02/30/2026', at: '25.11.2026 13:05 pm' });
      expect(result).toEqual({
        ok: false,
        errors: [
          '«Due» must be a date (11/25/2026, 25.11.2026 or 2026-11-25), got "02/30/2026"',
          '«At» must be a date and time (11/25/2026 02:05:52 pm, 25.11.2026 14:05:52 or ISO 8601), got "25.11.2026 13:05 pm"',
        ],
      });
    });

    it('bool as Y/N, 1/0 and true/false', () => {
      const flags = { a: { Name: 'A', Type: 'bool' }, b: { Name: 'B', Type: 'bool' }, c: { Name: 'C', Type: 'bool' }, d: { Name: 'D', Type: 'bool' } } as const;
      expect(coerceProperties(flags, { a: 'N', b: '1', c: 'false', d: 'true' })).toEqual({ ok: true, values: { a: false, b: true, c: false, d: true } });
    });

    const users = { owner: { Name: 'Owner', Type: 'user' }, watchers: { Name: 'Watchers', Type: 'user', Multiple: 'Y' } } as const;
    it('resolves the roles author and responsible against the document, also inside a Multiple value', () => {
      expect(mentionsUserRole(users, { owner: 'responsible' })).toBe(true);
      expect(mentionsUserRole(users, { owner: 'user_3', watchers: ['user_1'] })).toBe(false);
      expect(coerceProperties(users, { owner: 'responsible', watchers: ['author', 'user_4'] }, { responsible: 3, author: 1 })).toEqual({
        ok: true,
        values: { owner: 3, watchers: [1, 4] },
      });
    });

    it('a role that could not be read, or a group, ends the step with an error naming the value it got', () => {
      const result = coerceProperties(users, { owner: 'author', watchers: ['user_1', 'group_g1'] }, { unresolved: 'crm.item.get refused: insufficient_scope' });
      expect(result).toEqual({
        ok: false,
        errors: [
          '«Owner» "author" is the document\'s author, who could not be read: crm.item.get refused: insufficient_scope',
          '«Watchers» "group_g1" is a user group; this robot needs users chosen one by one',
        ],
      });
    });

    it('reads the CRM item a document id names', () => {
      expect(crmItemOf(['crm', 'CCrmDocumentDeal', 'DEAL_12'])).toEqual({ entityTypeId: 2, id: 12 });
      expect(crmItemOf(['crm', 'Bitrix\\Crm\\Integration\\BizProc\\Document\\Dynamic', 'DYNAMIC_128_5'])).toEqual({ entityTypeId: 128, id: 5 });
      expect(crmItemOf(['crm', 'Bitrix\\Crm\\Integration\\BizProc\\Document\\SmartInvoice', 'SMART_INVOICE_3'])).toEqual({ entityTypeId: 31, id: 3 });
      expect(crmItemOf(['lists', 'BizprocDocument', '7'])).toBeNull();
    });
  });
});
