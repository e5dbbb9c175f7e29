import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sequentialTemplate, writeBpt } from '@b24-automation/emulator';
import { startStack, type Stack } from '../support/stack.ts';

describe('the workflows and tasks API behind the pages', () => {
  let stack: Stack;
  let member: string;
  const tokenFor = async (userId: number) => (await stack.control('POST', `/_emulator/portals/${member}/apps/${stack.clientId}/tokens`, { userId })).access_token as string;
  const api = async (token: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${stack.appUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'x-b24-member-id': member, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  const bpt = writeBpt({ TEMPLATE: sequentialTemplate([{ Type: 'ReviewActivity', Name: 'Review', Properties: { Users: ['user_3'], Name: 'Read the deal' } }]) }).toString('base64');

  beforeAll(async () => {
    stack = await startStack({ emulator: { portals: 1, rateLimit: { drainPerSec: 20, maxBurst: 200 } }, rateLimit: { drainPerSec: 20, capacity: 150 }, logLevel: 'warn' });
    member = stack.memberId(0);
    await stack.install(member, 'headless');
  });
  afterAll(() => stack?.stop());

  it('adds, updates and deletes its own templates; refuses to touch others; passes the portal’s refusal through', async () => {
    const admin = await tokenFor(1);
    const documentType = ['crm', 'CCrmDocumentDeal', 'DEAL'];
    const added = await api(admin, 'POST', '/api/templates', { name: 'Review', documentType, file: bpt });
    expect(added.status).toBe(200);
    const list = await api(admin, 'GET', '/api/templates');
    expect(list.body.find((t: any) => t.id === added.body.id)).toMatchObject({ name: 'Review', owned: true, documentType });
    expect((await api(admin, 'PUT', `/api/templates/${added.body.id}`, { name: 'Review v2', file: bpt })).status).toBe(200);
    expect(stack.emulator.state.portals.get(member)!.workflows.templates.get(added.body.id)!.name).toBe('Review v2');

    const foreign = await stack.templateWith(member, [{ Type: 'LogActivity', Name: 'Log', Properties: { Text: 'x' }, Children: [] }]);
    expect(await api(admin, 'DELETE', `/api/templates/${foreign}`)).toMatchObject({ status: 403, body: { error: 'NOT_OWNED' } });
    const broken = await api(admin, 'POST', '/api/templates', { name: 'Broken', documentType, file: Buffer.from('not a bpt').toString('base64') });
    expect(broken.status).toBe(409);
    expect(broken.body.error_description).toContain('TEMPLATE_DATA');
    expect((await api(admin, 'POST', '/api/templates', { name: 'x', documentType: ['crm'], file: bpt })).status).toBe(400);

    expect((await api(admin, 'DELETE', `/api/templates/${added.body.id}`)).status).toBe(200);
    expect(stack.emulator.state.portals.get(member)!.workflows.templates.has(added.body.id)).toBe(false);
    expect(await stack.database.db.prisma.ownedTemplate.count()).toBe(0);
  });

  it("starts a workflow; a user sees and completes only their own task; others' are refused by the portal", async () => {
    const admin = await tokenFor(1);
    const { body: template } = await api(admin, 'POST', '/api/templates', { name: 'Review', documentType: ['crm', 'CCrmDocumentDeal', 'DEAL'], file: bpt });
    const started = await api(admin, 'POST', '/api/workflows', { templateId: template.id, documentId: 'DEAL_2' });
    expect(started.status).toBe(200);
    expect((await api(admin, 'GET', '/api/workflows')).body.items.map((w: any) => w.id)).toContain(started.body.id);
    expect((await api(admin, 'POST', '/api/workflows', { templateId: template.id, documentId: 'DEAL_999' })).status).toBe(409);

    const clara = await tokenFor(3);
    const tasks = (await api(clara, 'GET', '/api/tasks')).body;
    expect(tasks).toHaveLength(1);
    expect((await api(admin, 'GET', '/api/tasks')).body).toHaveLength(0);
    const dmitri = await tokenFor(4);
    expect((await api(dmitri, 'POST', `/api/tasks/${tasks[0].id}/complete`, { status: 3 })).status).toBe(409);
    expect((await api(clara, 'GET', '/api/workflows')).status).toBe(403);
    expect((await api(clara, 'POST', `/api/tasks/${tasks[0].id}/complete`, { status: 3, comment: 'read' })).status).toBe(200);
    expect((await api(clara, 'GET', '/api/tasks')).body).toHaveLength(0);
  });
});
