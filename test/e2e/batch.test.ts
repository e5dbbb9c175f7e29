/**
 * PortalClient.batch reads every outcome by the key of its command. A portal keeps each section
 * of a batch answer keyed by the cmd key: a refused command leaves a hole in `result`, a section
 * with holes is a JSON object and an empty section is `[]` (docs:
 * settings/how-to-call-rest-api/batch.md). Checked against the emulator over HTTP, and against a
 * minimal server that answers exactly the documented shape, so the reading does not depend on
 * how either one encodes the holes.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PortalClient } from '../../src/portals/portal-client.ts';
import { RateBudget } from '../../src/portals/rate-budget.ts';
import { startStack, type Stack } from '../support/stack.ts';

describe('a batch where some commands are refused', () => {
  let stack: Stack;
  let portalId: number;
  /** 50 calls: every third is an event.send with a token that does not decode (ACCESS_DENIED), the rest user.get of user 1..5. */
  const mixed = Array.from({ length: 50 }, (_, i): [string, Record<string, unknown>] =>
    i % 3 === 1 ? ['bizproc.event.send', { event_token: `broken-${i}`, RETURN_VALUES: {} }] : ['user.get', { ID: (i % 5) + 1 }],
  );
  const expectEachOnItsCall = (outcomes: Array<{ ok: boolean; result?: unknown; error?: string }>) => {
    expect(outcomes).toHaveLength(mixed.length);
    outcomes.forEach((outcome, i) => {
      if (i % 3 === 1) expect(outcome, `call ${i}`).toMatchObject({ ok: false, error: 'ACCESS_DENIED' });
      else expect(outcome, `call ${i}`).toMatchObject({ ok: true, result: [expect.objectContaining({ ID: String((i % 5) + 1) })] });
    });
  };

  beforeAll(async () => {
    stack = await startStack({ emulator: { rateLimit: { drainPerSec: 20, maxBurst: 200 } }, rateLimit: { drainPerSec: 20, capacity: 150 } });
    const member = stack.memberId(0);
    await stack.install(member, 'headless');
    portalId = (await stack.app.store.findByMemberId(member))!.id;
  }, 120_000);
  afterAll(() => stack?.stop());

  it('the emulator: 50 commands, every third refused, each outcome recorded on its own call', async () => {
    const client = await stack.app.clients.forPortal(portalId);
    expectEachOnItsCall(await client.batch(mixed));
  });

  describe('a server answering exactly the documented shape', () => {
    let server: FastifyInstance;
    let client: PortalClient;
    const received: Array<Record<string, string>> = [];

    beforeAll(async () => {
      server = Fastify();
      // As a portal answers a batch with halt=0: every section keyed by cmd key; a section is an
      // object when it has holes (our keys are never list indexes) and `[]` when empty.
      server.post('/rest/*', async (request) => {
        const { cmd } = request.body as { cmd: Record<string, string> };
        received.push(cmd);
        const result: Record<string, unknown> = {};
        const resultError: Record<string, unknown> = {};
        const resultTime: Record<string, unknown> = {};
        for (const [key, command] of Object.entries(cmd)) {
          const [method, query] = command.split('?') as [string, string];
          const params = new URLSearchParams(query);
          if (method === 'bizproc.event.send') resultError[key] = { error: 'ACCESS_DENIED', error_description: 'Access denied!' };
          else {
            result[key] = [{ ID: params.get('ID') }];
            resultTime[key] = { start: 1, finish: 1, duration: 0, processing: 0, date_start: '', date_finish: '' };
          }
        }
        const section = (values: Record<string, unknown>) => (Object.keys(values).length === 0 ? [] : values);
        return {
          result: { result: section(result), result_error: section(resultError), result_total: [], result_next: [], result_time: section(resultTime) },
          time: { start: 1, finish: 1, duration: 0, processing: 0, date_start: '', date_finish: '' },
        };
      });
      await server.listen({ port: 0, host: '127.0.0.1' });
      const { port } = server.server.address() as { port: number };
      const portal = (await stack.app.store.findById(portalId))!;
      client = new PortalClient(
        { ...portal, clientEndpoint: `http://127.0.0.1:${port}/rest/` },
        { accessToken: 'token', refreshToken: 'refresh', expiresAt: Date.now() + 3_600_000 },
        {
          store: stack.app.store,
          oauth: { oauthUrl: `${stack.emulatorUrl}/oauth/token/`, clientId: stack.clientId, clientSecret: stack.clientSecret },
          budget: new RateBudget(stack.database.db.prisma, { drainPerSec: 100, capacity: 100 }),
          logger: pino({ level: 'silent' }),
        },
      );
    });
    afterAll(() => server?.close());

    it('holes in `result` and `result_error` (JSON objects) and an empty section (`[]`): each outcome on its own call', async () => {
      expectEachOnItsCall(await client.batch(mixed));
      expect(Object.keys(received.at(-1)!)).toHaveLength(50);
    });

    it('all refused (`result` is []) and all taken (`result_error` is [])', async () => {
      const refused = mixed.filter((_, i) => i % 3 === 1);
      expect((await client.batch(refused)).every((o) => !o.ok && o.error === 'ACCESS_DENIED')).toBe(true);
      const taken = mixed.filter((_, i) => i % 3 !== 1);
      const outcomes = await client.batch(taken);
      expect(outcomes.map((o) => (o.ok ? (o.result as Array<{ ID: string }>)[0]!.ID : o.error))).toEqual(taken.map(([, p]) => String(p.ID)));
    });

    it('more than 50 calls go out 50 a request and keep their order', async () => {
      const before = received.length;
      const many = [...mixed, ...mixed.slice(0, 20)];
      const outcomes = await client.batch(many);
      expect(received.length - before).toBe(2);
      expect(outcomes.slice(50).map((o) => o.ok)).toEqual(mixed.slice(0, 20).map(([method]) => method === 'user.get'));
    });
  });
});
