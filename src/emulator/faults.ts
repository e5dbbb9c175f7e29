/** Faults on demand: a method answers an error, answers late, or drops the connection. */
import type { FastifyReply } from 'fastify';
import type { FaultRule } from './contract.ts';

export class Faults {
  readonly rules: FaultRule[] = [];
  private nextId = 1;

  add(rule: Omit<FaultRule, 'id'>): FaultRule {
    const added = { ...rule, id: this.nextId++ };
    this.rules.push(added);
    return added;
  }

  clear(): void {
    this.rules.length = 0;
  }

  /** The first rule that applies to this method and portal, counted as used. */
  take(method: string, memberId: string | undefined): FaultRule | undefined {
    const rule = this.rules.find(
      (r) => (r.method === '*' ? method !== 'oauth' : r.method.toLowerCase() === method) && (!r.memberId || r.memberId === memberId),
    );
    if (!rule) return undefined;
    if (rule.remaining !== undefined) {
      rule.remaining -= 1;
      if (rule.remaining <= 0) this.rules.splice(this.rules.indexOf(rule), 1);
    }
    return rule;
  }

  /** Acts out a fault: null when the request should then proceed normally (a pure delay). */
  async apply(rule: FaultRule, reply: FastifyReply): Promise<FastifyReply | null> {
    if (rule.delayMs) await new Promise((resolve) => setTimeout(resolve, rule.delayMs));
    if (rule.drop) {
      reply.raw.socket?.destroy();
      return reply.hijack(), reply;
    }
    if (rule.error) {
      return reply.code(rule.error.status).send({ error: rule.error.code, error_description: rule.error.description ?? rule.error.code });
    }
    return null;
  }
}
