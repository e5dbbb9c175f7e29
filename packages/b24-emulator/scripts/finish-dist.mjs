// After tsc: the files src/ holds besides TypeScript (the portal page's assets) go into dist/
// next to the modules that read them, and the bin is made executable (an install from the
// tarball does that too, a workspace link does not).
import { chmodSync, cpSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
cpSync(`${root}src`, `${root}dist`, { recursive: true, filter: (source) => !source.endsWith('.ts') });
chmodSync(`${root}dist/cli.js`, 0o755);
