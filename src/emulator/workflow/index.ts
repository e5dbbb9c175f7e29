/**
 * The workflow side of the emulator: templates (.bpt), workflow runs, workflow tasks, the tasks
 * module, and the queue server that calls app handlers. The REST core imports only this file.
 * (Stub: the workflow side replaces it.)
 */
import type { FastifyPluginAsync } from 'fastify';
import type { EmulatorContext, MethodDefinition, Portal, WorkflowEngine } from '../contract.ts';

/** REST methods of the workflow side, by method name (lower case). */
export const workflowMethods: Record<string, MethodDefinition> = {};

export function createWorkflowEngine(_ctx: EmulatorContext): WorkflowEngine {
  return {
    async start() {
      throw new Error('workflow engine not built yet');
    },
    async waitFor() {
      throw new Error('workflow engine not built yet');
    },
  };
}

/** Fills a new portal's workflow store with seed data (tasks of the tasks module, …). */
export function seedPortalWorkflows(_portal: Portal): void {}

/** Control and inspection routes of the workflow side, registered under /_emulator. */
export const workflowControl: FastifyPluginAsync<{ ctx: EmulatorContext }> = async () => {};
