import {
  type AutomationDefinition,
  type AutomationEffect,
  type AutomationRunner,
  createAutomationRunner,
  ManualClock,
  MemoryAutomationStorage,
} from '../../src/automations/index.ts';

/** 2026-03-02 09:00 UTC, a Monday: the start of every test clock. */
export const T0 = Date.UTC(2026, 2, 2, 9, 0);

/** A runner over fresh in-memory storage with a manual clock and readable sequential ids. */
export function harness(
  // biome-ignore lint/suspicious/noExplicitAny: definitions of any node-name union
  automations: AutomationDefinition<any>[],
  options: { storage?: MemoryAutomationStorage; clock?: ManualClock; maxStepsPerRun?: number } = {},
): { runner: AutomationRunner; clock: ManualClock; storage: MemoryAutomationStorage; effects: AutomationEffect[] } {
  const clock = options.clock ?? new ManualClock(T0);
  const storage = options.storage ?? new MemoryAutomationStorage();
  const effects: AutomationEffect[] = [];
  let n = 0;
  const runner = createAutomationRunner({
    storage,
    clock,
    automations,
    newId: () => `id${++n}`,
    maxStepsPerRun: options.maxStepsPerRun ?? 1000,
    onEffect: (e) => effects.push(e),
  });
  return { runner, clock, storage, effects };
}

/** `[node, message]` pairs of an instance's history, for compact assertions. */
export async function trail(runner: AutomationRunner, id: string): Promise<[string, string | null][]> {
  return (await runner.history(id)).map((row) => [row.status, row.message]);
}
