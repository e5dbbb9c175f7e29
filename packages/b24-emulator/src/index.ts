/**
 * The emulator as a library: `startEmulator()` starts one listening on real ports and gives the
 * calls tests make of it (its portals, an app installed on one, a workflow run with the app's
 * robots, faults, tokens expired), all through the control API (`/_emulator/…`) the command line
 * emulator offers too. The in-process `server` (its Fastify app and state) is there for tests
 * that need to look inside.
 */
import { describePortal } from './control.ts';
import { emulatorControl, type Control } from './control-client.ts';
import type { ActivityNode, WorkflowInstance } from './contract.ts';
import type { FaultRule } from './faults.ts';
import { internalTypeOf } from './methods/robots.ts';
import { buildEmulator, type Emulator, type EmulatorOptions } from './server.ts';
import { removeTlsFiles } from './tls.ts';

export { buildEmulator, type Emulator, type EmulatorOptions } from './server.ts';
export type { AddPortalsOptions, EmulatorState } from './model.ts';
export type * from './contract.ts';
export { describePortal } from './control.ts';
export { emulatorControl, type Control } from './control-client.ts';
export { internalTypeOf } from './methods/robots.ts';
export { defaultCaFile, emulatorTls, removeTlsFiles, runTrustingEmulatorCa, spkiSha256, type EmulatorTls } from './tls.ts';
export { readBpt, sequentialTemplate, writeBpt } from './workflow/index.ts';
export type { WorkflowRuntime } from './workflow/engine.ts';

export interface StartOptions extends EmulatorOptions {
  /** the main port (OAuth, control API); 0 (default) for any free one */
  port?: number;
}

/** A portal as the ready line names it: where its REST is and its admin's incoming webhook. */
export interface PortalSummary {
  memberId: string;
  domain: string;
  clientEndpoint: string;
  adminUserId: number;
  webhookUrl: string;
}

/** The ready line's content: what a client needs to reach the emulator. */
export interface EmulatorSummary {
  baseUrl: string;
  oauthUrl: string;
  /** the CA to trust (NODE_EXTRA_CA_CERTS) */
  caFile: string;
  portals: PortalSummary[];
}

/** An app as registered in the partner area. */
export interface ApplicationRegistration {
  clientId: string;
  clientSecret: string;
  appUrl: string;
  /** opened on a frame install (default appUrl) */
  installUrl?: string;
  /** where ONAPPINSTALL of a headless install goes */
  eventUrl?: string;
  scopes?: string[];
  version?: number;
}

/** A grant as oauth.bitrix.info answers it, plus the installation's application_token. */
export interface Grant {
  access_token: string;
  refresh_token: string;
  expires: number;
  expires_in: number;
  scope: string;
  domain: string;
  server_endpoint: string;
  client_endpoint: string;
  member_id: string;
  user_id: number;
  status: string;
  application_token?: string;
}

export interface InstallAnswer {
  applicationToken: string;
  tokens: Grant;
  /** a frame install: what the app's install page answered */
  frame: { status: number; body: string } | null;
}

/** A step of a template: one of the app's robots by code, or a node as given. */
export type TemplateStep = { code: string; name?: string; properties?: Record<string, unknown> } | ActivityNode;

export interface RunningEmulator extends EmulatorSummary {
  /** the emulator in this process: its Fastify app and its state (portals, workflows, deliveries) */
  server: Emulator;
  /** any control API call: JSON in, JSON out */
  control: Control;
  /** the portals now (a moved portal has a new domain) */
  portals: PortalSummary[];
  summary(): EmulatorSummary;
  registerApplication(application: ApplicationRegistration): Promise<void>;
  /** headless: ONAPPINSTALL to the app's eventUrl; frame: the install page POSTed as a portal does */
  install(memberId: string, clientId: string, options?: { mode?: 'frame' | 'headless'; userId?: number }): Promise<InstallAnswer>;
  /** a fresh grant for a user of the portal in the installed app's context */
  token(memberId: string, clientId: string, userId?: number): Promise<Grant>;
  /** every access token of the portal expires now (refresh tokens stay valid) */
  expireTokens(memberId: string): Promise<number>;
  /** a template whose steps are the app's robots by code (ownerClientId's); returns its id */
  addTemplate(memberId: string, ownerClientId: string, steps: TemplateStep[]): Promise<number>;
  /** starts a workflow (the queue server calls the robots' handlers) and waits until it ends */
  runWorkflow(memberId: string, templateId: number, options?: { documentId?: [string, string, string]; timeoutMs?: number }): Promise<WorkflowInstance>;
  /** a fault on a REST method (`*` for all, `oauth` for the OAuth server); returns the rule */
  addFault(rule: Omit<FaultRule, 'id'>): Promise<FaultRule>;
  clearFaults(): Promise<void>;
  /** closes every listener; a CA made for this emulator alone (no caFile, no EMULATOR_CA_FILE) is removed */
  stop(): Promise<void>;
}

export async function startEmulator(options: StartOptions = {}): Promise<RunningEmulator> {
  const { port, ...emulatorOptions } = options;
  const ownCa = !options.caFile && !process.env.EMULATOR_CA_FILE;
  const emulator = await buildEmulator(emulatorOptions);
  let baseUrl: string;
  try {
    baseUrl = await emulator.listen(port ?? 0);
  } catch (error) {
    await emulator.close();
    if (ownCa) removeTlsFiles(emulator.caFile);
    throw error;
  }
  const control = emulatorControl(baseUrl);
  const portals = (): PortalSummary[] =>
    [...emulator.state.portals.values()].map((p) => {
      const { memberId, domain, clientEndpoint, adminUserId, webhookUrl } = describePortal(emulator.state, p);
      return { memberId, domain, clientEndpoint, adminUserId, webhookUrl };
    });
  const summary = (): EmulatorSummary => ({ baseUrl, oauthUrl: `${baseUrl}/oauth/token/`, caFile: emulator.caFile, portals: portals() });
  const running: RunningEmulator = {
    ...summary(),
    get portals() {
      return portals();
    },
    server: emulator,
    control,
    summary,
    async registerApplication(application) {
      await control('POST', '/_emulator/applications', application);
    },
    install: (memberId, clientId, { mode = 'headless', userId } = {}) => control<InstallAnswer>('POST', `/_emulator/portals/${memberId}/apps/${clientId}/install`, { mode, userId }),
    token: (memberId, clientId, userId = 1) => control<Grant>('POST', `/_emulator/portals/${memberId}/apps/${clientId}/tokens`, { userId }),
    expireTokens: async (memberId) => (await control<{ expired: number }>('POST', `/_emulator/portals/${memberId}/expire-tokens`)).expired,
    async addTemplate(memberId, ownerClientId, steps) {
      const nodes = steps.map((step, i): ActivityNode =>
        'Type' in step ? step : { Type: internalTypeOf(ownerClientId, step.code), Name: step.name ?? `A${i + 1}_${step.code}`, Properties: step.properties ?? {}, Children: [] },
      );
      const { id } = await control<{ id: number }>('POST', `/_emulator/portals/${memberId}/templates`, { steps: nodes, ownerClientId });
      return id;
    },
    async runWorkflow(memberId, templateId, { documentId = ['crm', 'CCrmDocumentDeal', 'DEAL_1'], timeoutMs = 30_000 } = {}) {
      const { id } = await control<{ id: string }>('POST', `/_emulator/portals/${memberId}/workflows`, { templateId, documentId });
      return control<WorkflowInstance>('GET', `/_emulator/portals/${memberId}/workflows/${id}?wait=${timeoutMs}`);
    },
    addFault: (rule) => control<FaultRule>('POST', '/_emulator/faults', rule),
    async clearFaults() {
      await control('DELETE', '/_emulator/faults');
    },
    async stop() {
      await emulator.close();
      if (ownCa) removeTlsFiles(emulator.caFile);
    },
  };
  return running;
}
