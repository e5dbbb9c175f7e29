/**
 * Emulated portals and their deterministic seed: the same users, departments, deals and webhook
 * every run, so tests and the demo can name them.
 *
 * Users: 1 Anna Admin (administrator, head of Company), 2 Boris Manager (head of Sales),
 * 3 Clara Sales, 4 Dmitri Support, 5 Eva Support-Lead (head of Support), 6 Felix Extranet (may
 * not receive delegated work), 7 Greta Former (inactive). Departments: 1 Company, 2 Sales (in 1),
 * 3 Support (in 1). Deals DEAL_1…DEAL_5.
 *
 * `people: 'showcase'` seeds the same structure (ids, roles, departments, deals) under realistic,
 * invented names and deal titles, in the portal's language: for the Market's screenshots, which
 * refuse test users. The default seed never changes: tests name its users.
 */
import { createHash } from 'node:crypto';
import type { CrmDocument, Department, EmulatorContext, Lang, Portal, User } from './contract.ts';
import { seedPortalWorkflows } from './workflow/index.ts';

const NAMES = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];

const USERS: Array<Omit<User, 'email'> & { mailbox: string }> = [
  { id: 1, active: true, name: 'Anna', lastName: 'Admin', mailbox: 'anna', position: 'Director', departmentIds: [1], isAdmin: true, canReceiveDelegation: true },
  { id: 2, active: true, name: 'Boris', lastName: 'Manager', mailbox: 'boris', position: 'Head of Sales', departmentIds: [2], isAdmin: false, canReceiveDelegation: true },
  { id: 3, active: true, name: 'Clara', lastName: 'Sales', mailbox: 'clara', position: 'Sales Manager', departmentIds: [2], isAdmin: false, canReceiveDelegation: true },
  { id: 4, active: true, name: 'Dmitri', lastName: 'Support', mailbox: 'dmitri', position: 'Support Engineer', departmentIds: [3], isAdmin: false, canReceiveDelegation: true },
  { id: 5, active: true, name: 'Eva', lastName: 'Lead', mailbox: 'eva', position: 'Head of Support', departmentIds: [3], isAdmin: false, canReceiveDelegation: true },
  { id: 6, active: true, name: 'Felix', lastName: 'Extranet', mailbox: 'felix', position: 'Contractor', departmentIds: [], isAdmin: false, canReceiveDelegation: false },
  { id: 7, active: false, name: 'Greta', lastName: 'Former', mailbox: 'greta', position: 'Former Employee', departmentIds: [2], isAdmin: false, canReceiveDelegation: false },
];

/** The showcase's people by id: names, surnames and positions per portal language (de shares en's). */
const SHOWCASE_PEOPLE: Record<'en' | 'ru', Record<number, [string, string, string]>> = {
  en: {
    1: ['Olivia', 'Bennett', 'Managing Director'],
    2: ['Marcus', 'Reyes', 'Head of Sales'],
    3: ['Sofia', 'Lindqvist', 'Account Manager'],
    4: ['Daniel', 'Okafor', 'Support Engineer'],
    5: ['Hannah', 'Weber', 'Head of Customer Care'],
    6: ['Lucas', 'Moreau', 'Implementation Partner'],
    7: ['Emily', 'Carter', 'Account Manager'],
  },
  ru: {
    1: ['Ольга', 'Белова', 'Генеральный директор'],
    2: ['Максим', 'Родионов', 'Руководитель отдела продаж'],
    3: ['Софья', 'Лебедева', 'Менеджер по работе с клиентами'],
    4: ['Даниил', 'Орлов', 'Инженер поддержки'],
    5: ['Анна', 'Воронцова', 'Руководитель службы заботы'],
    6: ['Лев', 'Морозов', 'Партнёр по внедрению'],
    7: ['Екатерина', 'Карпова', 'Менеджер по работе с клиентами'],
  },
};
const SHOWCASE_DEPARTMENTS: Record<'en' | 'ru', [string, string, string]> = { en: ['Northbridge Office Supply', 'Sales', 'Customer Care'], ru: ['Северный мост', 'Отдел продаж', 'Служба заботы'] };
const SHOWCASE_DEALS: Record<'en' | 'ru', string[]> = {
  en: ['Office chairs for Brightline Logistics', 'Annual supply contract — Orion Dental', 'Warehouse scanners for Fernhill Foods', 'Meeting room fit-out — Kestrel Architects', 'Printer fleet renewal — Bluewater Travel'],
  ru: ['Кресла для «Светлой логистики»', 'Годовой договор поставки — «Орион Дентал»', 'Сканеры для склада «Вересковые продукты»', 'Оснащение переговорных — «Кестрел Архитектс»', 'Обновление принтеров — «Голубая волна»'],
};

export type PeopleSeed = 'seed' | 'showcase';

const DEPARTMENTS: Department[] = [
  { id: 1, name: 'Company', parentId: null, headUserId: 1 },
  { id: 2, name: 'Sales', parentId: 1, headUserId: 2 },
  { id: 3, name: 'Support', parentId: 1, headUserId: 5 },
];

const DEAL_RESPONSIBLES = [3, 3, 4, 2, 3];

export function memberIdFor(index: number): string {
  return createHash('md5').update(`emulated-portal-${index}`).digest('hex');
}

export function webhookCodeFor(memberId: string): string {
  return createHash('md5').update(`${memberId}:admin-webhook`).digest('hex').slice(0, 16);
}

/** A new portal; its domain and endpoint are set once it has a port of its own. */
export function createPortal(ctx: EmulatorContext, index: number, languageId: Lang = 'en', people: PeopleSeed = 'seed'): Portal {
  const memberId = memberIdFor(index);
  const label = NAMES[index] ?? `portal${index}`;
  const showcase = people === 'showcase' ? (languageId === 'ru' ? 'ru' : 'en') : null;
  const portal: Portal = {
    memberId,
    domain: `${label}.bitrix24.test`,
    clientEndpoint: `${ctx.config.baseUrl}/rest/`,
    protocol: 'https',
    kind: 'cloud',
    users: new Map(
      USERS.map(({ mailbox, ...u }) => {
        if (!showcase) return [u.id, { ...u, email: `${mailbox}@${label}.example` }];
        const [name, lastName, position] = SHOWCASE_PEOPLE[showcase][u.id]!;
        // invented people at a reserved domain (RFC 2606): no real address appears in a screenshot
        const [first, last] = SHOWCASE_PEOPLE.en[u.id]!;
        return [u.id, { ...u, name, lastName, position, email: `${first}.${last}@northbridge.example`.toLowerCase() }];
      }),
    ),
    departments: new Map(DEPARTMENTS.map((d, i) => [d.id, showcase ? { ...d, name: SHOWCASE_DEPARTMENTS[showcase][i]! } : { ...d }])),
    documents: new Map(
      DEAL_RESPONSIBLES.map((responsibleId, i): [string, CrmDocument] => {
        const code = `DEAL_${i + 1}`;
        return [
          code,
          {
            documentId: ['crm', 'CCrmDocumentDeal', code],
            documentType: ['crm', 'CCrmDocumentDeal', 'DEAL'],
            fields: { ID: i + 1, TITLE: showcase ? SHOWCASE_DEALS[showcase][i]! : `Deal #${i + 1}`, ASSIGNED_BY_ID: responsibleId, CREATED_BY: 1, OPPORTUNITY: (i + 1) * 1000, STAGE_ID: 'NEW' },
            responsibleId,
          },
        ];
      }),
    ),
    apps: new Map(),
    webhooks: new Map([[webhookCodeFor(memberId), { userId: 1, scopes: ['bizproc', 'task', 'user', 'department', 'crm', 'placement'] }]]),
    workflows: { templates: new Map(), instances: new Map(), bizprocTasks: new Map(), tasks: new Map() },
    bucket: { level: 0, updatedAt: Date.now() },
    operating: new Map(),
    requestCount: 0,
    languageId,
    // Europe/Berlin in winter, as in the docs' examples (`…+01:00`)
    utcOffsetMinutes: 60,
  };
  seedPortalWorkflows(portal);
  return portal;
}
