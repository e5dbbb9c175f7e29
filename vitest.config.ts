import { defaultClientConditions, defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// the workspace's packages as sources (package.json `exports`), as tsconfig's customConditions
const SOURCE = 'b24-automation-source';

const serverResolve = { conditions: [SOURCE, ...defaultServerConditions] };

export default defineConfig({
  resolve: { conditions: [SOURCE, ...defaultClientConditions] },
  // the tests' modules; the global setup runs in vitest's own environment, which takes no default from these
  ssr: { resolve: serverResolve },
  environments: { __vitest__: { resolve: serverResolve } },
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    // the emulator's CA, trusted by the workers through NODE_EXTRA_CA_CERTS
    globalSetup: ['test/support/global-setup.ts'],
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
