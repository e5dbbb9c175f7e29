/**
 * A portal's address can change (settings/how-to-call-rest-api/change-domen.md): the portal gets
 * a new host, and a request to the old one answers 302 with Location at the same path on the new
 * one. Everything that names the portal (the OAuth answer's client_endpoint, events' and the
 * queue server's auth[domain]/auth[client_endpoint]) reads portal.domain/clientEndpoint, so
 * updating the portal record is the whole move.
 *
 * Registered once on the root app (not encapsulated, so its hook sees every route), with the
 * function that gives a portal a listener of its own.
 */
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Portal } from './contract.ts';
import type { EmulatorState } from './model.ts';

export interface PortalMoveOptions {
  state: EmulatorState;
  /** gives the portal a new listener and sets its domain and clientEndpoint to it */
  listenFor(portal: Portal): Promise<void>;
}

const portalMovesPlugin: FastifyPluginAsync<PortalMoveOptions> = async (app, { state, listenFor }) => {
  /** old host → member id of the portal that left it */
  const movedFrom = new Map<string, string>();

  state.movePortal = async (portal) => {
    const from = portal.domain;
    await listenFor(portal);
    movedFrom.set(from, portal.memberId);
    movedFrom.delete(portal.domain);
    return { from, to: portal.domain };
  };

  app.addHook('onRequest', async (request, reply) => {
    const memberId = movedFrom.get(request.headers.host ?? '');
    const portal = memberId ? state.portals.get(memberId) : undefined;
    if (!portal) return;
    return reply.code(302).header('location', `${new URL(portal.clientEndpoint).origin}${request.url}`).send();
  });
};

/** Not encapsulated (fastify-plugin): its hook applies to the routes of every plugin. */
export const portalMoves = fp(portalMovesPlugin, { name: 'portalMoves' });
