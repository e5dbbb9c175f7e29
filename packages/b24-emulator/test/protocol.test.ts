/**
 * The emulator as the official SDK meets it: B24OAuth and B24Hook unchanged, the refresh path,
 * the queue server's exact call, the reference's own template, and the rate limit.
 */
import { emulatorControl } from '../src/control-client.ts';
import { sdkFromGrant } from './support/sdk.ts';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { AjaxError, B24OAuth } from '@bitrix24/b24jssdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sequentialTemplate, writeBpt } from '../src/workflow/bpt.ts';
import { buildEmulator, type Emulator } from '../src/server.ts';
import { startReceiver } from './support/harness.ts';

const CLIENT = { clientId: 'local.sdk.test', clientSecret: 'sdk-secret' };

describe('the emulator through the official SDK', () => {
  let emulator: Emulator;
  let base: string;
  let member: string;
  let receiver: Server;
  let receiverUrl: string;
  let received: Array<{ url: string; body: string }> = [];

  const control = emulatorControl(() => base);

  /** A B24OAuth client for a user of the portal, from a fresh grant. */
  const sdkFor = async (userId = 1) => {
    const t = await control('POST', `/_emulator/portals/${member}/apps/${CLIENT.clientId}/tokens`, { userId });
    const b24 = sdkFromGrant(t, CLIENT);
    return b24;
  };
  const call = async (b24: B24OAuth, method: string, params: Record<string, unknown> = {}) => {
    try {
      const response = await b24.actions.v2.call.make({ method, params: params as never });
      if (!response.isSuccess) {
        const error = response.getErrors().next().value as AjaxError;
        return { error: error.code, status: error.status };
      }
      return { result: response.getData()!.result as any };
    } catch (error) {
      // A refused refresh reaches the caller wrapped; the OAuth server's own code is on the original error.
      const ajax = error as AjaxError;
      const original = ajax.originalError as { code?: string } | undefined;
      return { error: ajax.code === 'JSSDK_UNKNOWN_ERROR' && original?.code ? original.code : ajax.code, status: ajax.status };
    }
  };

  beforeAll(async () => {
    ({ server: receiver, url: receiverUrl, received } = await startReceiver());
    emulator = await buildEmulator({ portals: 1 });
    base = await emulator.listen();
    member = [...emulator.state.portals.keys()][0]!;
    await control('POST', '/_emulator/applications', { ...CLIENT, appUrl: `${receiverUrl}/app`, eventUrl: `${receiverUrl}/events` });
    await control('POST', `/_emulator/portals/${member}/apps/${CLIENT.clientId}/install`, { mode: 'headless' });
  });
  afterAll(async () => {
    await emulator?.close();
    receiver?.close();
  });

  it('headless install sends ONAPPINSTALL with the documented fields, application_token included', () => {
    const install = received.find((r) => r.url === '/events')!;
    const keys = [...new URLSearchParams(install.body).keys()];
    expect(keys).toEqual(
      expect.arrayContaining(['event', 'event_handler_id', 'data[VERSION]', 'data[ACTIVE]', 'data[INSTALLED]', 'data[LANGUAGE_ID]', 'ts', 'auth[access_token]', 'auth[member_id]', 'auth[application_token]']),
    );
    expect(new URLSearchParams(install.body).get('event')).toBe('ONAPPINSTALL');
  });

  it('answers the SDK with the documented shapes and errors (code and HTTP status)', async () => {
    const admin = await sdkFor(1);
    const employee = await sdkFor(3);
    expect((await call(admin, 'app.info')).result).toMatchObject({ CODE: CLIENT.clientId, INSTALLED: true });
    expect((await call(admin, 'profile')).result).toMatchObject({ ID: '1', ADMIN: true });
    expect((await call(admin, 'user.get', { FILTER: { UF_DEPARTMENT: 2 } })).result.map((u: any) => u.ID)).toEqual(['2', '3', '7']);
    const robot = { CODE: 'sdk_robot', HANDLER: `${receiverUrl}/handler`, NAME: { en: 'SDK robot' }, PROPERTIES: { text: { Name: 'Text', Type: 'string' } } };
    expect(await call(admin, 'bizproc.robot.add', robot)).toEqual({ result: true });
    expect(await call(admin, 'bizproc.robot.add', robot)).toEqual({ error: 'ERROR_ACTIVITY_ALREADY_INSTALLED', status: 400 });
    // HandlerHelper::checkCallback refuses a host without a dot; it does not compare hosts with the app's URL
    expect(await call(admin, 'bizproc.robot.add', { ...robot, CODE: 'other', HANDLER: 'https://localhost/h' })).toEqual({ error: 'ERROR_WRONG_HANDLER_URL', status: 400 });
    expect(await call(admin, 'bizproc.robot.add', { ...robot, CODE: '' })).toEqual({ error: 'ERROR_ACTIVITY_VALIDATION_FAILURE', status: 400 });
    expect(await call(admin, 'bizproc.robot.add', { ...robot, CODE: 'x', NAME: '' })).toEqual({ error: 'ERROR_ACTIVITY_VALIDATION_FAILURE', status: 400 });
    expect(await call(employee, 'bizproc.robot.add', { ...robot, CODE: 'y' })).toEqual({ error: 'ACCESS_DENIED', status: 403 });
    expect(await call(admin, 'bizproc.robot.update', { CODE: 'missing', FIELDS: { NAME: 'n' } })).toEqual({ error: 'ERROR_ACTIVITY_NOT_FOUND', status: 400 });
    expect(await call(admin, 'bizproc.robot.update', { CODE: 'sdk_robot', FIELDS: {} })).toEqual({ error: 'ERROR_ACTIVITY_VALIDATION_FAILURE', status: 400 });
    expect((await call(admin, 'bizproc.robot.list')).result).toEqual(['sdk_robot']);
    expect(await call(admin, 'bizproc.robot.delete', { CODE: 'missing' })).toEqual({ error: 'ERROR_ACTIVITY_NOT_FOUND', status: 400 });
    expect(await call(admin, 'bizproc.no.such.method')).toEqual({ error: 'ERROR_METHOD_NOT_FOUND', status: 404 });
    expect(await call(admin, 'tasks.task.approve', { taskId: 1 })).toMatchObject({ result: { task: { id: '1', status: '5' } } });
    expect(await call(employee, 'tasks.task.approve', { taskId: 3 })).toEqual({ error: '1048582', status: 400 });

    // Webhooks by plain fetch here (the status codes); tls.test.ts calls one through B24Hook.
    const portal = emulator.state.portals.get(member)!;
    const webhook = `${portal.clientEndpoint}1/${[...portal.webhooks.keys()][0]!}/`;
    const viaHook = async (method: string, params: unknown) => {
      const response = await fetch(`${webhook}${method}.json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) });
      return { status: response.status, body: (await response.json()) as any };
    };
    expect((await viaHook('user.current', {})).body.result).toMatchObject({ ID: '1' });
    expect(await viaHook('bizproc.robot.add', { ...robot, CODE: 'z' })).toEqual({ status: 403, body: { error: 'ACCESS_DENIED', error_description: 'Access denied! Application context required' } });
  });

  it('the SDK refreshes an expired token through /oauth/token/; a revoked refresh token gives invalid_grant', async () => {
    const b24 = await sdkFor(1);
    await control('POST', `/_emulator/portals/${member}/expire-tokens`);
    const before = (await control('GET', '/_emulator/stats'))[member]?.refreshes ?? 0;
    expect((await call(b24, 'profile')).result).toMatchObject({ ID: '1' });
    expect((await control('GET', '/_emulator/stats'))[member].refreshes).toBe(before + 1);

    await control('POST', `/_emulator/portals/${member}/revoke-refresh`);
    await control('POST', `/_emulator/portals/${member}/expire-tokens`);
    const refused = await call(b24, 'profile');
    expect(refused.error).toBe('invalid_grant');
  });

  it("a handler call from the queue server carries the protocol's fields, key for key, in order", async () => {
    const b24 = await sdkFor(1);
    const file = writeBpt({ TEMPLATE: sequentialTemplate([{ Type: emulator.state.portals.get(member)!.apps.get(CLIENT.clientId)!.robots.get('sdk_robot')!.internalType, Name: 'Step', Properties: { text: 'hello', TimeoutDuration: 1 } }]) });
    const added = await call(b24, 'bizproc.workflow.template.add', { DOCUMENT_TYPE: ['crm', 'CCrmDocumentDeal', 'DEAL'], NAME: 'SDK', TEMPLATE_DATA: ['sdk.bpt', file.toString('base64')] });
    const started = await call(b24, 'bizproc.workflow.start', { TEMPLATE_ID: added.result, DOCUMENT_ID: ['crm', 'CCrmDocumentDeal', 'DEAL_2'] });
    expect(typeof started.result).toBe('string');
    const workflow = await control('GET', `/_emulator/portals/${member}/workflows/${started.result}?wait=10000`);
    expect(workflow.status).toBe('completed');
    const handlerCall = received.find((r) => r.url === '/handler')!;
    expect([...new URLSearchParams(handlerCall.body).keys()]).toEqual([
      'workflow_id', 'code',
      'document_id[0]', 'document_id[1]', 'document_id[2]',
      'document_type[0]', 'document_type[1]', 'document_type[2]',
      'event_token', 'properties[text]', 'use_subscription', 'timeout_duration', 'ts',
      'auth[access_token]', 'auth[expires]', 'auth[expires_in]', 'auth[scope]', 'auth[domain]', 'auth[server_endpoint]',
      'auth[status]', 'auth[client_endpoint]', 'auth[member_id]', 'auth[user_id]', 'auth[refresh_token]', 'auth[application_token]',
    ]);
    expect(new URLSearchParams(handlerCall.body).get('document_id[2]')).toBe('DEAL_2');
  });

  it("accepts the reference's own bp-379.bpt in application context, and a workflow from it completes", async () => {
    const b24 = await sdkFor(1);
    const bpt = readFileSync(new URL('./fixtures/bp-379.bpt', import.meta.url)).toString('base64');
    const added = await call(b24, 'bizproc.workflow.template.add', { DOCUMENT_TYPE: ['crm', 'CCrmDocumentDeal', 'DEAL'], NAME: 'App template', AUTO_EXECUTE: 3, TEMPLATE_DATA: ['bp-379.bpt', bpt] });
    expect(typeof added.result).toBe('number');
    const started = await call(b24, 'bizproc.workflow.start', { TEMPLATE_ID: added.result, DOCUMENT_ID: ['crm', 'CCrmDocumentDeal', 'DEAL_1'] });
    const workflow = await control('GET', `/_emulator/portals/${member}/workflows/${started.result}?wait=10000`);
    expect(workflow.status).toBe('completed');
    expect(workflow.log.map((l: any) => l.message)).toContain('SocNetMessageActivity: done');
    expect(await call(b24, 'bizproc.workflow.template.add', { DOCUMENT_TYPE: ['crm', 'CCrmDocumentDeal', 'DEAL'], NAME: 'Broken', TEMPLATE_DATA: ['x.bpt', 'bm90IGEgYnB0'] })).toEqual({ error: 'ERROR_TEMPLATE_VALIDATION_FAILURE', status: 400 });
  });

  it('rate limit: 60 requests at once get ~50 through and the rest QUERY_LIMIT_EXCEEDED; after 5 s of quiet ~10 more pass', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const portal = emulator.state.portals.get(member)!;
    portal.bucket.level = 0;
    const t = await control('POST', `/_emulator/portals/${member}/apps/${CLIENT.clientId}/tokens`, { userId: 1 });
    const burst = (n: number) =>
      Promise.all(Array.from({ length: n }, () => fetch(`${t.client_endpoint}profile.json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ auth: t.access_token }) }).then(async (r) => ({ status: r.status, body: await r.json() as any }))));
    const first = await burst(60);
    const passed = first.filter((r) => r.status === 200).length;
    expect(passed).toBeGreaterThanOrEqual(49);
    expect(passed).toBeLessThanOrEqual(51);
    expect(first.filter((r) => r.status === 503).every((r) => r.body.error === 'QUERY_LIMIT_EXCEEDED')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const second = await burst(20);
    const more = second.filter((r) => r.status === 200).length;
    expect(more).toBeGreaterThanOrEqual(9);
    expect(more).toBeLessThanOrEqual(12);
    console.log(`rate limit: ${passed} of 60 passed at once; ${more} of 20 after 5 s`);
  });
});
