/**
 * What a file in handlers/ exports: one robot or workflow action, as data plus one function.
 * Registration, call validation, the admin pages and the demo all read this same definition.
 */
import type { ActivityOrRobotConfig, ActivityProperty, ActivityPropertyType } from '@bitrix24/b24jssdk';
import type { Logger } from 'pino';

export type HandlerKind = 'robot' | 'activity' | 'both';

/** The registration fields of bizproc.robot.add / bizproc.activity.add that a handler declares. */
export type HandlerConfig = Omit<ActivityOrRobotConfig, 'type' | 'CODE' | 'HANDLER' | 'PLACEMENT_HANDLER'> & {
  NAME: NonNullable<ActivityOrRobotConfig['NAME']>;
};

/** The value a property of a given Type arrives as after coercion. */
interface PropertyValueByType {
  bool: boolean;
  date: string; // YYYY-MM-DD
  datetime: string; // ISO 8601
  double: number;
  int: number;
  select: string;
  string: string;
  text: string;
  user: number; // `user_12` → 12
}

type ValueOf<P extends ActivityProperty> = P['Multiple'] extends 'Y'
  ? Array<PropertyValueByType[P['Type']]>
  : PropertyValueByType[P['Type']];

/** The typed property values `run` receives, derived from PROPERTIES: required ones are always there. */
export type PropertyValues<Props extends Record<string, ActivityProperty> | undefined> =
  Props extends Record<string, ActivityProperty>
    ? { [K in keyof Props as Props[K]['Required'] extends 'Y' ? K : never]: ValueOf<Props[K]> } & {
        [K in keyof Props as Props[K]['Required'] extends 'Y' ? never : K]?: ValueOf<Props[K]>;
      }
    : Record<string, never>;

export type ReturnValues<Props extends Record<string, ActivityProperty> | undefined> =
  Props extends Record<string, ActivityProperty> ? { [K in keyof Props]?: unknown } : Record<string, never>;

/** The portal's REST, as handlers see it: the app's one portal client (refresh, rate budget). */
export interface PortalRest {
  call<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T>;
  /** Every page of a list method (`start`/`next`), concatenated. */
  listAll<T = unknown>(method: string, params?: Record<string, unknown>, itemsKey?: string): Promise<T[]>;
  /** Many calls through `batch`, 50 a request; answers in the order given. */
  batch<T = unknown>(calls: Array<[method: string, params: Record<string, unknown>]>): Promise<Array<BatchOutcome<T>>>;
}

export type BatchOutcome<T> = { ok: true; result: T } | { ok: false; error: string; description: string };

export interface RunContext<Props extends Record<string, ActivityProperty> | undefined> {
  properties: PropertyValues<Props>;
  document: {
    id: [string, string, string];
    type: [string, string, string] | null;
    /** the number after the last `_` of the document id (DEAL_12 → 12), or null */
    entityId: number | null;
  };
  workflowId: string;
  /** The user whose token the portal gave the call (AUTH_USER_ID or the workflow's starter). */
  userId: number | null;
  portal: PortalRest;
  /** Writes a line to the workflow log (bizproc.activity.log). */
  log(message: string): Promise<void>;
  /** The portal's language, for messages a user reads. */
  lang: string;
  /** Aborted when the workflow stops waiting (timeout_duration). */
  signal: AbortSignal;
  logger: Logger;
}

/** A failure the user caused (bad template id, a task that is not theirs): answered, not retried. */
export class HandlerError extends Error {
  constructor(
    message: string,
    readonly returnValues: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface HandlerDefinition<
  Props extends Record<string, ActivityProperty> | undefined = Record<string, ActivityProperty> | undefined,
  Returns extends Record<string, ActivityProperty> | undefined = Record<string, ActivityProperty> | undefined,
> {
  /** The CODE at bizproc.robot.add / bizproc.activity.add: stable across versions. */
  code: string;
  kind: HandlerKind;
  config: HandlerConfig & { PROPERTIES?: Props; RETURN_PROPERTIES?: Returns };
  run(ctx: RunContext<Props>): Promise<ReturnValues<Returns>>;
}

/** Keeps the literal types of PROPERTIES so `run` sees typed values. */
export function defineHandler<
  const Props extends Record<string, ActivityProperty> | undefined,
  const Returns extends Record<string, ActivityProperty> | undefined,
>(definition: HandlerDefinition<Props, Returns>): HandlerDefinition<Props, Returns> {
  return definition;
}

export type { ActivityProperty, ActivityPropertyType };
