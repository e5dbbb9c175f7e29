/**
 * The REST core as modules/rest answers it: batch (CRestProvider::methodsBatch,
 * CRestUtil::ParseBatchQuery), the global methods, users and events, dates in the portal's offset.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './support/harness.ts';

const APP = { clientId: 'local.core.test', clientSecret: 'core-secret' };
const OFFSET_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+01:00$/;

describe('the REST core', () => {
  let h: Harness;
  let admin: Record<string, any>;
  let webhook: string;
  const batch = (body: Record<string, unknown>) => h.rest(`${admin.client_endpoint}batch.json`, { auth: admin.access_token, ...body });

  beforeAll(async () => {
    h = await startHarness(APP);
    admin = await h.token(APP, 1);
    const portal = h.emulator.state.portals.get(h.member)!;
    webhook = `${portal.clientEndpoint}1/${[...portal.webhooks.keys()][0]!}/`;
  });
  afterAll(() => h?.close());

  it('batch keys every section by the command key: a hole makes an object, a full list an array, an empty section []', async () => {
    const holed = await batch({ cmd: ['profile', 'no.such.method', 'server.time'] });
    expect(holed.status).toBe(200);
    expect(holed.text).toContain('"result":{"0":{');
    expect(Object.keys(holed.body.result.result)).toEqual(['0', '2']);
    expect(holed.body.result.result_error).toEqual({ 1: { error: 'ERROR_METHOD_NOT_FOUND', error_description: 'Method not found!' } });
    expect(Object.keys(holed.body.result.result_time)).toEqual(['0', '2']);
    expect(holed.body.result.result_total).toEqual([]);
    expect(holed.body.result.result_next).toEqual([]);

    const full = await batch({ cmd: ['profile', 'user.get?FILTER[UF_DEPARTMENT]=2'] });
    expect(Array.isArray(full.body.result.result)).toBe(true);
    expect(full.body.result.result_error).toEqual([]);
    expect(full.body.result.result_total).toEqual({ 1: 3 });
    expect(full.body.result.result_time[0].date_start).toMatch(OFFSET_DATE);
    expect(full.body.time.date_start).toMatch(OFFSET_DATE);
  });

  it('batch resolves $result[key][FIELD] plain and URL-encoded, a whole-value reference keeps its array; a command\'s own auth is overwritten', async () => {
    const employee = await h.token(APP, 3);
    const answer = await batch({
      cmd: {
        me: 'user.current',
        plain: 'user.get?ID=$result[me][ID]',
        encoded: 'user.get?ID=%24result%5Bme%5D%5BID%5D',
        depts: 'department.get?ID=$result[me][UF_DEPARTMENT]',
        other: `user.current?auth=${employee.access_token}`,
      },
    });
    expect(answer.body.result.result.plain[0].ID).toBe('1');
    expect(answer.body.result.result.encoded[0].ID).toBe('1');
    expect(answer.body.result.result.depts.map((d: any) => d.ID)).toEqual(['1']);
    expect(answer.body.result.result_error).toEqual([]);
    expect(answer.body.result.result.other.ID).toBe('1');
  });

  it('batch halts after the first failed command; past 50 and nested batch fail per command', async () => {
    const halted = await batch({ halt: 1, cmd: { a: 'profile', b: 'no.such.method', c: 'profile' } });
    expect(halted.status).toBe(200);
    expect(Object.keys(halted.body.result.result)).toEqual(['a']);
    expect(Object.keys(halted.body.result.result_error)).toEqual(['b']);
    const notHalted = await batch({ halt: false, cmd: { a: 'no.such', c: 'profile' } });
    expect(Object.keys(notHalted.body.result.result)).toEqual(['c']);

    const long = await batch({ cmd: Array.from({ length: 51 }, () => 'server.time') });
    expect(long.status).toBe(200);
    expect(long.body.result.result).toHaveLength(50);
    expect(long.body.result.result_error).toEqual({ 50: { error: 'ERROR_BATCH_LENGTH_EXCEEDED', error_description: 'Max batch length exceeded' } });
    const nested = await batch({ cmd: { inner: 'batch?cmd[a]=profile' } });
    expect(nested.body.result.result_error.inner.error).toBe('ERROR_BATCH_METHOD_NOT_ALLOWED');
  });

  it('server.time, scope and methods answer as the global scope does', async () => {
    const sdk = await h.sdk(APP, 3);
    expect((await sdk('server.time')).result).toMatch(OFFSET_DATE);
    expect((await sdk('scope')).result).toEqual(admin.scope.split(','));
    expect((await sdk('scope', { full: true })).result).toEqual(expect.arrayContaining(['bizproc', 'user', 'department', 'task']));
    const userMethods = (await sdk('methods', { scope: 'user' })).result;
    expect(userMethods).toEqual(expect.arrayContaining(['user.get', 'user.current']));
    expect(userMethods).not.toContain('bizproc.robot.add');
    expect((await sdk('methods')).result).toEqual(expect.arrayContaining(['batch', 'server.time', 'scope', 'methods', 'app.info', 'bizproc.robot.add']));
  });

  it('app.info: the app by its code in application context, scope and licence by webhook; profile carries the time zone offset', async () => {
    expect((await h.rest(`${admin.client_endpoint}app.info.json`, { auth: admin.access_token })).body.result).toMatchObject({ CODE: APP.clientId, STATUS: 'L', INSTALLED: true });
    expect((await h.rest(`${webhook}app.info.json`)).body.result).toEqual({ SCOPE: expect.arrayContaining(['bizproc', 'user']), LICENSE: 'en_project' });
    expect((await h.rest(`${webhook}profile.json`)).body.result).toMatchObject({ ID: '1', ADMIN: true, TIME_ZONE_OFFSET: 3600 });
  });

  it('user.get takes FILTER[ACTIVE] as 1, Y or true (and the opposite as 0, N or false)', async () => {
    const ids = async (active: unknown) => (await h.rest(`${webhook}user.get.json`, { FILTER: { ACTIVE: active } })).body.result.map((u: any) => u.ID);
    for (const active of ['1', 'Y', true, 'true']) expect(await ids(active)).toEqual(['1', '2', '3', '4', '5', '6']);
    for (const inactive of ['0', 'N', false]) expect(await ids(inactive)).toEqual(['7']);
    const viaQuery = await fetch(`${webhook}user.get.json?FILTER[ACTIVE]=1&FILTER[UF_DEPARTMENT]=2`);
    expect(((await viaQuery.json()) as any).result.map((u: any) => u.ID)).toEqual(['2', '3']);
  });

  it('event.bind: OAuth only, any user for themselves, AUTH_TYPE of another user for an administrator only, known events only', async () => {
    const handler = `${h.receiverUrl}/events`;
    expect(await h.rest(`${webhook}event.bind.json`, { event: 'ONAPPUPDATE', handler })).toEqual({ status: 403, body: { error: 'WRONG_AUTH_TYPE', error_description: 'Current authorization type is denied for this method' } });
    const employee = await h.token(APP, 3);
    const asEmployee = (method: string, params: Record<string, unknown>) => h.rest(`${employee.client_endpoint}${method}.json`, { auth: employee.access_token, ...params });
    expect((await asEmployee('event.bind', { event: 'ONAPPUPDATE', handler })).body.result).toBe(true);
    expect(await asEmployee('event.bind', { event: 'ONAPPUPDATE', handler, auth_type: 1 })).toEqual({
      status: 403,
      body: { error: 'ACCESS_DENIED', error_description: 'Access denied! Event binding with AUTH_TYPE requires administrator access rights' },
    });
    expect((await asEmployee('event.bind', { event: 'ONNOSUCHTHING', handler })).body.error).toBe('ERROR_EVENT_NOT_FOUND');
    expect((await asEmployee('event.get', {})).body.result).toEqual([{ event: 'ONAPPUPDATE', handler, auth_type: '3', offline: 0 }]);
    expect((await asEmployee('event.unbind', { event: 'ONAPPUPDATE', handler })).body.result).toEqual({ count: 1 });
  });

  it('meters a portal with a leaky bucket: over the block, 503 QUERY_LIMIT_EXCEEDED; a batch counts once; a refused token is not counted', async () => {
    const drainEvery = 60_000; // drains 1 a minute: nothing leaks out during the test
    const before = { ...h.emulator.state.config.rateLimit };
    await h.control('PUT', '/_emulator/config', { rateLimit: { drainPerSec: 1000 / drainEvery, maxBurst: 3 } });
    h.emulator.state.portals.get(h.member)!.bucket.level = 0;
    try {
      const profile = () => h.rest(`${admin.client_endpoint}profile.json`, { auth: admin.access_token });
      expect((await h.rest(`${admin.client_endpoint}profile.json`, { auth: 'no-such-token' })).status).toBe(401);
      expect((await batch({ cmd: ['profile', 'server.time', 'profile'] })).status).toBe(200);
      expect((await profile()).status).toBe(200);
      expect((await profile()).status).toBe(200);
      expect(await profile()).toEqual({ status: 503, body: { error: 'QUERY_LIMIT_EXCEEDED', error_description: 'Too many requests' } });
    } finally {
      await h.control('PUT', '/_emulator/config', { rateLimit: before });
    }
  });
});
