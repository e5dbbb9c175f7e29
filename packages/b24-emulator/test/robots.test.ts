/**
 * bizproc.robot.* and bizproc.activity.* as modules/bizproc/lib/restservice.php answers them:
 * one CODE namespace for both kinds, each kind's own update/delete/list, and the validations'
 * codes, texts and statuses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './support/harness.ts';

const APP = { clientId: 'local.robots.test', clientSecret: 'robots-secret' };

describe('robots and actions registered by an application', () => {
  let h: Harness;
  let admin: string;
  let endpoint: string;
  const add = (kind: 'robot' | 'activity', fields: Record<string, unknown>) => h.rest(`${endpoint}bizproc.${kind}.add.json`, { auth: admin, ...fields });
  const call = (method: string, fields: Record<string, unknown> = {}) => h.rest(`${endpoint}${method}.json`, { auth: admin, ...fields });
  const refused = (code: string, description: string, status = 400) => ({ status, body: { error: code, error_description: description } });
  const base = () => ({ HANDLER: `${h.receiverUrl}/handler`, NAME: { en: 'Step' }, PROPERTIES: { text: { Name: 'Text', Type: 'string' } } });

  beforeAll(async () => {
    h = await startHarness(APP);
    const t = await h.token(APP, 1);
    admin = t.access_token;
    endpoint = t.client_endpoint;
  });
  afterAll(() => h?.close());

  it('a CODE used by a robot is refused for an action of the same app, and the other way round', async () => {
    const sdk = await h.sdk(APP, 1);
    expect(await sdk('bizproc.robot.add', { CODE: 'shared', ...base() })).toEqual({ result: true });
    expect(await sdk('bizproc.activity.add', { CODE: 'shared', ...base() })).toEqual({ error: 'ERROR_ACTIVITY_ALREADY_INSTALLED', status: 400 });
    expect((await add('activity', { CODE: 'shared', ...base() })).body.error_description).toBe('Activity or Robot already installed!');
    expect(await sdk('bizproc.activity.add', { CODE: 'action_only', ...base() })).toEqual({ result: true });
    expect(await sdk('bizproc.robot.add', { CODE: 'action_only', ...base() })).toEqual({ error: 'ERROR_ACTIVITY_ALREADY_INSTALLED', status: 400 });

    // update, delete and list see only their own kind
    expect(await call('bizproc.activity.update', { CODE: 'shared', FIELDS: { NAME: 'x' } })).toEqual(refused('ERROR_ACTIVITY_NOT_FOUND', 'Activity or Robot not found!'));
    expect(await call('bizproc.activity.delete', { CODE: 'shared' })).toEqual(refused('ERROR_ACTIVITY_NOT_FOUND', 'Activity or Robot not found!'));
    expect((await call('bizproc.robot.list')).body.result).toEqual(['shared']);
    expect((await call('bizproc.activity.list')).body.result).toEqual(['action_only']);

    // once the robot is gone, its CODE is free for an action
    expect((await call('bizproc.robot.delete', { CODE: 'shared' })).body.result).toBe(true);
    expect((await add('activity', { CODE: 'shared', ...base() })).body.result).toBe(true);
    const installation = h.emulator.state.portals.get(h.member)!.apps.get(APP.clientId)!;
    expect(installation.activities.get('shared')!.internalType).toMatch(/^rest_[0-9a-f]{32}$/);
  });

  it("answers the validations with restservice.php's codes and texts", async () => {
    expect(await add('robot', { ...base() })).toEqual(refused('ERROR_ACTIVITY_VALIDATION_FAILURE', 'Empty activity code!'));
    expect(await add('robot', { ...base(), CODE: 'bad code' })).toEqual(refused('ERROR_ACTIVITY_VALIDATION_FAILURE', 'Wrong activity code!'));
    expect(await add('robot', { ...base(), CODE: 'v1', HANDLER: undefined })).toEqual(refused('ERROR_WRONG_HANDLER_URL', 'Wrong handler URL'));
    expect(await add('robot', { ...base(), CODE: 'v1', HANDLER: 'http://localhost/h' })).toEqual(refused('ERROR_WRONG_HANDLER_URL', 'Wrong handler URL'));
    expect(await add('robot', { ...base(), CODE: 'v1', HANDLER: 'ftp://files.example/h' })).toEqual(refused('ERROR_UNSUPPORTED_PROTOCOL', 'Unsupported handler protocol'));
    expect(await add('robot', { ...base(), CODE: 'v1', NAME: '' })).toEqual(refused('ERROR_ACTIVITY_VALIDATION_FAILURE', 'Empty activity NAME!'));
    expect(await add('robot', { ...base(), CODE: 'v1', PROPERTIES: 'text' })).toEqual(refused('ERROR_ACTIVITY_VALIDATION_FAILURE', 'Wrong properties array!'));
    expect(await add('robot', { ...base(), CODE: 'v1', PROPERTIES: { '1x': { Name: 'n' } } })).toEqual(refused('ERROR_ACTIVITY_VALIDATION_FAILURE', 'Wrong property key (1x)!'));
    expect(await add('robot', { ...base(), CODE: 'v1', RETURN_PROPERTIES: { out: { Type: 'string' } } })).toEqual(refused('ERROR_ACTIVITY_VALIDATION_FAILURE', 'Empty property NAME (out)!'));
    expect(await add('robot', { ...base(), CODE: 'v1', FILTER: 'deal' })).toEqual(refused('ERROR_ACTIVITY_VALIDATION_FAILURE', 'Wrong activity FILTER!'));
    expect(await add('activity', { ...base(), CODE: 'v1', DOCUMENT_TYPE: ['crm', 'CCrmDocumentDeal'] })).toEqual(refused('ERROR_ACTIVITY_VALIDATION_FAILURE', 'Wrong activity DOCUMENT_TYPE!'));
    expect(await add('robot', { ...base(), CODE: 'v1', USE_PLACEMENT: 'Y' })).toEqual(refused('ERROR_WRONG_HANDLER_URL', 'Wrong handler URL'));
    // the handler's host is not compared with the application's (HandlerHelper::checkCallback)
    expect((await add('robot', { ...base(), CODE: 'elsewhere', HANDLER: 'https://elsewhere.example/h' })).body.result).toBe(true);
    // parameter names in any case; AUTH_USER_ID as PHP's (int)
    expect((await add('robot', { code: 'lower', handler: `${h.receiverUrl}/h`, name: 'Lower', auth_user_id: '3abc', properties: { p: { name: 'P' } } })).body.result).toBe(true);
    const lower = h.emulator.state.portals.get(h.member)!.apps.get(APP.clientId)!.robots.get('lower')!;
    expect(lower).toMatchObject({ authUserId: 3, properties: { p: { Name: 'P' } } });
    expect((await add('robot', { ...base(), CODE: 'no_user' })).body.result).toBe(true);
    expect(h.emulator.state.portals.get(h.member)!.apps.get(APP.clientId)!.robots.get('no_user')!.authUserId).toBe(0);
  });

  it('update needs a known field; the caller must be an administrator in an application context', async () => {
    await add('robot', { ...base(), CODE: 'upd' });
    expect(await call('bizproc.robot.update', { CODE: 'upd', FIELDS: {} })).toEqual(refused('ERROR_ACTIVITY_VALIDATION_FAILURE', 'No fields to update'));
    expect(await call('bizproc.robot.update', { CODE: 'upd', FIELDS: { COLOR: 'red' } })).toEqual(refused('ERROR_ACTIVITY_VALIDATION_FAILURE', 'No fields to update'));
    expect(await call('bizproc.robot.update', { CODE: 'upd', FIELDS: { HANDLER: 'http://nodot/h' } })).toEqual(refused('ERROR_WRONG_HANDLER_URL', 'Wrong handler URL'));
    expect((await call('bizproc.robot.update', { CODE: 'upd', FIELDS: { auth_user_id: '2' } })).body.result).toBe(true);
    expect(h.emulator.state.portals.get(h.member)!.apps.get(APP.clientId)!.robots.get('upd')!.authUserId).toBe(2);

    const employee = await h.token(APP, 3);
    expect(await h.rest(`${endpoint}bizproc.robot.add.json`, { auth: employee.access_token, ...base(), CODE: 'emp' })).toEqual(refused('ACCESS_DENIED', 'Access denied!', 403));
    const portal = h.emulator.state.portals.get(h.member)!;
    const webhook = `${portal.clientEndpoint}1/${[...portal.webhooks.keys()][0]!}/`;
    expect(await h.rest(`${webhook}bizproc.robot.list.json`)).toEqual(refused('ACCESS_DENIED', 'Access denied! Application context required', 403));
  });
});
