/**
 * Registration sync: make a portal's robots and actions match the definitions in handlers/.
 * Missing ones are added, changed ones updated, ones no longer defined deleted. What we last
 * registered is fingerprinted per portal, so a second sync with nothing changed reports
 * nothing and calls only the two list methods. Run on install, on every update (an update
 * removes the app's robots), and on demand.
 */
import { createHash } from 'node:crypto';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { PortalRest } from './definition.ts';
import type { Catalog } from './catalog.ts';

export type RegistrationKind = 'robot' | 'activity';

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

/** The fields a definition registers under, with URLs under the app's public base URL. */
export function registrationFields(catalog: Catalog, code: string, baseUrl: string, defaultAuthUserId: number | null) {
  const definition = catalog.get(code)!;
  const { config } = definition;
  const base = baseUrl.replace(/\/+$/, '');
  const fields: Record<string, unknown> = {
    ...config,
    HANDLER: `${base}/handlers/${code}`,
    USE_SUBSCRIPTION: config.USE_SUBSCRIPTION ?? 'Y',
  };
  const authUserId = config.AUTH_USER_ID ?? defaultAuthUserId;
  if (authUserId) fields.AUTH_USER_ID = authUserId;
  if (config.USE_PLACEMENT === 'Y') fields.PLACEMENT_HANDLER = `${base}/placement/${code}`;
  return fields;
}

export function kindsOf(catalog: Catalog, code: string): RegistrationKind[] {
  const kind = catalog.get(code)!.kind;
  return kind === 'both' ? ['robot', 'activity'] : [kind];
}

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

  for (const kind of ['robot', 'activity'] as const) {
    const onPortal = new Set(await portal.call<string[]>(API[kind].list));
    const wanted = [...catalog.keys()].filter((code) => kindsOf(catalog, code).includes(kind));
    for (const code of wanted) {
      const fields = registrationFields(catalog, code, options.baseUrl, options.defaultAuthUserId);
      const fingerprint = createHash('sha256').update(JSON.stringify(fields)).digest('hex');
      const label = `${kind}:${code}`;
      if (!onPortal.has(code)) {
        await portal.call(API[kind].add, { CODE: code, ...fields });
        report.added.push(label);
      } else if (remembered.get(label) !== fingerprint) {
        const { CODE: _code, ...changes } = fields as Record<string, unknown> & { CODE?: string };
        await portal.call(API[kind].update, { CODE: code, FIELDS: changes });
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
    for (const code of onPortal) {
      if (wanted.includes(code)) continue;
      await portal.call(API[kind].delete, { CODE: code });
      await prisma.registeredHandler.deleteMany({ where: { portalId, kind, code } });
      report.deleted.push(`${kind}:${code}`);
    }
  }
  return report;
}
