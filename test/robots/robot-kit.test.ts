import { describe, expect, it } from 'vitest';
import { HandlerError } from '../../src/robots/definition.ts';
import { listFailures, parseNameValueLines, resolveDocumentId, type DocumentId } from '../../handlers/_shared/robot-kit.ts';

const deal: DocumentId = ['crm', 'CCrmDocumentDeal', 'DEAL_12'];

describe('Name=value lines', () => {
  it('reads one pair a line, splitting at the first =, and collects repeated names', () => {
    expect(parseNameValueLines('Approver=user_3\r\n\n  Note = a=b  \nWatchers=user_1\nWatchers=user_2', 'x')).toEqual({
      Approver: 'user_3',
      Note: 'a=b',
      Watchers: ['user_1', 'user_2'],
    });
  });

  it('gives nothing for empty input and keeps empty values', () => {
    expect(parseNameValueLines(undefined, 'x')).toEqual({});
    expect(parseNameValueLines('Empty=', 'x')).toEqual({ Empty: '' });
  });

  it('names every line that is not Name=value', () => {
    expect(() => parseNameValueLines('ok=1\njust text\n=nameless', 'Template parameters')).toThrow(
      new HandlerError('Template parameters: line 2 ("just text") is not Name=value; line 3 ("=nameless") is not Name=value.'),
    );
  });
});

describe('document ids', () => {
  it('defaults to this document', () => {
    expect(resolveDocumentId(undefined, deal)).toEqual(deal);
    expect(resolveDocumentId('  ', deal)).toEqual(deal);
  });

  it('reads a bare number as a document of the same kind', () => {
    expect(resolveDocumentId('15', deal)).toEqual(['crm', 'CCrmDocumentDeal', 'DEAL_15']);
    const item: DocumentId = ['crm', 'Bitrix\\Crm\\Integration\\BizProc\\Document\\Dynamic', 'DYNAMIC_147_1'];
    expect(resolveDocumentId('9', item)).toEqual([item[0], item[1], 'DYNAMIC_147_9']);
    expect(resolveDocumentId('9', ['lists', 'BizprocDocument', '777'])).toEqual(['lists', 'BizprocDocument', '9']);
  });

  it('knows CRM codes and takes an explicit module|entity|id', () => {
    expect(resolveDocumentId('lead_3', deal)).toEqual(['crm', 'CCrmDocumentLead', 'LEAD_3']);
    expect(resolveDocumentId('SMART_INVOICE_4', deal)).toEqual(['crm', 'Bitrix\\Crm\\Integration\\BizProc\\Document\\SmartInvoice', 'SMART_INVOICE_4']);
    expect(resolveDocumentId('disk | Bitrix\\Disk\\BizProcDocument | 777', deal)).toEqual(['disk', 'Bitrix\\Disk\\BizProcDocument', '777']);
  });

  it('refuses anything else with a message', () => {
    expect(() => resolveDocumentId('the big deal', deal)).toThrow(HandlerError);
  });
});

describe('failure lists', () => {
  it('joins reasons and cuts long lists', () => {
    const failed = Array.from({ length: 23 }, (_, i) => ({ label: `task #${i}`, reason: 'no' }));
    const text = listFailures(failed);
    expect(text.startsWith('task #0: no; task #1: no')).toBe(true);
    expect(text.endsWith('task #19: no; … and 3 more')).toBe(true);
  });
});
