/**
 * bizproc.robot.add/update/list/delete and bizproc.activity.add/update/list/delete as the core
 * answers them (modules/bizproc/lib/restservice.php): application context and an administrator
 * only; robots and actions of one app share one CODE namespace (the core keys both by
 * INTERNAL_CODE = md5(APP_ID@CODE), without the robot flag), while update/delete/list see only
 * their own kind; parameter names in any case; the reference pages' error codes and texts.
 */
import { createHash } from 'node:crypto';
import { RestError, type ActivityRegistration, type AppInstallation, type CallContext, type MethodDefinition, type RobotProperty } from '../contract.ts';
import { checkCallback, requireAdmin, requireAppContext } from '../params.ts';

type Kind = ActivityRegistration['kind'];
type Fields = Record<string, any>;

const invalid = (description: string) => new RestError('ERROR_ACTIVITY_VALIDATION_FAILURE', description, 400);
const notFound = () => new RestError('ERROR_ACTIVITY_NOT_FOUND', 'Activity or Robot not found!', 400);

/** `rest_` + the core's INTERNAL_CODE: the Type under which templates reference the step. */
export function internalTypeOf(clientId: string, code: string): string {
  return `rest_${createHash('md5').update(`${clientId}@${code}`).digest('hex')}`;
}

/**
 * Keys in upper case, recursively, except the direct keys of PROPERTIES, RETURN_PROPERTIES and
 * OPTIONS (property ids and option values keep their case), as the core's prepareActivityData.
 */
function upperKeys(value: unknown, keepKeys = false): unknown {
  if (!isArrayLike(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => {
      const name = keepKeys ? key : key.toUpperCase();
      return [name, upperKeys(inner, ['PROPERTIES', 'RETURN_PROPERTIES', 'OPTIONS'].includes(name))];
    }),
  );
}

/** What PHP's is_array() says of a decoded parameter: a JSON object or array, or bracket keys. */
function isArrayLike(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** PHP's empty(): null, '', '0', 0, false and empty arrays. */
function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === '' || value === '0' || value === 0 || value === false) return true;
  return isArrayLike(value) && Object.keys(value).length === 0;
}

function validateCode(code: unknown): string {
  if (isEmpty(code)) throw invalid('Empty activity code!');
  if (typeof code !== 'string' && typeof code !== 'number') throw invalid('Wrong activity code!');
  if (!/^[a-z0-9.\-_]+$/i.test(String(code))) throw invalid('Wrong activity code!');
  return String(code);
}

function validateProperties(value: unknown): Record<string, RobotProperty> {
  if (!isArrayLike(value)) throw invalid('Wrong properties array!');
  const result: Record<string, RobotProperty> = {};
  for (const [key, raw] of Object.entries(value)) {
    if (!/^[a-z][a-z0-9_]*$/i.test(key)) throw invalid(`Wrong property key (${key})!`);
    const property = isArrayLike(raw) ? raw : {};
    if (isEmpty(property.NAME)) throw invalid(`Empty property NAME (${key})!`);
    result[key] = {
      Name: property.NAME as RobotProperty['Name'],
      Description: property.DESCRIPTION as RobotProperty['Description'],
      Type: String(property.TYPE ?? 'string'),
      Options: property.OPTIONS as RobotProperty['Options'],
      Required: property.REQUIRED === 'Y' ? 'Y' : 'N',
      Multiple: property.MULTIPLE === 'Y' ? 'Y' : 'N',
      Default: property.DEFAULT,
    };
  }
  return result;
}

/** A document type the document service knows the fields of: three non-empty strings. */
function validateDocumentType(value: unknown): [string, string, string] {
  const parts = isArrayLike(value) ? Object.values(value) : [];
  if (parts.length !== 3 || parts.some((p) => typeof p !== 'string' || p === '')) throw invalid('Wrong activity DOCUMENT_TYPE!');
  return parts as [string, string, string];
}

function validateFilter(value: unknown): ActivityRegistration['filter'] {
  if (!isArrayLike(value)) throw invalid('Wrong activity FILTER!');
  return value as ActivityRegistration['filter'];
}

function installationOf(call: CallContext): { clientId: string; installation: AppInstallation } {
  const app = requireAppContext(call);
  requireAdmin(call);
  return { clientId: app.application.clientId, installation: app.installation };
}

function mapOf(installation: AppInstallation, kind: Kind): Map<string, ActivityRegistration> {
  return kind === 'robot' ? installation.robots : installation.activities;
}

function add(call: CallContext, kind: Kind, params: Fields): true {
  const { clientId, installation } = installationOf(call);
  const data = upperKeys(params) as Fields;
  if (isEmpty(data)) throw invalid('Empty data!');
  const code = validateCode(data.CODE);
  const handler = checkCallback(data.HANDLER);
  if (isEmpty(data.NAME)) throw invalid('Empty activity NAME!');
  const properties = data.PROPERTIES !== undefined && data.PROPERTIES !== null ? validateProperties(data.PROPERTIES) : {};
  const returnProperties = data.RETURN_PROPERTIES !== undefined && data.RETURN_PROPERTIES !== null ? validateProperties(data.RETURN_PROPERTIES) : {};
  // validateRobot does not look at DOCUMENT_TYPE; validateActivity does.
  const documentType = data.DOCUMENT_TYPE !== undefined && data.DOCUMENT_TYPE !== null ? (kind === 'activity' ? validateDocumentType(data.DOCUMENT_TYPE) : (data.DOCUMENT_TYPE as [string, string, string])) : undefined;
  const filter = data.FILTER !== undefined && data.FILTER !== null ? validateFilter(data.FILTER) : undefined;
  if (installation.robots.has(code) || installation.activities.has(code)) {
    throw new RestError('ERROR_ACTIVITY_ALREADY_INSTALLED', 'Activity or Robot already installed!', 400);
  }
  const usePlacement = data.USE_PLACEMENT === 'Y' ? 'Y' : 'N';
  const subscription = String(data.USE_SUBSCRIPTION ?? '');
  mapOf(installation, kind).set(code, {
    kind,
    clientId,
    code,
    internalType: internalTypeOf(clientId, code),
    handler,
    authUserId: toInt(data.AUTH_USER_ID),
    useSubscription: subscription === 'Y' || subscription === 'N' ? subscription : '',
    name: params[keyOf(params, 'NAME')],
    description: data.DESCRIPTION === undefined ? undefined : params[keyOf(params, 'DESCRIPTION')],
    properties,
    returnProperties,
    documentType,
    filter,
    usePlacement,
    placementHandler: usePlacement === 'Y' ? checkCallback(data.PLACEMENT_HANDLER) : undefined,
  });
  return true;
}

function update(call: CallContext, kind: Kind, params: Fields): true {
  const { installation } = installationOf(call);
  const data = upperKeys(params) as Fields;
  const code = validateCode(data.CODE);
  const previous = mapOf(installation, kind).get(code);
  if (!previous) throw notFound();
  const fields = isArrayLike(data.FIELDS) && !isEmpty(data.FIELDS) ? (data.FIELDS as Fields) : null;
  if (!fields) throw invalid('No fields to update');
  const rawFields = params[keyOf(params, 'FIELDS')] as Fields;
  const next: ActivityRegistration = { ...previous };
  let changed = false;
  const set = <K extends keyof ActivityRegistration>(key: K, value: ActivityRegistration[K]) => {
    next[key] = value;
    changed = true;
  };
  const given = (name: string) => fields[name] !== undefined && fields[name] !== null;
  if (given('HANDLER')) set('handler', checkCallback(fields.HANDLER));
  if (given('AUTH_USER_ID')) set('authUserId', toInt(fields.AUTH_USER_ID));
  if (given('USE_SUBSCRIPTION')) {
    const subscription = String(fields.USE_SUBSCRIPTION);
    set('useSubscription', subscription === 'Y' || subscription === 'N' ? subscription : '');
  }
  if (given('USE_PLACEMENT')) set('usePlacement', fields.USE_PLACEMENT === 'Y' ? 'Y' : 'N');
  if (!isEmpty(fields.NAME)) set('name', rawFields[keyOf(rawFields, 'NAME')]);
  if (given('DESCRIPTION')) set('description', rawFields[keyOf(rawFields, 'DESCRIPTION')]);
  if (given('PROPERTIES')) set('properties', validateProperties(fields.PROPERTIES));
  if (given('RETURN_PROPERTIES')) set('returnProperties', validateProperties(fields.RETURN_PROPERTIES));
  if (given('DOCUMENT_TYPE')) set('documentType', isEmpty(fields.DOCUMENT_TYPE) ? undefined : validateDocumentType(fields.DOCUMENT_TYPE));
  if (given('FILTER')) set('filter', isEmpty(fields.FILTER) ? undefined : validateFilter(fields.FILTER));
  if (!changed) throw invalid('No fields to update');
  // The core validates the top-level PLACEMENT_HANDLER here (a slip); FIELDS[PLACEMENT_HANDLER] is what the page documents.
  if (given('PLACEMENT_HANDLER')) next.placementHandler = checkCallback(fields.PLACEMENT_HANDLER);
  if (next.usePlacement === 'N') next.placementHandler = undefined;
  mapOf(installation, kind).set(code, next);
  return true;
}

function remove(call: CallContext, kind: Kind, params: Fields): true {
  const { installation } = installationOf(call);
  const code = validateCode((upperKeys(params) as Fields).CODE);
  if (!mapOf(installation, kind).delete(code)) throw notFound();
  return true;
}

function list(call: CallContext, kind: Kind): string[] {
  const { installation } = installationOf(call);
  return [...mapOf(installation, kind).keys()];
}

/** (int) in PHP: leading digits, else 0. */
function toInt(value: unknown): number {
  const parsed = Number.parseInt(String(value ?? '0'), 10);
  return Number.isNaN(parsed) ? 0 : parsed;
}

/** The caller's own spelling of a key (NAME keeps its language keys as sent). */
function keyOf(params: Fields, upper: string): string {
  return Object.keys(params).find((k) => k.toUpperCase() === upper) ?? upper;
}

function methodsFor(kind: Kind, prefix: string): Record<string, MethodDefinition> {
  return {
    [`${prefix}.add`]: { scope: 'bizproc', handler: (call, params) => add(call, kind, params) },
    [`${prefix}.update`]: { scope: 'bizproc', handler: (call, params) => update(call, kind, params) },
    [`${prefix}.list`]: { scope: 'bizproc', handler: (call) => list(call, kind) },
    [`${prefix}.delete`]: { scope: 'bizproc', handler: (call, params) => remove(call, kind, params) },
  };
}

export const robotMethods: Record<string, MethodDefinition> = {
  ...methodsFor('robot', 'bizproc.robot'),
  ...methodsFor('activity', 'bizproc.activity'),
};
