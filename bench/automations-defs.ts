import { flowAction, defineAutomation, type FlowDefinition, flow } from '../src/automations/index.ts';

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

/** The benchmark flowcontrol flow: two actions per run (the first records the process), nothing else. */
export const benchFlow: FlowDefinition = {
  name: 'BenchFlow',
  actions: [
    flowAction('work', (ctx) => {
      ctx.state.pid = process.pid;
    }),
    flowAction('finish', (ctx) => {
      ctx.state.finished = true;
    }),
  ],
};
