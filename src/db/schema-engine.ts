/**
 * Prisma's schema engine compiled to WebAssembly (@prisma/schema-engine-wasm).
 *
 * The Prisma CLI downloads a native engine before any command, which these machines cannot
 * reach; the WASM build is the same engine and needs no download. Its ESM entry imports the
 * .wasm file directly, which Node 20 cannot load without a flag, so we instantiate it by hand.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import * as engineBindings from '@prisma/schema-engine-wasm/schema_engine_bg';

export type SchemaEngine = engineBindings.SchemaEngine;
export type { MigrationList, SchemaFilter } from '@prisma/schema-engine-wasm/schema_engine_bg';

let loaded: Promise<void> | null = null;

function loadWasm(): Promise<void> {
  loaded ??= (async () => {
    const require = createRequire(import.meta.url);
    const wasmFile = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg').replace(/\.js$/, '.wasm');
    const module = await WebAssembly.compile(readFileSync(wasmFile));
    const instance = await WebAssembly.instantiate(module, { './schema_engine_bg.js': engineBindings as unknown as WebAssembly.ModuleImports });
    engineBindings.__wbg_set_wasm(instance.exports);
    (instance.exports as { __wbindgen_start?: () => void }).__wbindgen_start?.();
  })();
  return loaded;
}

export async function openSchemaEngine(adapter: SqlMigrationAwareDriverAdapterFactory, datamodel?: { path: string; content: string }): Promise<SchemaEngine> {
  await loadWasm();
  return engineBindings.SchemaEngine.new(
    { datamodels: datamodel ? [[datamodel.path, datamodel.content]] : undefined },
    () => {},
    bindMigrationAwareSqlAdapterFactory(adapter),
  );
}

export const NO_FILTER = { externalTables: [], externalEnums: [] } as unknown as engineBindings.SchemaFilter;
