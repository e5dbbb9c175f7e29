/**
 * Registration sync: make a portal's robots and actions match the definitions in handlers/.
 * Missing ones are added, changed ones updated, ones no longer defined deleted. What we last
 * registered is fingerprinted per portal, so a second sync with nothing changed reports
 * nothing and calls only the two list methods. Run on install, on every update (an update
 * removes the app's robots), and on demand.
 */
import { createHash } from 'node:crypto';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { HandlerDefinition, PortalRest } from './definition.ts';
import { kindsOf, registeredCode, type Catalog, type RegistrationKind } from './catalog.ts';

export type { RegistrationKind };

export interface SyncReport {
  added: string[];
  updated: string[];
  deleted: string[];
  unchanged: string[];
}

const API: Record<RegistrationKind, { list: string; add: string; update: string; delete: string }> = {
  robot: { list: 'bizproc.robot.list', add: 'bizproc.robot.add', update: 'bizproc.robot.update', delete: 'bizproc.robot.delete' },
  activity: {
    list: 'bizproc.activity.list',
    add: 'bizproc.activity.add',
    update: 'bizproc.activity.update',
    delete: 'bizproc.activity.delete',
  },
};

/** The fields a definition registers under as this kind, with URLs under the app's public base URL. */
export function registrationFields(definition: HandlerDefinition, kind: RegistrationKind, baseUrl: string, defaultAuthUserId: number | null) {
  const { config } = definition;
  const base = baseUrl.replace(/\/+$/, '');
  const fields: Record<string, unknown> = {
    ...config,
    HANDLER: `${base}/handlers/${registeredCode(definition.code, kind)}`,
    USE_SUBSCRIPTION: config.USE_SUBSCRIPTION ?? 'Y',
  };
  const authUserId = config.AUTH_USER_ID ?? defaultAuthUserId;
  if (authUserId) fields.AUTH_USER_ID = authUserId;
  if (config.USE_PLACEMENT === 'Y') fields.PLACEMENT_HANDLER = `${base}/placement/${definition.code}`;
  return fields;
}

/** Per kind, the codes the catalog registers and the definition each one runs. */
export function wantedRegistrations(catalog: Catalog): Record<RegistrationKind, Map<string, HandlerDefinition>> {
  const wanted = { robot: new Map<string, HandlerDefinition>(), activity: new Map<string, HandlerDefinition>() };
  for (const definition of catalog.values()) {
    for (const kind of kindsOf(definition)) wanted[kind].set(registeredCode(definition.code, kind), definition);
  }
  return wanted;
}

const KINDS = ['robot', 'activity'] as const;

export async function syncRegistration(options: {
  prisma: PrismaClient;
  portalId: number;
  portal: PortalRest;
  catalog: Catalog;
  baseUrl: string;
  defaultAuthUserId: number | null;
}): Promise<SyncReport> {
  const { prisma, portalId, portal, catalog } = options;
  const report: SyncReport = { added: [], updated: [], deleted: [], unchanged: [] };
  const remembered = new Map(
    (await prisma.registeredHandler.findMany({ where: { portalId } })).map((r) => [`${r.kind}:${r.code}`, r.fingerprint]),
  );
  const wanted = wantedRegistrations(catalog);
  const onPortal = {
    robot: new Set(await portal.call<string[]>(API.robot.list)),
    activity: new Set(await portal.call<string[]>(API.activity.list)),
  };

  // Deletions first: the portal shares one CODE namespace between the kinds, so an action still
  // registered under a robot's bare code (the rule before `registeredCode`) must be gone before
  // that robot can be added. Delete filters by kind, so the robot of the same code stays.
  for (const kind of KINDS) {
    for (const code of onPortal[kind]) {
      if (wanted[kind].has(code)) continue;
      await portal.call(API[kind].delete, { CODE: code });
      onPortal[kind].delete(code);
      await prisma.registeredHandler.deleteMany({ where: { portalId, kind, code } });
      report.deleted.push(`${kind}:${code}`);
    }
  }

  for (const kind of KINDS) {
    for (const [code, definition] of wanted[kind]) {
      const fields = registrationFields(definition, kind, options.baseUrl, options.defaultAuthUserId);
      const fingerprint = createHash('sha256').update(JSON.stringify(fields)).digest('hex');
      const label = `${kind}:${code}`;
      if (!onPortal[kind].has(code)) {
        await portal.call(API[kind].add, { CODE: code, ...fields });
        report.added.push(label);
      } else if (remembered.get(label) !== fingerprint) {
        await portal.call(API[kind].update, { CODE: code, FIELDS: fields });
        report.updated.push(label);
      } else {
        report.unchanged.push(label);
        continue;
      }
      await prisma.registeredHandler.upsert({
        where: { portalId_kind_code: { portalId, kind, code } },
        create: { portalId, kind, code, fingerprint },
        update: { fingerprint },
      });
    }
    // What we remember must be what the portal has: drop rows of codes no longer registered.
    await prisma.registeredHandler.deleteMany({ where: { portalId, kind, code: { notIn: [...wanted[kind].keys()] } } });
  }
  return report;
}
