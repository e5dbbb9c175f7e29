/**
 * How the pages' API answers when the portal refused or could not be reached: the portal's own
 * error code and text, with an HTTP status that says whose move it is (the portal's verdict on
 * the request → 4xx, the portal unreachable or busy → 503). Nothing is retried on the user's behalf.
 */
import type { FastifyReply } from 'fastify';
import { PortalCallError } from '../portals/portal-client.ts';
import { PortalUnavailableError } from '../portals/shared-refresh.ts';

export async function withPortal<T>(reply: FastifyReply, work: () => Promise<T>): Promise<T | FastifyReply> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof PortalCallError) {
      const status = error.transient ? 503 : error.status === 401 ? 401 : error.status === 403 ? 403 : 409;
      return reply.code(status).send({ error: error.code, error_description: error.description || error.message });
    }
    if (error instanceof PortalUnavailableError) {
      return reply.code(503).send({ error: 'PORTAL_UNAVAILABLE', error_description: error.message });
    }
    throw error;
  }
}
