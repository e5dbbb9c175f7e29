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
import { callHandler } from './queue-server.ts';

const CONTAINERS = new Set(['SequentialWorkflowActivity', 'SequenceActivity', 'ParallelActivity', 'StateMachineWorkflowActivity']);
const TASK_KINDS: Record<string, BizprocTaskKind> = {
  ApproveActivity: 'approve',
  ReviewActivity: 'review',
  RequestInformationActivity: 'request',
  RequestInformationOptionalActivity: 'request-reject',
};

interface Waiting {
  portal: Portal;
  workflowId: string;
  activityName: string;
  returnProperties: ActivityRegistration['returnProperties'];
  resolve: (answer: { values: Record<string, unknown> } | { timedOut: true }) => void;
}

const SECRET = randomBytes(32);

export class WorkflowRuntime implements WorkflowEngine {
  /** event tokens an app step is waiting on */
  private readonly waiting = new Map<string, Waiting>();
  /** spent event tokens (event.send once) */
  readonly spent = new Set<string>();
  /** per event token: how many event.send and activity.log calls the portal took */
  readonly answers = new Map<string, { eventSend: number; activityLog: number; repeated: number }>();
  private readonly taskWaiters = new Map<number, () => void>();
  private readonly finished = new Map<string, Array<(instance: WorkflowInstance) => void>>();
  private nextTaskId = 1;

  constructor(private readonly ctx: EmulatorContext) {}

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
    for (const [token, waiting] of this.waiting) {
      if (waiting.workflowId === instance.id) {
        this.waiting.delete(token);
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

  issueToken(workflowId: string, activityName: string): string {
    const payload = Buffer.from(JSON.stringify({ w: workflowId, a: activityName, n: randomBytes(6).toString('hex') })).toString('base64url');
    return `${payload}.${createHmac('sha256', SECRET).update(payload).digest('base64url')}`;
  }

  /** The waiting step of a valid event token (ACCESS_DENIED otherwise, as the portal answers). */
  private waitingStep(token: unknown): [string, Waiting | undefined] {
    if (typeof token !== 'string' || !token.includes('.')) throw new RestError('ACCESS_DENIED', 'Access denied!', 403);
    const [payload, signature] = token.split('.') as [string, string];
    const expected = createHmac('sha256', SECRET).update(payload).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new RestError('ACCESS_DENIED', 'Access denied!', 403);
    return [token, this.waiting.get(token)];
  }

  /** bizproc.event.send: return values (matched to RETURN_PROPERTIES case-insensitively) and a log line. */
  eventSend(portal: Portal, token: unknown, returnValues: Record<string, unknown>, logMessage?: string) {
    const [key, waiting] = this.waitingStep(token);
    if (this.spent.has(key)) {
      // A step already closed: the portal answers true and changes nothing (restservice.php
      // sendEvent; CBPRestActivity::onExternalEvent ignores a closed step). Counted for tests.
      this.count(key).repeated += 1;
      return true;
    }
    if (!waiting || waiting.portal !== portal) {
      throw new RestError('ACCESS_DENIED', 'Access denied! The activity is not waiting for an answer.', 403);
    }
    const values: Record<string, unknown> = {};
    for (const [name] of Object.entries(waiting.returnProperties)) {
      const given = Object.entries(returnValues).find(([k]) => k.toLowerCase() === name.toLowerCase());
      if (given) values[name] = given[1];
    }
    this.spent.add(key);
    this.waiting.delete(key);
    this.count(key).eventSend += 1;
    const instance = portal.workflows.instances.get(waiting.workflowId);
    if (instance && logMessage) this.log(instance, waiting.activityName, String(logMessage));
    waiting.resolve({ values });
    return true;
  }

  activityLog(portal: Portal, token: unknown, message: unknown) {
    if (typeof message !== 'string' || message.trim() === '') throw new RestError('ERROR_EMPTY_LOG_MESSAGE', 'Empty log message!', 400);
    const [key, waiting] = this.waitingStep(token);
    if (!waiting || waiting.portal !== portal) throw new RestError('ACCESS_DENIED', 'Access denied! The activity is not waiting.', 403);
    const instance = portal.workflows.instances.get(waiting.workflowId);
    if (instance) this.log(instance, waiting.activityName, message);
    this.count(key).activityLog += 1;
    return true;
  }

  private count(token: string) {
    const entry = this.answers.get(token) ?? { eventSend: 0, activityLog: 0, repeated: 0 };
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
      this.log(instance, node.Name, String(this.resolve(portal, instance, node.Properties.Text ?? '')));
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
    const properties: Record<string, unknown> = {};
    for (const [name, declared] of Object.entries(registration.properties)) {
      // As a portal does: a property the step leaves unset takes the registered Default.
      const value = node.Properties[name] ?? declared.Default;
      properties[name] = value === undefined ? null : this.resolve(portal, instance, value);
    }
    const timeoutSeconds = Number(node.Properties.TimeoutDuration ?? 0) || 0;
    const waits = registration.useSubscription !== 'N';
    const eventToken = this.issueToken(instance.id, node.Name);
    const answer = waits
      ? new Promise<{ values: Record<string, unknown> } | { timedOut: true }>((resolve) => {
          this.waiting.set(eventToken, { portal, workflowId: instance.id, activityName: node.Name, returnProperties: registration.returnProperties, resolve });
          if (timeoutSeconds > 0) {
            setTimeout(() => {
              if (this.waiting.delete(eventToken)) resolve({ timedOut: true });
            }, timeoutSeconds * 1000);
          }
        })
      : null;
    const delivered = await callHandler(this.ctx, portal, {
      registration,
      workflowId: instance.id,
      document: instance.documentId,
      documentType: this.documentTypeOf(portal, instance),
      eventToken,
      properties,
      timeoutSeconds,
      userId: registration.authUserId || instance.startedBy,
    });
    if (!delivered) {
      // No retries, as a portal: the step gets no answer. It waits out its timeout, if it has one.
      this.log(instance, node.Name, 'The application handler did not accept the call');
    }
    if (!answer) return;
    const outcome = await answer;
    if ('timedOut' in outcome) {
      if (instance.status === 'running') this.log(instance, node.Name, 'Timed out waiting for the application');
      return;
    }
    instance.returnValues[node.Name] = outcome.values;
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
      name: String(this.resolve(portal, instance, node.Properties.Name ?? node.Name)),
      description: String(this.resolve(portal, instance, node.Properties.Description ?? '')),
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

  /** `{=Document:FIELD}`, `{=Variable:X}`, `{=Template:PARAM}`, `{=Activity:Return}` in a value. */
  resolve(portal: Portal, instance: WorkflowInstance, value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(portal, instance, v));
    if (typeof value !== 'string') return value;
    const lookup = (source: string, field: string): unknown => {
      if (source === 'Document') return portal.documents.get(instance.documentId[2])?.fields[field] ?? null;
      if (source === 'Variable') return instance.variables[field] ?? null;
      if (source === 'Template') return instance.parameters[field] ?? null;
      if (source === 'Workflow' && field === 'ID') return instance.id;
      if (source === 'System' && field === 'Now') return new Date().toISOString();
      const values = instance.returnValues[source];
      return values ? (Object.entries(values).find(([k]) => k.toLowerCase() === field.toLowerCase())?.[1] ?? null) : null;
    };
    const whole = /^\{=([A-Za-z0-9_]+):([A-Za-z0-9_]+)\}$/.exec(value.trim());
    if (whole) return lookup(whole[1]!, whole[2]!);
    return value.replace(/\{=([A-Za-z0-9_]+):([A-Za-z0-9_]+)\}/g, (_m, source: string, field: string) => {
      const resolved = lookup(source, field);
      return resolved === null || resolved === undefined ? '' : String(resolved);
    });
  }
}
