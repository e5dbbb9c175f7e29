/**
 * The emulator's state: what every part (OAuth, REST, control API, lifecycle, portal page,
 * workflow side) reads and writes. server.ts assembles it; the parts import only its type, so
 * no part imports the assembler.
 */
import type { EmulatorContext, Lang, MethodDefinition, Portal } from './contract.ts';
import type { Faults } from './faults.ts';
import type { Grants } from './grants.ts';
import type { EventDelivery, Lifecycle } from './lifecycle.ts';
import type { PeopleSeed } from './seed.ts';
import type { Stats } from './stats.ts';

export interface EmulatorState extends EmulatorContext {
  grants: Grants;
  faults: Faults;
  methods: Map<string, MethodDefinition>;
  stats: Stats;
  lifecycle: Lifecycle;
  eventLog: EventDelivery[];
  /** extra seconds of "server time" a method costs, to reach OPERATION_TIME_LIMIT in tests */
  operatingCost: Map<string, number>;
  /** Creates portals (with listeners once the emulator listens); HTTPS unless told otherwise. */
  addPortals(count: number, options?: AddPortalsOptions): Promise<Portal[]>;
}

export interface AddPortalsOptions {
  protocol?: Portal['protocol'];
  kind?: Portal['kind'];
  /** the portal's language (default en) */
  languageId?: Lang;
  /** 'showcase': realistic invented names instead of the test seed's (seed.ts) */
  people?: PeopleSeed;
}
