/**
 * Robot tests on the shared end-to-end stack (test/support/stack.ts: the portal emulator, a
 * fresh PostgreSQL database, the app on a real listener, meeting only over HTTP), with the app
 * installed on one portal, and what robot tests need on top: templates of workflow steps,
 * workflows started and awaited, one robot run as a workflow of its own.
 */
import type { ActivityNode, WorkflowInstance } from '@b24-automation/emulator';
import { internalTypeOf } from '@b24-automation/emulator';
import { startStack, type Stack, type StackOptions } from '../support/stack.ts';

export type DocumentId = [string, string, string];
export type DocumentType = [string, string, string];
export type Step = Pick<ActivityNode, 'Type' | 'Name' | 'Properties'>;

export interface RobotRun {
  workflow: WorkflowInstance;
  /** what the robot returned (bizproc.event.send RETURN_VALUES, as the step kept them: strings) */
  returned: Record<string, any>;
  /** the step's lines in the workflow log (bizproc.activity.log and the answer's LOG_MESSAGE) */
  log: string[];
}

export interface Stage {
  stack: Stack;
  memberId: string;
  /** REST on the portal as its administrator (user 1), through the incoming webhook */
  rest<T = any>(method: string, params?: Record<string, unknown>): Promise<T>;
  control: Stack['control'];
  /** a template of these steps, added as a portal admin would (for deals unless told); its id */
  addTemplate(steps: Step[], documentType?: DocumentType): Promise<number>;
  /** starts a workflow (as user 1 unless told) and returns its id without waiting */
  startWorkflow(templateId: number, documentId: DocumentId, options?: { parameters?: Record<string, unknown>; userId?: number }): Promise<string>;
  /** a workflow as the emulator has it, after waiting up to `waitMs` for it to leave `running` */
  workflow(id: string, waitMs?: number): Promise<WorkflowInstance | null>;
  /** runs one workflow on `documentId` whose template is this robot's step alone, to its end */
  runRobot(code: string, properties: Record<string, unknown>, documentId: DocumentId): Promise<RobotRun>;
  /** injects a fault: the next `remaining` calls of `method` answer this error */
  refuse(method: string, code: string, description: string, status: number, remaining?: number): Promise<void>;
  stop(): Promise<void>;
}

export const DEAL_TYPE: DocumentType = ['crm', 'CCrmDocumentDeal', 'DEAL'];
export const deal = (n: number): DocumentId => ['crm', 'CCrmDocumentDeal', `DEAL_${n}`];

/** A workflow task step (ApproveActivity, ReviewActivity, RequestInformation[Optional]Activity). */
export function taskStep(type: string, users: number[], name: string, extra: Record<string, unknown> = {}): Step {
  return { Type: type, Name: name, Properties: { Users: users.map((u) => `user_${u}`), Name: name, ...extra } };
}

export async function startStage(options: StackOptions = {}): Promise<Stage> {
  const stack = await startStack(options);
  try {
    const memberId = stack.memberId(0);
    await stack.install(memberId, 'headless');
    const portalPath = `/_emulator/portals/${memberId}`;

    const addTemplate: Stage['addTemplate'] = async (steps, documentType = DEAL_TYPE) =>
      (await stack.control<{ id: number }>('POST', `${portalPath}/templates`, { steps, documentType })).id;
    const startWorkflow: Stage['startWorkflow'] = async (templateId, documentId, options = {}) =>
      (await stack.control<{ id: string }>('POST', `${portalPath}/workflows`, { templateId, documentId, ...options })).id;
    const workflow: Stage['workflow'] = (id, waitMs = 0) => stack.control('GET', `${portalPath}/workflows/${id}${waitMs > 0 ? `?wait=${waitMs}` : ''}`);

    return {
      stack,
      memberId,
      rest: (method, params) => stack.rest(memberId, method, params),
      control: stack.control,
      addTemplate,
      startWorkflow,
      workflow,
      async runRobot(code, properties, documentId) {
        const step: Step = { Type: internalTypeOf(stack.clientId, code), Name: 'Robot', Properties: properties };
        const templateId = await addTemplate([step], [documentId[0], documentId[1], documentId[2].replace(/_\d+$/, '')]);
        const id = await startWorkflow(templateId, documentId);
        const done = await workflow(id, 60_000);
        if (!done || done.status === 'running') throw new Error(`the workflow running ${code} did not finish within 60 s`);
        return {
          workflow: done,
          returned: done.returnValues[step.Name] ?? {},
          log: done.log.filter((line) => line.activity === step.Name).map((line) => line.message),
        };
      },
      async refuse(method, code, description, status, remaining = 1) {
        await stack.control('POST', '/_emulator/faults', { method, memberId, error: { code, description, status }, remaining });
      },
      stop: () => stack.stop(),
    };
  } catch (error) {
    await stack.stop();
    throw error;
  }
}
