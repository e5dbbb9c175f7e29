import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../src/robots/catalog.ts';
import { spawnTs } from './support/process.ts';

describe('npm run demo', () => {
  it('installs the app in an emulated portal, runs every robot in one workflow, and exits 0', async () => {
    // Without NODE_EXTRA_CA_CERTS, as from a fresh shell: the demo must arrange its trust in the emulator's CA itself.
    const run = spawnTs('scripts/demo.ts', { NODE_EXTRA_CA_CERTS: undefined });
    const code = await run.exited;
    const output = run.stdout();
    expect(code, output + run.stderr()).toBe(0);
    for (const robot of (await loadCatalog()).keys()) expect(output).toMatch(new RegExp(`✓ ${robot} +as expected`));
    expect(output).toContain('answered as expected.');
  }, 180_000);
});
