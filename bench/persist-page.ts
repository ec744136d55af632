// Benchmark page for bench/persist.mjs, run in real Chromium: wayflow's
// submit → transition → persist cycle against a hand-written XState + idb
// baseline doing the same work, and the restore of a task with 100 KB of state.
import { type DBSchema, openDB } from 'idb';
import { type AnyStateMachine, assign, createActor, createMachine, initialTransition, transition } from 'xstate';
import { action, defineFlow, restoreTask, startTask, type Task } from '../src/core/index.ts';
import { flowOfSize } from './flow-of-size.ts';
import { claimTask, indexedDbStore, migrateRecord, openTask } from '../src/persist/index.ts';

const STEPS = 12;
const stepIds = Array.from({ length: STEPS }, (_, i) => `step${i}`);

/** A linear flow of STEPS form steps; each submit stores its input under the step id. */
const flow = defineFlow({ id: 'bench', version: 1, title: 'Bench', children: stepIds.map((id) => action({ id, title: id })) });

interface BaselineContext {
  data: Record<string, unknown>;
  history: { at: number; event: string; from: string; to: string }[];
  trail?: { step: string; visit: number; data: Record<string, unknown> }[];
  at?: number;
  inputs?: Record<string, unknown>;
  visits?: Record<string, number>;
}
interface BaselineRecord {
  id: string;
  version: number;
  value: unknown;
  context: BaselineContext;
  expiresAt: number;
}
interface BaselineDb extends DBSchema {
  records: { key: string; value: BaselineRecord; indexes: { expiresAt: number } };
}

/**
 * The same linear flow written by hand as an XState machine. `full` keeps
 * what a wayflow task keeps so the user can go back with the data as it was,
 * see forms prefilled and get idempotency keys: the visited trail with data
 * snapshots, the inputs, the visit counts and the history. Without `full`,
 * only the data and the history.
 */
function baselineMachine(full: boolean) {
  const first = stepIds[0]!;
  const context: BaselineContext = full
    ? { data: {}, history: [], trail: [{ step: first, visit: 1, data: {} }], at: 0, inputs: {}, visits: { [first]: 1 } }
    : { data: {}, history: [] };
  const states: Record<string, object> = { done: { type: 'final' } };
  stepIds.forEach((id, i) => {
    const next = stepIds[i + 1] ?? 'done';
    const submit = assign(({ context: c, event }: { context: BaselineContext; event: { type: 'SUBMIT'; input: unknown } }) => {
      const data = { ...c.data, [id]: event.input };
      const history = [...c.history, { at: Date.now(), event: 'submit', from: id, to: next }];
      if (!full) return { data, history };
      const visit = (c.visits![next] ?? 0) + 1;
      return {
        data,
        history,
        inputs: { ...c.inputs, [id]: event.input },
        visits: { ...c.visits, [next]: visit },
        trail: [...c.trail!.slice(0, c.at! + 1), { step: next, visit, data }],
        at: c.at! + 1,
      };
    });
    states[id] = { on: { SUBMIT: { target: next, actions: submit } } };
  });
  return createMachine({ id: 'bench', initial: first, context, states } as never) as unknown as AnyStateMachine;
}

type Durability = 'strict' | 'relaxed' | 'default';
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** A hand-written task over XState + idb: transition, then compare-and-set the record in one transaction, with an expiry index like wayflow's. */
async function baselineTask(name: string, durability: Durability, full: boolean) {
  const db = await openDB<BaselineDb>(name, 1, {
    upgrade(d) {
      d.createObjectStore('records', { keyPath: 'id' }).createIndex('expiresAt', 'expiresAt');
    },
  });
  const machine = baselineMachine(full);
  const id = crypto.randomUUID();
  let [snapshot] = initialTransition(machine);
  let version = 0;
  const save = async () => {
    const record: BaselineRecord = { id, version: version + 1, value: snapshot.value, context: snapshot.context, expiresAt: Date.now() + 20 * 60_000 };
    const tx = db.transaction('records', 'readwrite', { durability });
    const current = await tx.store.get(id);
    if ((current?.version ?? 0) !== version) throw new Error('conflict');
    await tx.store.put(record);
    await tx.done;
    version++;
  };
  await save();
  return {
    async submit(input: unknown) {
      [snapshot] = transition(machine, snapshot, { type: 'SUBMIT', input });
      await save();
    },
    close: () => db.close(),
  };
}

/**
 * Interleaves one wayflow submit and one baseline submit per sample, each on
 * its own fresh task per pass through the flow, and returns both medians (ms).
 */
async function submitCycle(samples: number, durability: Durability, full = true) {
  const store = indexedDbStore({ name: `bench-wayflow2-${durability}`, durability });
  const wayflow: number[] = [];
  const baseline: number[] = [];
  let task: Task | null = null;
  let hand: Awaited<ReturnType<typeof baselineTask>> | null = null;
  for (let i = 0; i < samples; i++) {
    const step = i % (STEPS - 1);
    if (step === 0) {
      task?.dispose();
      hand?.close();
      task = await startTask(flow, { store, binder: 'bench' });
      hand = await baselineTask(`bench-baseline-${durability}-${full}`, durability, full);
    }
    const input = { value: `input ${i}`, n: i };
    const order = i % 2 === 0;
    for (const which of order ? ['wayflow', 'baseline'] : ['baseline', 'wayflow']) {
      const started = performance.now();
      if (which === 'wayflow') {
        const result = await task!.submit(input);
        if (!result.ok) throw new Error(result.message);
        wayflow.push(performance.now() - started);
      } else {
        await hand!.submit(input);
        baseline.push(performance.now() - started);
      }
    }
  }
  task?.dispose();
  hand?.close();
  return { wayflow: median(wayflow), baseline: median(baseline), ratio: median(wayflow) / median(baseline), samples, full };
}

/** `count` order lines of about 97 bytes of JSON each: the data of the restore benchmarks. */
const lineItems = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ sku: `SKU-${i.toString().padStart(6, '0')}`, title: `Item number ${i} with a name`, qty: i % 7, price: i * 1.25, tags: ['a', 'b'] }));

/** A task whose data holds about 100 KB of JSON (1050 line items), one step in. */
async function bigTask() {
  const store = indexedDbStore({ name: 'bench-restore' });
  const items = lineItems(1050);
  const task = await startTask(flow, { store, binder: 'bench', data: { items } });
  await task.submit({ note: 'x' });
  const bytes = new TextEncoder().encode(JSON.stringify(task.toRecord())).length;
  const dataBytes = new TextEncoder().encode(JSON.stringify(task.state.data)).length;
  task.dispose();
  return { store, id: task.id, bytes, dataBytes };
}

/**
 * The hand-written baseline of a restore: the same ~100 KB of data (and the same trail of
 * snapshots) in an XState + idb record, read back and resolved into a running actor.
 */
async function baselineRestore(samples: number) {
  const items = lineItems(1050);
  const db = await openDB<BaselineDb>('bench-restore-baseline', 1, {
    upgrade(d) {
      d.createObjectStore('records', { keyPath: 'id' }).createIndex('expiresAt', 'expiresAt');
    },
  });
  const machine = baselineMachine(true);
  let [snapshot] = initialTransition(machine);
  snapshot = machine.resolveState({ value: snapshot.value, context: { ...snapshot.context, data: { items }, trail: [{ step: stepIds[0]!, visit: 1, data: { items } }] } });
  [snapshot] = transition(machine, snapshot, { type: 'SUBMIT', input: { note: 'x' } });
  const id = crypto.randomUUID();
  await db.put('records', { id, version: 2, value: snapshot.value, context: snapshot.context, expiresAt: Date.now() + 60_000 });
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    const record = await db.get('records', id);
    if (!record || record.expiresAt < Date.now()) throw new Error('baseline record missing');
    const actor = createActor(machine, { snapshot: machine.resolveState({ value: record.value as string, context: record.context }) }).start();
    times.push(performance.now() - started);
    if (actor.getSnapshot().value !== stepIds[1]) throw new Error('baseline restored at the wrong step');
    actor.stop();
  }
  db.close();
  return median(times);
}

/** Median time to load, check, migrate and restore a task with ~100 KB of state from IndexedDB. */
async function restore(samples: number) {
  const { store, id, bytes, dataBytes } = await bigTask();
  const times: number[] = [];
  const opens: number[] = [];
  const claims: number[] = [];
  for (let i = 0; i < samples; i++) {
    let started = performance.now();
    const record = await store.get(id, 'bench');
    const task = await restoreTask(flow, migrateRecord(flow, record!).record, { store, binder: 'bench' });
    times.push(performance.now() - started);
    if (task.state.step?.id !== 'step1') throw new Error('restored at the wrong step');
    task.dispose();
    const url = new URL(location.href);
    url.searchParams.set('_id', id);
    history.replaceState(null, '', url);
    started = performance.now();
    const opened = await openTask(flow, { store, binder: 'bench', sweep: false });
    opens.push(performance.now() - started);
    if (opened.status !== 'ready') throw new Error(opened.status);
    opened.close();
    // Like a reload, where the old page is gone before the new one opens: let the lock release reach the browser.
    await new Promise((resolve) => setTimeout(resolve, 10));
    started = performance.now();
    const claim = await claimTask(`${id}-${i}`);
    claims.push(performance.now() - started);
    claim?.release();
  }
  const baseline = await baselineRestore(samples);
  return { bytes, dataBytes, restore: median(times), baseline, ratio: median(times) / baseline, openTask: median(opens), claim: median(claims), samples };
}

/** Median submit → transition → IndexedDB commit (strict) of wayflow for each flow size. */
async function cycleBySize(sizes: number[], samples: number) {
  const store = indexedDbStore({ name: 'bench-sizes', durability: 'strict' });
  const out: { size: number; median: number; p95: number }[] = [];
  for (const size of sizes) {
    const sized = flowOfSize(size);
    const times: number[] = [];
    let task = await startTask(sized, { store, binder: 'bench' });
    for (let i = 0; i < samples; i++) {
      if (task.state.status !== 'active') {
        task.dispose();
        task = await startTask(sized, { store, binder: 'bench' });
      }
      const started = performance.now();
      const result = await task.submit({ value: `input ${i}` });
      if (!result.ok) throw new Error(result.message);
      times.push(performance.now() - started);
    }
    task.dispose();
    out.push({ size, median: median(times), p95: percentile(times, 95) });
  }
  return out;
}

/** Median load + migrate + restore of a task whose data holds about `bytes` of JSON, for each size. */
async function restoreBySize(sizes: number[], samples: number) {
  const store = indexedDbStore({ name: 'bench-restore-sizes' });
  const out: { bytes: number; median: number }[] = [];
  for (const target of sizes) {
    const count = Math.max(1, Math.round(target / 97));
    const items = lineItems(count);
    const task = await startTask(flow, { store, binder: 'bench', data: { items } });
    await task.submit({ note: 'x' });
    const bytes = new TextEncoder().encode(JSON.stringify(task.state.data)).length;
    task.dispose();
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      const started = performance.now();
      const record = await store.get(task.id, 'bench');
      const restored = await restoreTask(flow, migrateRecord(flow, record!).record, { store, binder: 'bench' });
      times.push(performance.now() - started);
      restored.dispose();
    }
    out.push({ bytes, median: median(times) });
  }
  return out;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

Object.assign(globalThis, { wayflowBench: { submitCycle, restore, cycleBySize, restoreBySize } });
