import { defineAutomation, flow } from '../src/automations/index.ts';

/**
 * The benchmark automation: one timed node (it records when it ran and in which process),
 * then the end: two steps per instance.
 */
export const benchTimer = defineAutomation('BenchTimer', {
  nodes: {
    wait: flow
      .execute((ctx) => {
        ctx.data.ranAt = Date.now();
        ctx.data.pid = process.pid;
      })
      .afterWaitingUntil((ctx) => ctx.data.dueAt as number),
    end: flow.end(),
  },
});
