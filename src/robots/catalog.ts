/**
 * The set of robots and actions: every module in handlers/ that default-exports a definition.
 * Adding a robot is adding a file there; registration, calls, pages and the demo read this.
 */
import { readdir } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { HandlerDefinition } from './definition.ts';

export type Catalog = ReadonlyMap<string, HandlerDefinition>;

export const HANDLERS_DIR = new URL('../../handlers/', import.meta.url);

const CODE = /^[a-z][a-z0-9_]{0,63}$/;

export async function loadCatalog(dir: URL = HANDLERS_DIR): Promise<Catalog> {
  const files = (await readdir(dir)).filter((f) => /\.(ts|js|mjs)$/.test(f) && !f.endsWith('.d.ts') && !f.startsWith('_')).sort();
  const catalog = new Map<string, HandlerDefinition>();
  for (const file of files) {
    const module = (await import(pathToFileURL(new URL(file, dir).pathname).href)) as { default?: HandlerDefinition };
    const definition = module.default;
    if (!definition || typeof definition.run !== 'function' || typeof definition.code !== 'string') {
      throw new Error(`handlers/${file} must default-export a definition made with defineHandler()`);
    }
    if (!CODE.test(definition.code)) {
      throw new Error(`handlers/${file}: code "${definition.code}" must be lower case letters, digits and _ (at most 64)`);
    }
    if (catalog.has(definition.code)) {
      throw new Error(`handlers/${file}: code "${definition.code}" is already used by another handler`);
    }
    catalog.set(definition.code, definition);
  }
  return catalog;
}
