/**
 * Runs one claimed call (call-queue.ts): its handler's `run(ctx)` with typed properties and the
 * portal client, then records the outcome and queues the answer in one statement. Transient
 * failures (rate limits, 5xx, the network) let the call go, due again after a backoff, until the
 * retry limit; everything else ends the call with a clear answer so the workflow moves on. A call
 * already finished (run again after a crash) is answered once: the finish that comes second
 * changes nothing.
 */
import type { Logger } from 'pino';
import { PortalCallError, type PortalClients } from '../portals/portal-client.ts';
import { PortalUnavailableError } from '../portals/shared-refresh.ts';
import type { Catalog } from '../robots/catalog.ts';
import { HandlerError, type RunContext } from '../robots/definition.ts';
import { readDocumentRoles } from '../robots/document-roles.ts';
import { coerceProperties, mentionsUserRole } from '../robots/properties.ts';
import { enqueueAnswer } from './answers.ts';
import type { CallQueue, ClaimedCall } from './call-queue.ts';

type Outcome =
  | { kind: 'done'; returnValues: Record<string, unknown> }
  | { kind: 'error'; message: string; returnValues?: Record<string, unknown> }
  | { kind: 'timed_out' };

export class Executor {
  constructor(
    private readonly deps: { queue: CallQueue; clients: PortalClients; catalog: Catalog; logger: Logger; retryLimit: number },
  ) {}

  async execute(call: ClaimedCall): Promise<void> {
    const retryCount = call.attempts - 1;
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
      if (transient && retryCount < this.deps.retryLimit) {
        await this.deps.queue.retryLater(call.id, `attempt ${retryCount + 1}: ${reason}`, retryDelaySeconds(retryCount));
        log.warn({ reason, attempt: retryCount + 1 }, 'transient failure, will retry');
        return;
      }
      if (error instanceof PortalCallError && !transient) {
        // The portal refused what the robot asked (a template that does not exist, a task not theirs…).
        return this.finish(call, { kind: 'error', message: `${error.method}: ${error.description || error.code}` }, log);
      }
      log.error({ err: error }, 'robot failed');
      return this.finish(call, { kind: 'error', message: transient ? `Gave up after ${retryCount + 1} attempts: ${reason}` : `The robot failed: ${reason}` }, log);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  /**
   * Records the outcome and queues the answer, once: a concurrent or repeated finish changes
   * nothing. One statement (shared with the finishes that arrive at the same moment): the call's
   * outcome, its answer and its lease's release commit together.
   */
  private async finish(call: ClaimedCall, outcome: Outcome, log: Logger): Promise<void> {
    const error = outcome.kind === 'error' ? outcome.message : outcome.kind === 'timed_out' ? 'the workflow stopped waiting (timeout_duration) before the robot finished' : null;
    const returnValues = outcome.kind === 'done' ? outcome.returnValues : outcome.kind === 'error' ? { ...outcome.returnValues, error: outcome.message } : null;
    const waitsForAnswer = call.useSubscription && outcome.kind !== 'timed_out';
    const status = outcome.kind === 'timed_out' ? 'timed_out' : waitsForAnswer ? 'running' : outcome.kind === 'done' ? 'answered' : 'failed';
    const answer = waitsForAnswer
      ? { event_token: call.eventToken, RETURN_VALUES: returnValues ?? {}, ...(outcome.kind === 'error' ? { LOG_MESSAGE: outcome.message } : {}) }
      : null;
    await this.deps.queue.finish({ callId: call.id, status, error, returnValues, answer });
    log.info({ outcome: outcome.kind, ...(outcome.kind === 'error' ? { reason: outcome.message } : {}) }, 'robot finished');
  }

  private async log(call: ClaimedCall, message: string): Promise<void> {
    if (!call.useSubscription) return; // the workflow has moved on: there is no step to log against
    await enqueueAnswer(this.deps.queue, {
      portalId: call.portalId,
      callId: call.id,
      method: 'bizproc.activity.log',
      params: { event_token: call.eventToken, LOG_MESSAGE: String(message).slice(0, 10_000) },
    });
  }
}

/** Seconds before a transient failure's next attempt: 1, 2, 4 … at most a minute. */
function retryDelaySeconds(retryCount: number): number {
  return Math.min(60, 2 ** retryCount);
}
