/**
 * bizproc.robot.add/update/list/delete and bizproc.activity.add/update/list/delete, as their
 * reference pages specify: application context and an administrator only, HANDLER on the app's
 * own host, CODE unique per app, properties validated, the pages' error codes.
 */
import { createHash } from 'node:crypto';
import { RestError, type ActivityRegistration, type CallContext, type MethodDefinition, type RobotProperty } from '../contract.ts';
import { param, requireAdmin, requireAppContext } from '../params.ts';

type Kind = ActivityRegistration['kind'];

const fail = (description: string) => new RestError('ERROR_ACTIVITY_VALIDATION_FAILURE', description, 400);

export function internalTypeOf(clientId: string, code: string): string {
  return `rest_${createHash('md5').update(`${clientId}:${code}`).digest('hex')}`;
}

function registry(call: CallContext, kind: Kind) {
  const app = requireAppContext(call);
  requireAdmin(call, 'Access denied! Method executed by a non-administrator');
  return { app, map: kind === 'robot' ? app.installation.robots : app.installation.activities };
}

function validCode(code: unknown): string {
  if (code === undefined || code === null || code === '') throw fail('Empty activity code!');
  if (typeof code !== 'string' || !/^[a-z0-9.\-_]+$/i.test(code)) throw fail('Wrong activity code!');
  return code;
}

function properties(value: unknown, what: 'PROPERTIES' | 'RETURN_PROPERTIES'): Record<string, RobotProperty> {
  if (value === undefined || value === null || value === '') return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw fail('Wrong properties array!');
  const result: Record<string, RobotProperty> = {};
  for (const [key, raw] of Object.entries(value)) {
    if (!/^[a-z][a-z0-9_]*$/i.test(key)) throw fail('Wrong property key !');
    if (!raw || typeof raw !== 'object') throw fail(`Wrong properties array!`);
    const property = raw as Record<string, unknown>;
    if (!property.Name && !property.NAME) throw fail('Empty property NAME !');
    result[key] = {
      Name: (property.Name ?? property.NAME) as RobotProperty['Name'],
      Description: property.Description as RobotProperty['Description'],
      Type: String(property.Type ?? property.TYPE ?? 'string'),
      Options: property.Options as RobotProperty['Options'],
      Required: property.Required === 'Y' ? 'Y' : 'N',
      Multiple: property.Multiple === 'Y' ? 'Y' : 'N',
      Default: property.Default,
    };
  }
  void what;
  return result;
}

function handlerUrl(value: unknown, appUrl: string, name = 'HANDLER'): string {
  if (typeof value !== 'string' || value === '') throw fail(`Empty data! ${name} is required`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new RestError('ERROR_WRONG_HANDLER_URL', 'Wrong handler URL', 400);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RestError('ERROR_UNSUPPORTED_PROTOCOL', 'Unsupported handler protocol', 400);
  if (url.host !== new URL(appUrl).host) throw new RestError('ERROR_HANDLER_URL_MATCH', "Handler URL host doesn't match application url", 400);
  return value;
}

function registration(call: CallContext, kind: Kind, code: string, fields: Record<string, any>, previous?: ActivityRegistration): ActivityRegistration {
  const app = call.app!;
  const get = (name: string) => (fields[name] !== undefined ? fields[name] : (previous as unknown as Record<string, unknown> | undefined)?.[name]);
  const name = fields.NAME ?? previous?.name;
  if (!name || (typeof name === 'object' && Object.keys(name).length === 0)) throw fail('Empty activity NAME!');
  const documentType = fields.DOCUMENT_TYPE ?? previous?.documentType;
  if (documentType !== undefined && (!Array.isArray(documentType) || documentType.length !== 3)) throw fail('Wrong activity DOCUMENT_TYPE!');
  const filter = fields.FILTER ?? previous?.filter;
  if (filter !== undefined && (typeof filter !== 'object' || Object.keys(filter).some((k) => !['INCLUDE', 'EXCLUDE'].includes(k)))) {
    throw fail('Wrong activity FILTER!');
  }
  const usePlacement = (fields.USE_PLACEMENT ?? previous?.usePlacement) === 'Y' ? 'Y' : 'N';
  const subscription = String(fields.USE_SUBSCRIPTION ?? previous?.useSubscription ?? '');
  return {
    kind,
    clientId: app.application.clientId,
    code,
    internalType: internalTypeOf(app.application.clientId, code),
    handler: fields.HANDLER !== undefined ? handlerUrl(fields.HANDLER, app.application.appUrl) : previous!.handler,
    authUserId: Number(fields.AUTH_USER_ID ?? previous?.authUserId ?? call.user.id),
    useSubscription: subscription === 'Y' || subscription === 'N' ? subscription : '',
    name,
    description: fields.DESCRIPTION ?? previous?.description,
    properties: fields.PROPERTIES !== undefined ? properties(fields.PROPERTIES, 'PROPERTIES') : (previous?.properties ?? {}),
    returnProperties: fields.RETURN_PROPERTIES !== undefined ? properties(fields.RETURN_PROPERTIES, 'RETURN_PROPERTIES') : (previous?.returnProperties ?? {}),
    documentType: documentType as ActivityRegistration['documentType'],
    filter: filter as ActivityRegistration['filter'],
    usePlacement,
    placementHandler: usePlacement === 'Y' ? handlerUrl(get('PLACEMENT_HANDLER') ?? fields.HANDLER ?? previous?.handler, app.application.appUrl, 'PLACEMENT_HANDLER') : undefined,
  };
}

function methodsFor(kind: Kind, prefix: string): Record<string, MethodDefinition> {
  return {
    [`${prefix}.add`]: {
      scope: 'bizproc',
      handler(call, params) {
        const { map } = registry(call, kind);
        const code = validCode(param(params, 'CODE'));
        if (map.has(code)) throw new RestError('ERROR_ACTIVITY_ALREADY_INSTALLED', 'Activity or Robot already installed!', 400);
        map.set(code, registration(call, kind, code, params));
        return true;
      },
    },
    [`${prefix}.update`]: {
      scope: 'bizproc',
      handler(call, params) {
        const { map } = registry(call, kind);
        const code = validCode(param(params, 'CODE'));
        const fields = param(params, 'FIELDS');
        const previous = map.get(code);
        if (!previous) throw new RestError('ERROR_ACTIVITY_NOT_FOUND', 'Activity or Robot not found!', 400);
        if (!fields || typeof fields !== 'object' || Object.keys(fields).length === 0) throw fail('No fields to update');
        map.set(code, registration(call, kind, code, fields, previous));
        return true;
      },
    },
    [`${prefix}.list`]: {
      scope: 'bizproc',
      handler: (call) => [...registry(call, kind).map.keys()],
    },
    [`${prefix}.delete`]: {
      scope: 'bizproc',
      handler(call, params) {
        const { map } = registry(call, kind);
        const code = validCode(param(params, 'CODE'));
        if (!map.delete(code)) throw new RestError('ERROR_ACTIVITY_NOT_FOUND', 'Activity or Robot not found!', 400);
        return true;
      },
    },
  };
}

export const robotMethods: Record<string, MethodDefinition> = {
  ...methodsFor('robot', 'bizproc.robot'),
  ...methodsFor('activity', 'bizproc.activity'),
};
