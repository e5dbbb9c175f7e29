// After tsc: the files src/ holds besides TypeScript (the portal page's assets) go into dist/
// next to the modules that read them.
import { cpSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
cpSync(`${root}src`, `${root}dist`, { recursive: true, filter: (source) => !source.endsWith('.ts') });
