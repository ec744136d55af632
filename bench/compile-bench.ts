// Measured by bench/compile.mjs in Node: compile time of a large flow, and the heap a live task of it holds.
import { compile, type Flow, startTask, type Task } from '../src/core/index.ts';
import { memoryStore } from '../src/persist/index.ts';
import { deepFlow } from './flow-of-size.ts';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * A sampler of the time (ms) to validate and compile a fresh 1,000-action, 10-deep flow (the cache is per flow object),
 * warmed up: each call compiles once and returns its time, so two builds can be sampled in turn.
 */
export function compileSampler(actions = 1000, depth = 10) {
  const flow = deepFlow(actions, depth);
  for (let i = 0; i < 5; i++) compile({ ...flow } as Flow);
  const sample = () => {
    const fresh = { ...flow } as Flow;
    const started = performance.now();
    compile(fresh);
    return performance.now() - started;
  };
  return { sample, actions, depth };
}

/** The median of `times` with what was sampled. */
export function compileFigure(times: number[], sampler: { actions: number; depth: number }) {
  return { median: median(times), samples: times.length, actions: sampler.actions, depth: sampler.depth };
}

/** Heap bytes per live task of that flow, each five steps in, measured over `count` tasks (needs --expose-gc). */
export async function heapPerTask(count: number, actions = 1000, depth = 10) {
  const flow = deepFlow(actions, depth);
  const store = memoryStore();
  compile(flow);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run node with --expose-gc');
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return process.memoryUsage().heapUsed;
  };
  const before = await settle();
  const tasks: Task[] = [];
  for (let i = 0; i < count; i++) {
    const task = await startTask(flow, { store, binder: 'bench' });
    for (let s = 0; s < 5; s++) await task.submit({ value: `input ${s}` });
    tasks.push(task);
  }
  const after = await settle();
  const perTask = (after - before) / count;
  for (const task of tasks) task.dispose();
  return { bytesPerTask: Math.round(perTask), count, note: 'heap of the task, its XState actor and its record in a memory store' };
}
