/**
 * Runs one stored call: its handler's `run(ctx)` with typed properties and the portal client,
 * then queues the answer. Transient failures (rate limits, 5xx, the network) are retried by the
 * queue with backoff; everything else ends the call with a clear answer so the workflow moves on.
 * A call already finished (a retry after a crash) is not run again.
 */
import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import type { HandlerCall, PrismaClient } from '../generated/prisma/client.ts';
import { PortalCallError, type PortalClients } from '../portals/portal-client.ts';
import { PortalUnavailableError } from '../portals/shared-refresh.ts';
import type { Catalog } from '../robots/catalog.ts';
import { HandlerError, type RunContext } from '../robots/definition.ts';
import { readDocumentRoles } from '../robots/document-roles.ts';
import { coerceProperties, mentionsUserRole } from '../robots/properties.ts';
import { enqueueAnswer } from './answers.ts';
import { BOSS_CHANNEL_SQL, QUEUES, jobInsertSql, queueTable } from './queue.ts';

export interface Attempt {
  callId: bigint;
  /** 0 on the first run */
  retryCount: number;
  retryLimit: number;
}

type Outcome =
  | { kind: 'done'; returnValues: Record<string, unknown> }
  | { kind: 'error'; message: string; returnValues?: Record<string, unknown> }
  | { kind: 'timed_out' };

export class Executor {
  constructor(
    private readonly deps: { prisma: PrismaClient; boss: PgBoss; clients: PortalClients; catalog: Catalog; logger: Logger },
  ) {}

  async execute(attempt: Attempt): Promise<void> {
    const { prisma } = this.deps;
    const call = await prisma.handlerCall.findUnique({ where: { id: attempt.callId }, include: { portal: true } });
    if (!call || call.finishedAt) return;
    const log = this.deps.logger.child({ portal: call.portal.memberId, call: call.id.toString(), code: call.code, workflow: call.workflowId });

    if (call.deadlineAt && call.deadlineAt.getTime() <= Date.now()) {
      return this.finish(call, { kind: 'timed_out' }, log);
    }
    const definition = this.deps.catalog.get(call.code);
    if (!definition) {
      return this.finish(call, { kind: 'error', message: `The robot "${call.code}" no longer exists in this application.` }, log);
    }
    const roles = mentionsUserRole(definition.config.PROPERTIES, call.properties)
      ? await readDocumentRoles(await this.deps.clients.forPortal(call.portalId), call.documentId).catch((error: Error) => {
          if ((error as { transient?: boolean }).transient) throw error;
          return { unresolved: error.message };
        })
      : {};
    const coerced = coerceProperties(definition.config.PROPERTIES, call.properties, roles);
    if (!coerced.ok) {
      return this.finish(call, { kind: 'error', message: `Invalid settings: ${coerced.errors.join('; ')}.` }, log);
    }

    await prisma.handlerCall.update({
      where: { id: call.id },
      data: { status: 'running', attempts: { increment: 1 }, startedAt: call.startedAt ?? new Date() },
    });
    const timeout = new AbortController();
    const timer = call.deadlineAt ? setTimeout(() => timeout.abort(), Math.max(0, call.deadlineAt.getTime() - Date.now())) : null;
    try {
      const portal = await this.deps.clients.forPortal(call.portalId);
      const [, , documentCode] = call.documentId;
      const entity = /_(\d+)$/.exec(documentCode ?? '');
      const ctx: RunContext<never> = {
        properties: coerced.values as never,
        document: {
          id: call.documentId as [string, string, string],
          type: call.documentType.length === 3 ? (call.documentType as [string, string, string]) : null,
          entityId: entity ? Number(entity[1]) : null,
        },
        workflowId: call.workflowId,
        userId: call.authUserId,
        portal,
        log: (message) => this.log(call, message),
        lang: call.portal.languageId,
        signal: timeout.signal,
        logger: log,
      };
      const returnValues = (await definition.run(ctx)) as Record<string, unknown>;
      if (timeout.signal.aborted) return this.finish(call, { kind: 'timed_out' }, log);
      await this.finish(call, { kind: 'done', returnValues: returnValues ?? {} }, log);
    } catch (error) {
      if (timeout.signal.aborted) return this.finish(call, { kind: 'timed_out' }, log);
      if (error instanceof HandlerError) {
        return this.finish(call, { kind: 'error', message: error.message, returnValues: error.returnValues }, log);
      }
      if (error instanceof PortalUnavailableError) {
        // Retrying cannot help until an administrator opens the app again: say so now.
        return this.finish(call, { kind: 'error', message: `The portal cannot be reached with the app's tokens: ${error.reason}` }, log);
      }
      const transient = error instanceof PortalCallError && error.transient;
      const reason = error instanceof Error ? error.message : String(error);
      if (transient && attempt.retryCount < attempt.retryLimit) {
        await prisma.handlerCall.update({ where: { id: call.id }, data: { error: `attempt ${attempt.retryCount + 1}: ${reason}` } });
        log.warn({ reason, attempt: attempt.retryCount + 1 }, 'transient failure, will retry');
        throw error;
      }
      if (error instanceof PortalCallError && !transient) {
        // The portal refused what the robot asked (a template that does not exist, a task not theirs…).
        return this.finish(call, { kind: 'error', message: `${error.method}: ${error.description || error.code}` }, log);
      }
      log.error({ err: error }, 'robot failed');
      return this.finish(call, { kind: 'error', message: transient ? `Gave up after ${attempt.retryCount + 1} attempts: ${reason}` : `The robot failed: ${reason}` }, log);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  /**
   * Records the outcome and queues the answer, once: a concurrent or repeated finish changes
   * nothing. One statement: the call's outcome, its answer and the portal's flush job commit
   * together (a flush job already waiting for the portal is kept, as pg-boss's stately send does).
   */
  private async finish(call: HandlerCall, outcome: Outcome, log: Logger): Promise<void> {
    const error = outcome.kind === 'error' ? outcome.message : outcome.kind === 'timed_out' ? 'the workflow stopped waiting (timeout_duration) before the robot finished' : null;
    const returnValues = outcome.kind === 'done' ? outcome.returnValues : outcome.kind === 'error' ? { ...outcome.returnValues, error: outcome.message } : null;
    const waitsForAnswer = call.useSubscription && outcome.kind !== 'timed_out';
    const status = outcome.kind === 'timed_out' ? 'timed_out' : waitsForAnswer ? 'running' : outcome.kind === 'done' ? 'answered' : 'failed';
    const answer = {
      event_token: call.eventToken,
      RETURN_VALUES: returnValues ?? {},
      ...(outcome.kind === 'error' ? { LOG_MESSAGE: outcome.message } : {}),
    };
    await this.deps.prisma.$queryRawUnsafe(
      await this.finishStatement(),
      call.id,
      new Date(),
      error,
      returnValues === null ? null : JSON.stringify(returnValues),
      status,
      JSON.stringify(answer),
      waitsForAnswer,
      QUEUES.answers,
    );
    log.info({ outcome: outcome.kind, ...(outcome.kind === 'error' ? { reason: outcome.message } : {}) }, 'robot finished');
  }

  private finishSql: Promise<string> | null = null;

  private finishStatement(): Promise<string> {
    this.finishSql ??= queueTable((sql, queue) => this.deps.prisma.$queryRawUnsafe(sql, queue), QUEUES.answers).then(
      (answersTable) => `
        WITH finished AS (
          UPDATE handler_calls SET finished_at = $2, error = $3, return_values = COALESCE($4::jsonb, return_values), status = $5::"CallStatus"
          WHERE id = $1 AND finished_at IS NULL
          RETURNING id, portal_id
        ), answer AS (
          INSERT INTO pending_answers (portal_id, call_id, method, params)
          SELECT portal_id, id, 'bizproc.event.send', $6::jsonb FROM finished WHERE $7::boolean
          RETURNING portal_id
        ), job AS (${jobInsertSql(answersTable, { source: 'answer', data: `jsonb_build_object('portalId', answer.portal_id)`, queueParam: '$8', singletonKey: 'answer.portal_id::text' })}
        ), woken AS (
          SELECT pg_notify(${BOSS_CHANNEL_SQL}, $8) FROM job LIMIT 1
        )
        SELECT (SELECT count(*) FROM finished) AS finished, (SELECT count(*) FROM woken) AS woken`,
    );
    this.finishSql.catch(() => (this.finishSql = null));
    return this.finishSql;
  }

  private async log(call: HandlerCall, message: string): Promise<void> {
    if (!call.useSubscription) return; // the workflow has moved on: there is no step to log against
    await this.deps.prisma.$transaction((tx) =>
      enqueueAnswer(tx, this.deps.boss, {
        portalId: call.portalId,
        callId: call.id,
        method: 'bizproc.activity.log',
        params: { event_token: call.eventToken, LOG_MESSAGE: String(message).slice(0, 10_000) },
      }),
    );
  }
}
