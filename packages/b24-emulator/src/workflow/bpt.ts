/**
 * The .bpt template format: a PHP-serialized array (VERSION, TEMPLATE, PARAMETERS, VARIABLES,
 * CONSTANTS, DOCUMENT_FIELDS), zlib-compressed as PHP's gzcompress writes it.
 *
 * PHP serialization is written here by hand: string lengths count UTF-8 bytes, and the few npm
 * packages for it either count characters or are unmaintained; the format is small.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import type { ActivityNode } from '../contract.ts';

export type PhpValue = null | boolean | number | string | PhpValue[] | { [key: string]: PhpValue };

export class BptError extends Error {}

export function phpUnserialize(input: Buffer | string): PhpValue {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  let at = 0;
  const expect = (char: string) => {
    if (bytes[at] !== char.charCodeAt(0)) throw new BptError(`expected "${char}" at byte ${at}`);
    at += 1;
  };
  const until = (char: string) => {
    const end = bytes.indexOf(char.charCodeAt(0), at);
    if (end < 0) throw new BptError(`unterminated value at byte ${at}`);
    const text = bytes.subarray(at, end).toString('latin1');
    at = end + 1;
    return text;
  };
  const value = (): PhpValue => {
    const type = String.fromCharCode(bytes[at] ?? 0);
    at += 1;
    if (type === 'N') return expect(';'), null;
    expect(':');
    switch (type) {
      case 'b':
        return until(';') === '1';
      case 'i':
        return Number.parseInt(until(';'), 10);
      case 'd':
        return Number.parseFloat(until(';'));
      case 's': {
        const length = Number.parseInt(until(':'), 10);
        expect('"');
        const text = bytes.subarray(at, at + length).toString('utf8');
        at += length;
        expect('"');
        expect(';');
        return text;
      }
      case 'a': {
        const count = Number.parseInt(until(':'), 10);
        expect('{');
        const entries: Array<[string | number, PhpValue]> = [];
        for (let i = 0; i < count; i += 1) {
          const key = value();
          if (typeof key !== 'string' && typeof key !== 'number') throw new BptError(`array key must be int or string at byte ${at}`);
          entries.push([key, value()]);
        }
        expect('}');
        const isList = entries.every(([key], index) => key === index);
        return isList ? entries.map(([, v]) => v) : Object.fromEntries(entries.map(([k, v]) => [String(k), v]));
      }
      default:
        throw new BptError(`unsupported PHP type "${type}" at byte ${at - 1}`);
    }
  };
  const result = value();
  if (at !== bytes.length) throw new BptError(`trailing bytes after byte ${at}`);
  return result;
}

export function phpSerialize(input: unknown): string {
  if (input === null || input === undefined) return 'N;';
  if (typeof input === 'boolean') return `b:${input ? 1 : 0};`;
  if (typeof input === 'number') return Number.isInteger(input) ? `i:${input};` : `d:${input};`;
  if (typeof input === 'string') return `s:${Buffer.byteLength(input, 'utf8')}:"${input}";`;
  const entries: Array<[string | number, unknown]> = Array.isArray(input) ? input.map((v, i) => [i, v]) : Object.entries(input as object);
  const body = entries
    .map(([key, v]) => (typeof key === 'number' || /^(0|-?[1-9]\d*)$/.test(key) ? `i:${key};` : phpSerialize(key)) + phpSerialize(v))
    .join('');
  return `a:${entries.length}:{${body}}`;
}

export interface BptTemplate {
  VERSION: number;
  TEMPLATE: ActivityNode[];
  PARAMETERS: Record<string, unknown>;
  VARIABLES: Record<string, unknown>;
  CONSTANTS: Record<string, unknown>;
  DOCUMENT_FIELDS: Record<string, unknown>;
}

const asRecord = (value: unknown): Record<string, unknown> =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

export function readBpt(file: Buffer): BptTemplate {
  let data: PhpValue;
  try {
    data = phpUnserialize(inflateSync(file));
  } catch (error) {
    throw new BptError(`not a .bpt file: ${(error as Error).message}`);
  }
  const root = asRecord(data);
  if (!Array.isArray(root.TEMPLATE) || root.TEMPLATE.length === 0) throw new BptError('the template has no TEMPLATE tree');
  return {
    VERSION: Number(root.VERSION ?? 2),
    TEMPLATE: root.TEMPLATE.map(normalizeNode),
    PARAMETERS: asRecord(root.PARAMETERS),
    VARIABLES: asRecord(root.VARIABLES),
    CONSTANTS: asRecord(root.CONSTANTS),
    DOCUMENT_FIELDS: asRecord(root.DOCUMENT_FIELDS),
  };
}

function normalizeNode(raw: PhpValue): ActivityNode {
  const node = asRecord(raw);
  if (typeof node.Type !== 'string' || typeof node.Name !== 'string') throw new BptError('an activity lacks Type or Name');
  const children = Array.isArray(node.Children) ? node.Children : Object.values(asRecord(node.Children));
  return { ...node, Type: node.Type, Name: node.Name, Properties: asRecord(node.Properties), Children: children.map((c) => normalizeNode(c as PhpValue)) };
}

export function writeBpt(template: Partial<BptTemplate> & { TEMPLATE: ActivityNode[] }): Buffer {
  const data = {
    VERSION: template.VERSION ?? 2,
    TEMPLATE: template.TEMPLATE,
    PARAMETERS: template.PARAMETERS ?? {},
    VARIABLES: template.VARIABLES ?? {},
    CONSTANTS: template.CONSTANTS ?? {},
    DOCUMENT_FIELDS: template.DOCUMENT_FIELDS ?? {},
  };
  return deflateSync(Buffer.from(phpSerialize(data), 'utf8'));
}

/** A sequential template whose steps are the given activities: what our code builds. */
export function sequentialTemplate(steps: Array<Pick<ActivityNode, 'Type' | 'Name' | 'Properties'>>, title = 'Sequential workflow'): ActivityNode[] {
  return [
    {
      Type: 'SequentialWorkflowActivity',
      Name: 'Template',
      Activated: 'Y',
      Properties: { Title: title },
      Children: steps.map((step) => ({ ...step, Activated: 'Y', Children: [] })),
    },
  ];
}
