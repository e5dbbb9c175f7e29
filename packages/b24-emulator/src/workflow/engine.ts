/**
 * Runs workflows from templates, step by step, as a portal does for what the app can see:
 * approval, review and request-information steps create workflow tasks and wait for them; an
 * app's robot or action step (Type `rest_…`) goes to the queue server and, when it waits for
 * an answer, waits for bizproc.event.send or its timeout; SetVariableActivity and LogActivity
 * act; every other built-in activity is a logged no-op.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  RestError,
  type ActivityNode,
  type ActivityRegistration,
  type BizprocTask,
  type BizprocTaskKind,
  type EmulatorContext,
  type Portal,
  type WorkflowEngine,
  type WorkflowInstance,
} from '../contract.ts';
import { QueueServer } from './queue-server.ts';
import { externalizeProperty, formatCultureDate, internalizeReturnValue } from './values.ts';

const CONTAINERS = new Set(['SequentialWorkflowActivity', 'SequenceActivity', 'ParallelActivity', 'StateMachineWorkflowActivity']);
const TASK_KINDS: Record<string, BizprocTaskKind> = {
  ApproveActivity: 'approve',
  ReviewActivity: 'review',
  RequestInformationActivity: 'request',
  RequestInformationOptionalActivity: 'request-reject',
};

/** An app step waiting for bizproc.event.send: keyed by workflow id and activity name, as the core subscribes. */
interface Waiting {
  portal: Portal;
  workflowId: string;
  activityName: string;
  /** the step's current event id: an answer carrying another one is stale */
  eventId: string;
  returnProperties: ActivityRegistration['returnProperties'];
  resolve: (answer: { values: Record<string, unknown> } | { timedOut: true }) => void;
}

/**
 * Per event token, what the portal got and what took effect (GET /_emulator/answers):
 * `eventSendReceived` counts every bizproc.event.send with a token that decodes; `eventSend`
 * counts those that closed the waiting step (0 or 1: a portal takes one answer per step);
 * `repeated` counts the rest (answered `true` with no effect, or refused because the workflow
 * ended). `activityLogReceived` / `activityLog` likewise for bizproc.activity.log (a log line
 * for a step that no longer waits is dropped).
 */
export interface AnswerCounts {
  eventSendReceived: number;
  eventSend: number;
  repeated: number;
  activityLogReceived: number;
  activityLog: number;
}

/** What restactivity.php writes to the log when event.send carries no LOG_MESSAGE (en lang file). */
const DEFAULT_LOG_MESSAGE = 'Received application response';

/**
 * An ended workflow has no instance row, so CBPRuntime::GetWorkflow throws a plain Exception
 * (BPCGWP_INVALID_WF, code EXCEPTION_CODE_INSTANCE_NOT_FOUND = 404), which the REST server turns
 * into HTTP 400 with the exception's integer code as `error` (RestException::initFromException).
 */
function workflowNotFound(): RestError {
  return new RestError(404 as unknown as string, 'The business process is not found.', 400);
}

const SECRET = randomBytes(32);

export class WorkflowRuntime implements WorkflowEngine {
  /** app steps waiting for an answer, by `workflowId|activityName` */
  private readonly waiting = new Map<string, Waiting>();
  /** per event token: see AnswerCounts */
  readonly answers = new Map<string, AnswerCounts>();
  private readonly taskWaiters = new Map<number, () => void>();
  private readonly finished = new Map<string, Array<(instance: WorkflowInstance) => void>>();
  private nextTaskId = 1;

  private readonly queueServer: QueueServer;

  constructor(private readonly ctx: EmulatorContext) {
    this.queueServer = new QueueServer(ctx);
  }

  close(): void {
    this.queueServer.close();
  }

  async start(portal: Portal, params: { templateId: number; documentId: [string, string, string]; parameters?: Record<string, unknown>; startedBy: number }) {
    const template = portal.workflows.templates.get(params.templateId);
    if (!template) throw new RestError('ERROR_WRONG_WORKFLOW_ID', 'Template not found', 400);
    const now = new Date().toISOString();
    const instance: WorkflowInstance = {
      id: `${randomBytes(6).toString('hex')}.${Date.now().toString(16)}`,
      templateId: template.id,
      documentId: params.documentId,
      startedBy: params.startedBy,
      started: now,
      modified: now,
      status: 'running',
      parameters: params.parameters ?? {},
      variables: Object.fromEntries(Object.entries(template.variables).map(([k, v]) => [k, (v as { Default?: unknown })?.Default ?? null])),
      log: [],
      returnValues: {},
    };
    portal.workflows.instances.set(instance.id, instance);
    void this.run(portal, instance, template.template);
    return instance;
  }

  waitFor(portal: Portal, workflowId: string, timeoutMs: number): Promise<WorkflowInstance> {
    const instance = portal.workflows.instances.get(workflowId);
    if (!instance) return Promise.reject(new Error(`no workflow ${workflowId}`));
    if (instance.status !== 'running') return Promise.resolve(instance);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(instance), timeoutMs);
      const list = this.finished.get(workflowId) ?? [];
      list.push((done) => {
        clearTimeout(timer);
        resolve(done);
      });
      this.finished.set(workflowId, list);
    });
  }

  /** Ends a workflow from outside (terminate, kill): steps waiting on it stop waiting. */
  stop(portal: Portal, instance: WorkflowInstance, status: 'terminated', message?: string) {
    instance.status = status;
    instance.statusMessage = message;
    instance.modified = new Date().toISOString();
    for (const [key, waiting] of this.waiting) {
      if (waiting.workflowId === instance.id) {
        this.waiting.delete(key);
        waiting.resolve({ timedOut: true });
      }
    }
    for (const task of portal.workflows.bizprocTasks.values()) {
      if (task.workflowId === instance.id && task.status === 0) {
        task.status = 4;
        this.taskWaiters.get(task.id)?.();
      }
    }
    this.notifyFinished(instance);
  }

  log(instance: WorkflowInstance, activity: string, message: string) {
    instance.log.push({ at: new Date().toISOString(), activity, message });
    instance.modified = new Date().toISOString();
  }

  // ---- event tokens ----

  /**
   * `workflowId|activityName|eventId` signed, as CBPRestActivity::generateToken does with the
   * Signer (value, a dot, the signature).
   */
  issueToken(workflowId: string, activityName: string, eventId: string): string {
    const value = `${workflowId}|${activityName}|${eventId}`;
    return `${value}.${createHmac('sha256', SECRET).update(value).digest('hex')}`;
  }

  /** [workflowId, activityName, eventId] of a token; ACCESS_DENIED when it does not decode (extractEventToken). */
  private extractToken(token: unknown): [string, string, string] {
    const denied = () => new RestError('ACCESS_DENIED', 'Access denied!', 403);
    if (typeof token !== 'string') throw denied();
    const dot = token.lastIndexOf('.');
    if (dot < 0) throw denied();
    const value = token.slice(0, dot);
    const expected = createHmac('sha256', SECRET).update(value).digest();
    const given = Buffer.from(token.slice(dot + 1), 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw denied();
    const parts = value.split('|');
    if (parts.length !== 3) throw denied();
    return parts as [string, string, string];
  }

  /**
   * The step an answer is for, as CBPRuntime::sendExternalEvent finds it: the workflow must still
   * run on this portal (else the core's "not found" error); a step that no longer waits, or waits
   * under another event id, gets nothing (onExternalEvent returns) and the method still answers true.
   */
  private answeredStep(portal: Portal, token: unknown, kind: 'eventSend' | 'activityLog'): Waiting | null {
    const [workflowId, activityName, eventId] = this.extractToken(token);
    const counts = this.count(token as string);
    counts[kind === 'eventSend' ? 'eventSendReceived' : 'activityLogReceived'] += 1;
    const instance = portal.workflows.instances.get(workflowId);
    if (!instance || instance.status !== 'running') {
      if (kind === 'eventSend') counts.repeated += 1;
      throw workflowNotFound();
    }
    const waiting = this.waiting.get(`${workflowId}|${activityName}`);
    return waiting && waiting.eventId === eventId && waiting.portal === portal ? waiting : null;
  }

  /** bizproc.event.send: return values (upper-cased keys matched to RETURN_PROPERTIES, internalised) and a log line. */
  eventSend(portal: Portal, token: unknown, returnValues: unknown, logMessage?: unknown) {
    const waiting = this.answeredStep(portal, token, 'eventSend');
    const entry = this.count(token as string);
    if (!waiting) {
      entry.repeated += 1;
      return true;
    }
    const instance = portal.workflows.instances.get(waiting.workflowId)!;
    this.log(instance, waiting.activityName, typeof logMessage === 'string' && logMessage !== '' ? logMessage : DEFAULT_LOG_MESSAGE);
    const byUpper = new Map(Object.keys(waiting.returnProperties).map((name) => [name.toUpperCase(), name]));
    const values: Record<string, unknown> = {};
    if (returnValues && typeof returnValues === 'object') {
      for (const [key, value] of Object.entries(returnValues)) {
        const name = byUpper.get(key.toUpperCase());
        if (name) values[name] = internalizeReturnValue(waiting.returnProperties[name]!, value, portal);
      }
    }
    this.waiting.delete(`${waiting.workflowId}|${waiting.activityName}`);
    entry.eventSend += 1;
    waiting.resolve({ values });
    return true;
  }

  /** bizproc.activity.log: the token first, then the message (restservice.php writeActivityLog). */
  activityLog(portal: Portal, token: unknown, message: unknown) {
    this.extractToken(token);
    if (typeof message !== 'string' || message === '' || message === '0') throw new RestError('ERROR_EMPTY_LOG_MESSAGE', 'Empty log message!', 400);
    const waiting = this.answeredStep(portal, token, 'activityLog');
    if (!waiting) return true;
    this.log(portal.workflows.instances.get(waiting.workflowId)!, waiting.activityName, message);
    this.count(token as string).activityLog += 1;
    return true;
  }

  private count(token: string): AnswerCounts {
    const entry = this.answers.get(token) ?? { eventSendReceived: 0, eventSend: 0, repeated: 0, activityLogReceived: 0, activityLog: 0 };
    this.answers.set(token, entry);
    return entry;
  }

  // ---- workflow tasks ----

  taskDone(task: BizprocTask) {
    this.taskWaiters.get(task.id)?.();
  }

  // ---- running ----

  private async run(portal: Portal, instance: WorkflowInstance, tree: ActivityNode[]) {
    try {
      for (const node of tree) {
        if (instance.status !== 'running') return;
        await this.step(portal, instance, node);
      }
      if (instance.status === 'running') {
        instance.status = 'completed';
        this.log(instance, 'Template', 'The workflow completed');
      }
    } catch (error) {
      if (instance.status === 'running') {
        instance.status = 'failed';
        this.log(instance, 'Template', `The workflow failed: ${(error as Error).message}`);
      }
    } finally {
      instance.modified = new Date().toISOString();
      this.notifyFinished(instance);
    }
  }

  private notifyFinished(instance: WorkflowInstance) {
    for (const done of this.finished.get(instance.id) ?? []) done(instance);
    this.finished.delete(instance.id);
  }

  private async step(portal: Portal, instance: WorkflowInstance, node: ActivityNode): Promise<void> {
    if (node.Activated === 'N') return;
    if (CONTAINERS.has(node.Type)) {
      for (const child of node.Children) {
        if (instance.status !== 'running') return;
        await this.step(portal, instance, child);
      }
      return;
    }
    if (node.Type.startsWith('rest_')) return this.appStep(portal, instance, node);
    const kind = TASK_KINDS[node.Type];
    if (kind) return this.taskStep(portal, instance, node, kind);
    if (node.Type === 'SetVariableActivity') {
      const values = (node.Properties.VariableValue ?? {}) as Record<string, unknown>;
      for (const [name, value] of Object.entries(values)) instance.variables[name] = this.resolve(portal, instance, value);
      return;
    }
    if (node.Type === 'LogActivity') {
      this.log(instance, node.Name, this.text(portal, instance, node.Properties.Text ?? ''));
      return;
    }
    this.log(instance, node.Name, `${node.Type}: done`);
  }

  private registrationOf(portal: Portal, type: string): ActivityRegistration | undefined {
    for (const app of portal.apps.values()) {
      if (!app.installed) continue;
      for (const registration of [...app.robots.values(), ...app.activities.values()]) {
        if (registration.internalType === type) return registration;
      }
    }
    return undefined;
  }

  private async appStep(portal: Portal, instance: WorkflowInstance, node: ActivityNode) {
    const registration = this.registrationOf(portal, node.Type);
    if (!registration) {
      this.log(instance, node.Name, 'The activity is not available: its application removed it or was uninstalled');
      return;
    }
    const properties: Record<string, string | string[]> = {};
    for (const [name, declared] of Object.entries(registration.properties)) {
      // As a portal does: a property the step leaves unset takes the registered Default.
      const value = node.Properties[name] ?? declared.Default;
      properties[name] = externalizeProperty(declared, value === undefined ? null : this.resolve(portal, instance, value), portal);
    }
    const timeoutSeconds = timeoutDuration(node.Properties);
    const useSubscription = this.useSubscription(registration, node);
    const eventId = randomBytes(16).toString('hex');
    const eventToken = this.issueToken(instance.id, node.Name, eventId);
    const answer =
      useSubscription === 'Y'
        ? new Promise<{ values: Record<string, unknown> } | { timedOut: true }>((resolve) => {
            const key = `${instance.id}|${node.Name}`;
            this.waiting.set(key, { portal, workflowId: instance.id, activityName: node.Name, eventId, returnProperties: registration.returnProperties, resolve });
            if (timeoutSeconds > 0) {
              setTimeout(() => {
                if (this.waiting.get(key)?.eventId === eventId && this.waiting.delete(key)) resolve({ timedOut: true });
              }, timeoutSeconds * 1000);
            }
          })
        : null;
    const delivered = await this.queueServer.deliver(portal, {
      registration,
      workflowId: instance.id,
      document: instance.documentId,
      documentType: this.documentTypeOf(portal, instance),
      eventToken,
      properties,
      useSubscription,
      timeoutSeconds,
      userId: this.authUserOf(portal, instance, registration, node),
    });
    if (!delivered) {
      // No retries, as a portal: the step gets no answer. It waits out its timeout, if it has one.
      this.log(instance, node.Name, 'The application handler did not accept the call');
    }
    if (!answer) return;
    const outcome = await answer;
    if ('timedOut' in outcome) {
      if (instance.status === 'running') {
        this.log(instance, node.Name, 'Timed out waiting for the application');
        instance.returnValues[node.Name] = { IsTimeout: 1 };
      }
      return;
    }
    instance.returnValues[node.Name] = outcome.values;
  }

  /**
   * `use_subscription`: the registration's USE_SUBSCRIPTION when set (it then overrides the step,
   * restactivity.php getPropertiesDialogValues); when empty, the step's UseSubscription, and
   * without one the docs' rule: empty means the robot waits (bizproc.robot.add).
   */
  private useSubscription(registration: ActivityRegistration, node: ActivityNode): 'Y' | 'N' {
    if (registration.useSubscription === 'Y' || registration.useSubscription === 'N') return registration.useSubscription;
    return node.Properties.UseSubscription === 'N' ? 'N' : 'Y';
  }

  /**
   * Whose tokens the call carries: the step's AuthUserId (`user_N`, or `author`), else the
   * registration's AUTH_USER_ID (restactivity.php execute: ExtractUsers, then AUTH_USER_ID), else
   * the user who started the workflow.
   */
  private authUserOf(portal: Portal, instance: WorkflowInstance, registration: ActivityRegistration, node: ActivityNode): number {
    const fromStep = node.Properties.AuthUserId === undefined ? [] : this.usersOf(portal, instance, node.Properties.AuthUserId);
    return fromStep[0] ?? (registration.authUserId || instance.startedBy);
  }

  private documentTypeOf(portal: Portal, instance: WorkflowInstance): [string, string, string] {
    const template = portal.workflows.templates.get(instance.templateId);
    return template?.documentType ?? [instance.documentId[0], instance.documentId[1], instance.documentId[2].replace(/_\d+$/, '')];
  }

  private async taskStep(portal: Portal, instance: WorkflowInstance, node: ActivityNode, kind: BizprocTaskKind) {
    const users = this.usersOf(portal, instance, node.Properties.Users);
    if (users.length === 0) {
      this.log(instance, node.Name, 'No users to assign the task to');
      return;
    }
    const now = new Date().toISOString();
    const task: BizprocTask = {
      id: this.nextTaskId++,
      workflowId: instance.id,
      activityName: node.Name,
      kind,
      name: this.text(portal, instance, node.Properties.Name ?? node.Name),
      description: this.text(portal, instance, node.Properties.Description ?? ''),
      userIds: users,
      userStatus: new Map(users.map((u) => [u, 0])),
      status: 0,
      created: now,
      modified: now,
      documentId: instance.documentId,
      fields: Array.isArray(node.Properties.RequestedInformation) ? node.Properties.RequestedInformation : undefined,
      delegationType: 0,
    };
    portal.workflows.bizprocTasks.set(task.id, task);
    this.log(instance, node.Name, `Task #${task.id} "${task.name}" assigned to ${users.map((u) => `user_${u}`).join(', ')}`);
    await new Promise<void>((resolve) => this.taskWaiters.set(task.id, resolve));
    this.taskWaiters.delete(task.id);
    instance.variables[`${node.Name}_status`] = task.status;
  }

  private usersOf(portal: Portal, instance: WorkflowInstance, value: unknown): number[] {
    const list = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
    const ids = list.flatMap((entry) => {
      const resolved = this.resolve(portal, instance, entry);
      if (resolved === 'author') return [instance.startedBy];
      const match = /^(?:user_)?(\d+)$/.exec(String(resolved));
      return match ? [Number(match[1])] : [];
    });
    return [...new Set(ids)].filter((id) => portal.users.get(id)?.active);
  }

  /** A value resolved and printed as the log shows it (dates in the culture's format). */
  private text(portal: Portal, instance: WorkflowInstance, value: unknown): string {
    const resolved = this.resolve(portal, instance, value);
    return resolved instanceof Date ? formatCultureDate(resolved, 'datetime', portal) : String(resolved ?? '');
  }

  /** `{=Document:FIELD}`, `{=Variable:X}`, `{=Template:PARAM}`, `{=Activity:Return}` in a value. */
  resolve(portal: Portal, instance: WorkflowInstance, value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(portal, instance, v));
    if (typeof value !== 'string') return value;
    const lookup = (source: string, field: string): unknown => {
      if (source === 'Document') return portal.documents.get(instance.documentId[2])?.fields[field] ?? null;
      if (source === 'Variable') return instance.variables[field] ?? null;
      if (source === 'Template') return instance.parameters[field] ?? null;
      if (source === 'Workflow' && field === 'ID') return instance.id;
      if (source === 'System' && field === 'Now') return new Date();
      const values = instance.returnValues[source];
      if (!values) return null;
      // IsTimeout is the step's own property (restactivity.php): 1 after a timeout, else 0.
      if (field === 'IsTimeout') return values.IsTimeout ?? 0;
      return Object.entries(values).find(([k]) => k.toLowerCase() === field.toLowerCase())?.[1] ?? null;
    };
    const whole = /^\{=([A-Za-z0-9_]+):([A-Za-z0-9_]+)\}$/.exec(value.trim());
    if (whole) return lookup(whole[1]!, whole[2]!);
    return value.replace(/\{=([A-Za-z0-9_]+):([A-Za-z0-9_]+)\}/g, (_m, source: string, field: string) => {
      const resolved = lookup(source, field);
      if (resolved instanceof Date) return formatCultureDate(resolved, 'datetime', portal);
      return resolved === null || resolved === undefined ? '' : String(resolved);
    });
  }
}

/** restactivity.php calculateTimeoutDuration: TimeoutDuration in TimeoutDurationType (s, m, h, d) units, at most 5 years. */
export function timeoutDuration(properties: Record<string, unknown>): number {
  const amount = Math.trunc(Number(properties.TimeoutDuration ?? 0)) || 0;
  const unit = String(properties.TimeoutDurationType ?? 's').toLowerCase();
  const factor = { s: 1, m: 60, h: 3600, d: 86_400 }[unit] ?? 1;
  return Math.min(amount * factor, 3600 * 24 * 365 * 5);
}
