/**
 * The Dockerfile's runtime stage, read the way the test needs it: the paths it copies (each COPY
 * one path, the same on both sides: test/production/install.test.ts lays them out in a folder)
 * and the npm ci it runs. No Docker engine runs here, so this folder stands in for the image.
 */
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RuntimeStage {
  /** paths under /app, copied from the build context or from the build stage's /app */
  copies: Array<{ path: string; from: 'context' | 'build' }>;
  /** the npm ci command line of the stage, as written */
  install: string[];
}

export function readRuntimeStage(dockerfile: string): RuntimeStage {
  // Continuation lines joined, comments dropped: one instruction a line.
  const lines = readFileSync(dockerfile, 'utf8').replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const start = lines.findIndex((l) => /^FROM\s+\S+\s+AS\s+runtime$/i.test(l));
  if (start < 0) throw new Error('the Dockerfile has no `FROM … AS runtime` stage');
  const stage = lines.slice(start + 1);
  const copies: RuntimeStage['copies'] = [];
  let install: string[] | null = null;
  for (const line of stage) {
    const copy = /^COPY\s+(?:--from=(\S+)\s+)?(\S+)\s+(\S+)$/i.exec(line);
    if (/^COPY\s/i.test(line) && !copy) throw new Error(`a runtime COPY the test cannot follow (one path, no other flags): ${line}`);
    if (copy) {
      const [, stageName, source, target] = copy;
      if (stageName && stageName !== 'build') throw new Error(`COPY from an unknown stage: ${line}`);
      const path = stageName ? source!.replace(/^\/app\//, '') : source!;
      if (path !== target!.replace(/\/$/, '') || path.startsWith('/')) throw new Error(`a runtime COPY must keep its path under /app: ${line}`);
      copies.push({ path, from: stageName ? 'build' : 'context' });
    }
    const npm = /^RUN\s+(npm ci\b[^&;]*)/i.exec(line);
    if (npm) install = npm[1]!.trim().split(/\s+/);
  }
  if (!install) throw new Error('the runtime stage runs no `npm ci`');
  return { copies, install };
}

/**
 * The stage laid out in `target`: `root` is both the build context and, built, the build stage's
 * /app (the working tree after `npm run generate && npm run build`).
 */
export function layOut(stage: RuntimeStage, root: string, target: string): void {
  for (const { path } of stage.copies) cpSync(join(root, path), join(target, path), { recursive: true });
}
