/**
 * The set of robots and actions: every module in handlers/ that default-exports a definition.
 * Adding a robot is adding a file there; registration, calls, pages and the demo read this.
 *
 * A portal keeps one CODE namespace per app for robots and actions together
 * (bizproc.robot.add / bizproc.activity.add refuse a CODE the app already used for either kind:
 * ERROR_ACTIVITY_ALREADY_INSTALLED), so a definition registered as both gets two codes: the
 * robot keeps the definition's code (robots placed on CRM stages reference it) and the action
 * gets `<code>_action`. `registeredCode` is the one place that rule lives; the catalog's
 * `get`/`has` take any code a portal may call with — the robot's, the action's, or the bare code
 * an action was registered under before the rule existed — and iterate over definitions only.
 */
import { readdir } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { HandlerDefinition } from './definition.ts';

export type RegistrationKind = 'robot' | 'activity';

/** Looked up by any registered code (see above); iterated by definition code. */
export type Catalog = ReadonlyMap<string, HandlerDefinition>;

export const HANDLERS_DIR = new URL('../../handlers/', import.meta.url);

const ACTION_SUFFIX = '_action';
const MAX_REGISTERED_CODE = 64;
const CODE = new RegExp(`^[a-z][a-z0-9_]{0,${MAX_REGISTERED_CODE - ACTION_SUFFIX.length - 1}}$`);

/** The CODE a definition is registered under as a robot or as an action. */
export function registeredCode(definitionCode: string, kind: RegistrationKind): string {
  return kind === 'activity' ? `${definitionCode}${ACTION_SUFFIX}` : definitionCode;
}

/** The kinds a definition is registered as. */
export function kindsOf(definition: HandlerDefinition): RegistrationKind[] {
  return definition.kind === 'both' ? ['robot', 'activity'] : [definition.kind];
}

class HandlerCatalog extends Map<string, HandlerDefinition> {
  override get(code: string): HandlerDefinition | undefined {
    const exact = super.get(code);
    if (exact) return exact;
    if (!code.endsWith(ACTION_SUFFIX)) return undefined;
    const definition = super.get(code.slice(0, -ACTION_SUFFIX.length));
    return definition && kindsOf(definition).includes('activity') ? definition : undefined;
  }

  override has(code: string): boolean {
    return this.get(code) !== undefined;
  }
}

/** A catalog of these definitions; a clear error for a code that cannot be registered. */
export function catalogOf(definitions: Iterable<HandlerDefinition>): Catalog {
  const catalog = new HandlerCatalog();
  for (const definition of definitions) {
    if (!CODE.test(definition.code)) {
      throw new Error(
        `code "${definition.code}" must be lower case letters, digits and _ (at most ${MAX_REGISTERED_CODE - ACTION_SUFFIX.length} characters, so that ${ACTION_SUFFIX} fits)`,
      );
    }
    if (definition.code.endsWith(ACTION_SUFFIX)) {
      throw new Error(`code "${definition.code}" must not end with ${ACTION_SUFFIX}: that suffix names the action registration of a robot`);
    }
    if (catalog.has(definition.code)) throw new Error(`code "${definition.code}" is already used by another handler`);
    catalog.set(definition.code, definition);
  }
  return catalog;
}

export async function loadCatalog(dir: URL = HANDLERS_DIR): Promise<Catalog> {
  const files = (await readdir(dir)).filter((f) => /\.(ts|js|mjs)$/.test(f) && !f.endsWith('.d.ts') && !f.startsWith('_')).sort();
  const definitions: HandlerDefinition[] = [];
  for (const file of files) {
    const module = (await import(pathToFileURL(new URL(file, dir).pathname).href)) as { default?: HandlerDefinition };
    const definition = module.default;
    if (!definition || typeof definition.run !== 'function' || typeof definition.code !== 'string') {
      throw new Error(`handlers/${file} must default-export a definition made with defineHandler()`);
    }
    try {
      catalogOf([...definitions, definition]);
    } catch (error) {
      throw new Error(`handlers/${file}: ${(error as Error).message}`);
    }
    definitions.push(definition);
  }
  return catalogOf(definitions);
}
