/** Faults on demand: a method answers an error, answers late, or drops the connection. */
import type { FastifyReply } from 'fastify';
import type { FaultRule as ContractRule } from './contract.ts';

/**
 * A rule as the contract has it, plus `dropAfterRun`: the method runs (the portal does what was
 * asked) and then the connection is cut before the answer leaves, so the caller cannot know.
 */
export type FaultRule = ContractRule & { dropAfterRun?: boolean };

export class Faults {
  readonly rules: FaultRule[] = [];
  /** faults acted out, per portal and what they did (`503`, `429`, `drop`, `delay`…), for tests to tell injected failures from earned ones */
  readonly fired = new Map<string, Record<string, number>>();
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
    // The portal it hit, for counting what was injected where.
    return { ...rule, memberId: rule.memberId ?? memberId };
  }

  /**
   * Acts out a fault: true when it answered (or dropped) the request, which must then not run;
   * false when the request should proceed normally (a pure delay). A boolean, not the reply:
   * a Fastify reply is a thenable, so an async function returning it resolves to undefined and
   * the method ran anyway after its error had been sent.
   */
  async apply(rule: FaultRule, reply: FastifyReply): Promise<boolean> {
    const count = (what: string) => {
      const key = rule.memberId ?? '(unauthenticated)';
      const entry = this.fired.get(key) ?? {};
      entry[what] = (entry[what] ?? 0) + 1;
      this.fired.set(key, entry);
    };
    if (rule.delayMs) {
      count('delay');
      await new Promise((resolve) => setTimeout(resolve, rule.delayMs));
    }
    if (rule.dropAfterRun) {
      count('drop-after-run');
      const raw = reply.raw;
      const cut = () => {
        raw.socket?.destroy();
        return raw;
      };
      raw.writeHead = cut as unknown as typeof raw.writeHead;
      raw.end = cut as unknown as typeof raw.end;
      return false;
    }
    if (rule.drop) {
      count('drop');
      reply.hijack();
      reply.raw.socket?.destroy();
      return true;
    }
    if (rule.error) {
      count(String(rule.error.status));
      void reply.code(rule.error.status).send({ error: rule.error.code, error_description: rule.error.description ?? rule.error.code });
      return true;
    }
    return false;
  }
}
