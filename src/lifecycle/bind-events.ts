/** Binds the app's lifecycle events to our /events endpoint, once per portal (event.get first). */
import type { PortalClients } from '../portals/portal-client.ts';
import type { PortalHook } from './installer.ts';

export const APP_EVENTS = ['ONAPPINSTALL', 'ONAPPUPDATE', 'ONAPPUNINSTALL'] as const;

interface BoundEvent {
  event: string;
  handler: string;
}

export function bindAppEvents(clients: PortalClients, eventsUrl: string): PortalHook {
  return async (portal, log) => {
    const client = await clients.forPortal(portal.id);
    const bound = await client.call<BoundEvent[]>('event.get');
    const missing = APP_EVENTS.filter(
      (event) => !bound.some((b) => b.event.toUpperCase() === event && b.handler === eventsUrl),
    );
    for (const event of missing) await client.call('event.bind', { event, handler: eventsUrl });
    if (missing.length > 0) log.info({ events: missing }, 'app events bound');
  };
}
