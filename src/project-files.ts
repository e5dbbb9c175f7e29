/**
 * Where the files the app reads but does not run live (pages, migrations): the project's root,
 * the folder with package.json, whether the code runs from its sources (src/, through tsx) or as
 * built by `npm run build` (dist/src/).
 */
import { existsSync } from 'node:fs';

function projectRoot(): URL {
  for (let dir = new URL('./', import.meta.url); dir.pathname !== '/'; dir = new URL('../', dir)) {
    if (existsSync(new URL('package.json', dir))) return dir;
  }
  throw new Error(`no package.json above ${import.meta.url}`);
}

export const PROJECT_ROOT = projectRoot();

export const projectFile = (path: string): URL => new URL(path, PROJECT_ROOT);
