/**
 * The emulator's shared model: the state of every emulated portal and the seams between the
 * REST core (dispatch, OAuth, lifecycle) and the workflow side (templates, runs, tasks, queue
 * server). Both sides import only this file from each other, so either can change inside.
 *
 * The emulator never imports app code, and the app never imports this: they meet over HTTP.
 */

import type { OperatingWindow } from './rest/operating-time.ts';

export type Lang = 'en' | 'ru' | 'de';
export type LocalizedText = string | Partial<Record<Lang | string, string>>;

/** An error answered as `{"error": code, "error_description": description}` with `status`. */
export class RestError extends Error {
  constructor(
    readonly code: string,
    readonly description: string,
    readonly status = 400,
  ) {
    super(`${code}: ${description}`);
  }
}

export interface Department {
  id: number;
  name: string;
  parentId: number | null;
  headUserId: number | null;
}

export interface User {
  id: number;
  active: boolean;
  name: string;
  lastName: string;
  email: string;
  position: string;
  departmentIds: number[];
  isAdmin: boolean;
  /** false for users who may not receive delegated work (e.g. extranet, fired). */
  canReceiveDelegation: boolean;
}

/** A CRM document, e.g. id `DEAL_12`, type `['crm','CCrmDocumentDeal','DEAL']`. */
export interface CrmDocument {
  documentId: [string, string, string];
  documentType: [string, string, string];
  fields: Record<string, unknown>;
  /** ASSIGNED_BY_ID, for "the document's responsible". */
  responsibleId: number;
}

/** An application as registered in the partner area (client id/secret, where it lives). */
export interface Application {
  clientId: string;
  clientSecret: string;
  /** The app's URL; handler hosts must match its host (ERROR_HANDLER_URL_MATCH). */
  appUrl: string;
  /** Opened (POSTed) on install; defaults to appUrl. */
  installUrl: string;
  /** The app's install-event handler (ONAPPINSTALL for a headless install); optional. */
  eventUrl?: string;
  scopes: string[];
  version: number;
  /** Short code used in internal activity codes. */
  code: string;
}

/** One access/refresh grant, as the OAuth server tracks it. */
export interface TokenGrant {
  accessToken: string;
  refreshToken: string;
  clientId: string;
  memberId: string;
  userId: number;
  scope: string[];
  /** unix ms */
  accessExpiresAt: number;
  refreshExpiresAt: number;
  accessRevoked: boolean;
  refreshRevoked: boolean;
}

export interface RobotProperty {
  Name: LocalizedText;
  Description?: LocalizedText;
  Type: string;
  Options?: Record<string, string> | Array<unknown>;
  Required?: 'Y' | 'N';
  Multiple?: 'Y' | 'N';
  Default?: unknown;
}

/** A robot or action registered by an application (bizproc.robot.add / bizproc.activity.add). */
export interface ActivityRegistration {
  kind: 'robot' | 'activity';
  clientId: string;
  code: string;
  /** `rest_<hash of app + code>`: the Type under which templates reference it. */
  internalType: string;
  handler: string;
  authUserId: number;
  useSubscription: 'Y' | 'N' | '';
  name: LocalizedText;
  description?: LocalizedText;
  properties: Record<string, RobotProperty>;
  returnProperties: Record<string, RobotProperty>;
  documentType?: [string, string, string];
  filter?: { INCLUDE?: unknown[]; EXCLUDE?: unknown[] };
  usePlacement: 'Y' | 'N';
  placementHandler?: string;
}

/** The state of one application on one portal. */
export interface AppInstallation {
  clientId: string;
  installed: boolean;
  /** false until BX24.installFinish() (or the headless path): no events are delivered before. */
  installFinished: boolean;
  applicationToken: string;
  version: number;
  /** event name (upper case) → handler URLs bound with event.bind */
  events: Map<string, Array<{ handler: string; authType: number }>>;
  robots: Map<string, ActivityRegistration>;
  activities: Map<string, ActivityRegistration>;
  /**
   * The Market's licence of this installation (docs api-reference/common/system/app-info.md):
   * STATUS F/D/T/P/L/S, PAYMENT_EXPIRED Y/N, DAYS left (negative once expired). Absent: a local app.
   */
  payment?: { status: string; expired: boolean; days: number | null };
}

export interface LeakyBucket {
  level: number;
  /** unix ms of the last drain computation */
  updatedAt: number;
}

// ---- workflow side (owned by workflow/) ----

/** One activity node of a template tree, as stored in a .bpt file. */
export interface ActivityNode {
  Type: string;
  Name: string;
  Properties: Record<string, unknown>;
  Children: ActivityNode[];
  Activated?: 'Y' | 'N';
  [extra: string]: unknown;
}

export interface WorkflowTemplate {
  id: number;
  moduleId: string;
  entity: string;
  documentType: [string, string, string];
  /** 0 none, 1 on create, 2 on change, 3 both (AUTO_EXECUTE) */
  autoExecute: number;
  name: string;
  description: string;
  /** TEMPLATE of the .bpt: the root activity tree */
  template: ActivityNode[];
  parameters: Record<string, unknown>;
  variables: Record<string, unknown>;
  constants: Record<string, unknown>;
  documentFields: Record<string, unknown>;
  /** client id of the app that added it, null for portal-made templates */
  ownerClientId: string | null;
  userId: number;
  modified: string;
  isModified: boolean;
  active: boolean;
}

export type WorkflowStatus = 'running' | 'completed' | 'terminated' | 'failed';

export interface WorkflowLogLine {
  at: string;
  activity: string;
  message: string;
}

export interface WorkflowInstance {
  id: string;
  templateId: number;
  documentId: [string, string, string];
  startedBy: number;
  started: string;
  modified: string;
  status: WorkflowStatus;
  statusMessage?: string;
  parameters: Record<string, unknown>;
  variables: Record<string, unknown>;
  log: WorkflowLogLine[];
  /** return values each app step received, keyed by the step's Name */
  returnValues: Record<string, Record<string, unknown>>;
}

export type BizprocTaskKind = 'approve' | 'review' | 'request' | 'request-reject';

export interface BizprocTask {
  id: number;
  workflowId: string;
  activityName: string;
  kind: BizprocTaskKind;
  name: string;
  description: string;
  userIds: number[];
  /** per user: 0 waiting, 1 yes, 2 no, 3 ok, 4 cancelled */
  userStatus: Map<number, number>;
  status: 0 | 1 | 2 | 3 | 4 | 5;
  created: string;
  modified: string;
  documentId: [string, string, string];
  fields?: unknown[];
  delegationType: number;
}

/** A task of the Tasks module (tasks.task.*). */
export interface Task {
  id: number;
  title: string;
  createdBy: number;
  responsibleId: number;
  /** "task control": the creator must accept the result */
  taskControl: boolean;
  /** 2 pending, 3 in progress, 4 supposedly completed (awaiting control), 5 completed, 6 deferred */
  status: number;
  changedDate: string;
}

export interface WorkflowStore {
  templates: Map<number, WorkflowTemplate>;
  instances: Map<string, WorkflowInstance>;
  bizprocTasks: Map<number, BizprocTask>;
  tasks: Map<number, Task>;
}

export interface Portal {
  memberId: string;
  domain: string;
  /** https://<domain>/rest/ or, locally, <emulator base>/rest/ */
  clientEndpoint: string;
  /** how the portal is reached: Bitrix24 cloud portals are https; an on-premise one may be http */
  protocol: 'http' | 'https';
  /**
   * `on-premise`: a self-hosted Bitrix24 of an older version, which lacks fields newer portals
   * send: the install frame's APPLICATION_TOKEN (the install event brings it), and the handler
   * call's document_type and auth[refresh_token] (protocol notes §1 and §3: "older portals may
   * omit it"; docs settings/app-installation and cloud-and-on-premise).
   */
  kind: 'cloud' | 'on-premise';
  users: Map<number, User>;
  departments: Map<number, Department>;
  documents: Map<string, CrmDocument>;
  apps: Map<string, AppInstallation>;
  /** webhook code → the user whose rights it carries and its scopes */
  webhooks: Map<string, { userId: number; scopes: string[] }>;
  workflows: WorkflowStore;
  bucket: LeakyBucket;
  /** `clientId:method` → its operating time over the last ten minutes */
  operating: Map<string, OperatingWindow>;
  requestCount: number;
  languageId: Lang;
  /** the portal's fixed UTC offset; dates in answers carry it (see dates.ts) */
  utcOffsetMinutes: number;
}

/** Who is calling a REST method, as the dispatcher established it. */
export interface CallContext {
  emulator: EmulatorContext;
  portal: Portal;
  user: User;
  /** null when called through an incoming webhook (no application context) */
  app: { application: Application; installation: AppInstallation; grant: TokenGrant } | null;
  scopes: Set<string>;
}

/** What a method handler answers: a plain result, or a page of a list. */
export type MethodResult = unknown | ListPage;
export interface ListPage {
  readonly kind: 'list';
  result: unknown;
  total: number;
  next?: number;
}

export type MethodHandler = (ctx: CallContext, params: Record<string, any>) => MethodResult | Promise<MethodResult>;

export interface MethodDefinition {
  scope: string;
  /** narrower scopes that also open the method (user_basic, user_brief for user.get) */
  alsoScopes?: string[];
  handler: MethodHandler;
}

/** One request the queue server made to a handler, and what came of it. */
export interface QueueDelivery {
  id: number;
  memberId: string;
  url: string;
  /** the form body exactly as sent */
  body: string;
  /** the same fields decoded (bracket keys kept flat: `auth[member_id]`) */
  fields: Array<[string, string]>;
  /** when the workflow step handed the call to the queue server */
  queuedAt: string;
  /** when a connection to the handler took it; null while it waits for one, or when none came */
  sentAt: string | null;
  status: number | null;
  error?: string;
  eventToken?: string;
  workflowId?: string;
}

/** Faults injected through /_emulator/faults. */
export interface FaultRule {
  id: number;
  /** method name, `oauth`, or `*` */
  method: string;
  memberId?: string;
  /** respond with this error (e.g. QUERY_LIMIT_EXCEEDED / 503) */
  error?: { code: string; description?: string; status: number };
  delayMs?: number;
  /** destroy the socket without answering */
  drop?: boolean;
  /** how many requests it applies to; undefined = until cleared */
  remaining?: number;
}

export interface EmulatorConfig {
  /** base URL the emulator is reachable at, e.g. http://127.0.0.1:4000 */
  baseUrl: string;
  accessTokenTtlSec: number;
  refreshTokenTtlSec: number;
  rateLimit: { drainPerSec: number; maxBurst: number };
  /** seconds of server time per method per 10 minutes before OPERATION_TIME_LIMIT */
  operatingLimitSec: number;
}

/** The seams each side offers the other. */
export interface EmulatorContext {
  config: EmulatorConfig;
  portals: Map<string, Portal>;
  applications: Map<string, Application>;
  /** Issue a fresh grant for a user of a portal in an app's context (install, queue server). */
  issueGrant(portal: Portal, clientId: string, userId: number): TokenGrant;
  /** POST an app event (ONAPPINSTALL, …) to every handler bound on that portal. */
  deliverEvent(portal: Portal, clientId: string, event: string, data: Record<string, unknown>): Promise<void>;
  /** The workflow side: start a workflow (used by REST and by the control API). */
  workflows: WorkflowEngine;
  deliveries: QueueDelivery[];
  /** Gives a portal a new address (its old one then answers 302 to the new); set once the emulator listens. */
  movePortal?(portal: Portal): Promise<{ from: string; to: string }>;
}

export interface WorkflowEngine {
  start(portal: Portal, params: {
    templateId: number;
    documentId: [string, string, string];
    parameters?: Record<string, unknown>;
    startedBy: number;
  }): Promise<WorkflowInstance>;
  /** Resolves when a workflow leaves `running` (or after timeoutMs). */
  waitFor(portal: Portal, workflowId: string, timeoutMs: number): Promise<WorkflowInstance>;
  /** Closes the queue server's connections to handlers. */
  close(): void;
}

/** The PROTOCOL a portal puts in its frame and install URLs: 1 = https, 0 = http. */
export function protocolFlag(portal: Portal): '0' | '1' {
  return portal.protocol === 'https' ? '1' : '0';
}

/** A page of a list method: `{result, total, next}` with the REST page size of 50. */
export function listPage(items: unknown[], start: number, pageSize = 50): ListPage {
  const page = items.slice(start, start + pageSize);
  const next = start + pageSize < items.length ? start + pageSize : undefined;
  return { kind: 'list', result: page, total: items.length, next };
}

export function isListPage(value: unknown): value is ListPage {
  return typeof value === 'object' && value !== null && (value as ListPage).kind === 'list';
}
