/**
 * What robots read from a portal that cannot change within minutes, from the short cache the
 * app's processes share (src/portals/portal-cache.ts) instead of asking the portal on every call:
 * the department tree (one list request per portal every few minutes instead of one
 * `department.get` per level per call) and users' cards. A portal client without a cache (a
 * test's) reads every time.
 */
import type { PortalRest } from '../../src/robots/definition.ts';

const DEPARTMENTS_TTL_MS = 5 * 60_000;
const USER_TTL_MS = 2 * 60_000;

export interface PortalUser {
  ID: string;
  NAME?: string;
  LAST_NAME?: string;
  EMAIL?: string;
  WORK_POSITION?: string;
  UF_DEPARTMENT?: Array<string | number> | string | number | false;
}

export interface Department {
  ID: string;
  NAME?: string;
  PARENT?: string | number | null;
  UF_HEAD?: string | number | null;
}

interface Remembering {
  remember<T>(key: string, ttlMs: number, load: () => Promise<T>, worthKeeping?: (value: T) => boolean): Promise<T>;
}

function remembered<T>(portal: PortalRest, key: string, ttlMs: number, load: () => Promise<T>, worthKeeping?: (value: T) => boolean): Promise<T> {
  const cached = portal as PortalRest & Partial<Remembering>;
  return typeof cached.remember === 'function' ? cached.remember<T>(key, ttlMs, load, worthKeeping) : load();
}

/** Every department of the portal by id (all pages of `department.get`, 50 a page). */
export async function departmentsById(portal: PortalRest): Promise<Map<number, Department>> {
  const all = await remembered(portal, 'departments', DEPARTMENTS_TTL_MS, async () =>
    (await portal.listAll<Department>('department.get', { sort: 'ID', order: 'ASC' })).map(({ ID, NAME, PARENT, UF_HEAD }) => ({ ID, NAME, PARENT, UF_HEAD })),
  );
  return new Map(all.map((department) => [Number(department.ID), department]));
}

/** The users `user.get` finds by id or e-mail; a search that found nobody is not remembered. */
export async function usersBy(portal: PortalRest, by: { id: number } | { email: string }): Promise<PortalUser[]> {
  const [key, filter] = 'id' in by ? [`user:${by.id}`, { ID: by.id }] : [`user-email:${by.email.toLowerCase()}`, { EMAIL: by.email }];
  return remembered(
    portal,
    key,
    USER_TTL_MS,
    async () =>
      ((await portal.call<PortalUser[]>('user.get', { FILTER: filter })) ?? []).map(({ ID, NAME, LAST_NAME, EMAIL, WORK_POSITION, UF_DEPARTMENT }) => ({
        ID,
        NAME,
        LAST_NAME,
        EMAIL,
        WORK_POSITION,
        UF_DEPARTMENT,
      })),
    (found) => found.length > 0,
  );
}
