// The race page of bench/peers/run.mjs, run in headless Chromium with an on-disk
// profile: the same 5-step checkout written with wayflow and with three peers,
// each step timed from the click on "Continue" to the next heading in the DOM
// (every contender commits the step to IndexedDB before showing it). Bundled twice: with
// React's production build for the race, with its profiling build to count commits.
import { Profiler, type ReactElement } from 'react';
import { createRoot } from 'react-dom/client';
import { compile, startTask, validateInput } from '../../src/core/index.ts';
import { inert, outcomeEvent } from '../../src/core/compile.ts';
import { indexedDbStore, parseTaskRecord, type StateStore } from '../../src/persist/index.ts';
import { WayflowCheckout as BeforeCheckout, indexedDbStore as beforeStore } from './before.ts';
import { checkoutSteps, DONE_TITLE, typed } from './checkout.ts';
import { type PeerStore, peerStore } from './peer-store.tsx';
import { RswCheckout } from './rsw.tsx';
import { StepperizeCheckout } from './stepperize.tsx';
import { checkoutFlow, WayflowCheckout } from './wayflow.tsx';
import { XStateCheckout } from './xstate.tsx';
import { type Variant, VariantCheckout } from './frame-variants.tsx';
import { slimStore } from './store-variants.ts';

/** When each phase of a wayflow step happened, filled by the timed store and the focus listener. */
interface Marks {
  putStart: number[];
  putEnd: number[];
  focus: number;
}
const marks: Marks = { putStart: [], putEnd: [], focus: 0 };

/** A store that notes when each write starts and ends (for the profile; the race uses the plain store). */
function timedStore(store: StateStore): StateStore {
  return {
    get: (id, binder, now) => store.get(id, binder, now),
    delete: (id, binder) => store.delete(id, binder),
    list: (binder, now) => store.list(binder, now),
    sweep: (now) => store.sweep(now),
    async put(record, expected) {
      marks.putStart.push(performance.now());
      await store.put(record, expected);
      marks.putEnd.push(performance.now());
    },
  };
}

const wayflowStore = indexedDbStore({ name: 'peers-wayflow' });
const beforeWayflowStore = beforeStore({ name: 'peers-wayflow-before' });
const slimStores = { check: slimStore('peers-wf-slim', true), put: slimStore('peers-wf-peerstore', false) };
const stores = {
  xstate: peerStore('peers-xstate'),
  rsw: peerStore('peers-rsw'),
  stepperize: peerStore('peers-stepperize'),
};

/** A peer's store that notes when each save starts and ends, like `timedStore`. */
function timedPeer(store: PeerStore): PeerStore {
  return {
    ...store,
    async save(record) {
      marks.putStart.push(performance.now());
      await store.save(record);
      marks.putEnd.push(performance.now());
    },
  };
}

type Name = 'wayflow' | 'before' | 'xstate' | 'rsw' | 'stepperize' | Variant | 'wf-slim' | 'wf-peerstore';
const peer = (store: PeerStore, profiled: boolean) => (profiled ? timedPeer(store) : store);
const apps: Record<Name, (profiled: boolean) => Promise<ReactElement>> = {
  wayflow: async (profiled) => <WayflowCheckout store={profiled ? timedStore(wayflowStore) : wayflowStore} />,
  before: async (profiled) => <BeforeCheckout store={profiled ? timedStore(beforeWayflowStore) : beforeWayflowStore} />,
  xstate: async (profiled) => <XStateCheckout store={peer(await stores.xstate, profiled)} id={crypto.randomUUID()} />,
  rsw: async (profiled) => <RswCheckout store={peer(await stores.rsw, profiled)} id={crypto.randomUUID()} />,
  stepperize: async (profiled) => <StepperizeCheckout store={peer(await stores.stepperize, profiled)} id={crypto.randomUUID()} />,
  // bench/peers/frames.mjs: wayflow with less of FlowView's page (same store as wayflow's).
  'wf-noprog': async () => <VariantCheckout store={wayflowStore} variant="wf-noprog" />,
  'wf-nolive': async () => <VariantCheckout store={wayflowStore} variant="wf-nolive" />,
  'wf-bare': async () => <VariantCheckout store={wayflowStore} variant="wf-bare" />,
  'wf-live': async () => <VariantCheckout store={wayflowStore} variant="wf-live" />,
  'wf-focus': async () => <VariantCheckout store={wayflowStore} variant="wf-focus" />,
  'wf-noring': async () => <VariantCheckout store={wayflowStore} variant="wf-noring" />,
  'wf-narrow': async () => <VariantCheckout store={wayflowStore} variant="wf-narrow" />,
  'wf-full-noring': async () => <VariantCheckout store={wayflowStore} variant="wf-full-noring" />,
  // bench/peers/run.mjs with VARIANTS: wayflow's page on a store writing what the peers write (bench/peers/store-variants.ts).
  'wf-slim': async () => <WayflowCheckout store={slimStores.check} />,
  'wf-peerstore': async () => <WayflowCheckout store={slimStores.put} />,
};

const heading = (container: HTMLElement) => container.querySelector('h1')?.textContent ?? null;

/** Resolves with performance.now() when the first h1 in `container` reads `title`. */
function headingShown(container: HTMLElement, title: string): Promise<number> {
  return new Promise((resolve) => {
    if (heading(container) === title) return resolve(performance.now());
    const observer = new MutationObserver(() => {
      if (heading(container) !== title) return;
      const at = performance.now();
      observer.disconnect();
      resolve(at);
    });
    observer.observe(container, { subtree: true, childList: true, characterData: true });
  });
}

/** Types `values` into the inputs of `container`, as a user would (an input event per field). */
function fill(container: HTMLElement, values: Record<string, string>) {
  const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
  for (const [name, value] of Object.entries(values)) {
    const input = container.querySelector<HTMLInputElement>(`input[name="${name}"]`);
    if (!input) throw new Error(`no input "${name}" on "${heading(container)}"`);
    setValue.call(input, value);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }
}

/** Lets queued work (effects, late renders, microtasks) run: a task turn through a MessageChannel. */
const idle = () =>
  new Promise<void>((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });

/** What one step cost: click to heading, click to the last React commit of the step, commits and render time. */
interface StepSample {
  step: number;
  /** performance.now() at the click (bench/peers/profile.mjs cuts the step out of a CPU profile with it). */
  at: number;
  shown: number;
  settled: number;
  commits: number;
  renderMs: number;
  clicked?: number;
  putStart?: number;
  putEnd?: number;
  focus?: number;
  puts?: number;
}

/** Runs `passes` checkouts through contender `name`, each in a fresh root; returns one sample per step. */
async function passes(name: Name, count: number, profiled = false): Promise<StepSample[]> {
  const samples: StepSample[] = [];
  const titles = [...checkoutSteps.map((s) => s.title), DONE_TITLE];
  for (let p = 0; p < count; p++) {
    history.replaceState(null, '', location.pathname);
    const container = document.createElement('div');
    document.body.append(container);
    container.addEventListener('focusin', () => {
      marks.focus = performance.now();
    });
    let commits = 0;
    let renderMs = 0;
    let lastCommit = 0;
    const root = createRoot(container);
    root.render(
      <Profiler
        id={name}
        onRender={(_id, _phase, actual, _base, start, commitTime) => {
          (globalThis as { peersCommits?: number[][] }).peersCommits?.push([start, commitTime]);
          commits++;
          renderMs += actual;
          lastCommit = commitTime;
        }}
      >
        {await apps[name](profiled)}
      </Profiler>,
    );
    await headingShown(container, titles[0]!);
    for (let i = 0; i < checkoutSteps.length; i++) {
      fill(container, typed[checkoutSteps[i]!.id]!);
      await idle();
      const c0 = commits;
      const r0 = renderMs;
      const puts0 = marks.putEnd.length;
      marks.focus = 0;
      const button = container.querySelector<HTMLButtonElement>('button[type="submit"]')!;
      const started = performance.now();
      button.click();
      const clicked = performance.now();
      const shown = await headingShown(container, titles[i + 1]!);
      await idle();
      await idle();
      const sample: StepSample = { step: i, at: started, shown: shown - started, settled: Math.max(shown, lastCommit) - started, commits: commits - c0, renderMs: renderMs - r0 };
      if (profiled) {
        Object.assign(sample, {
          clicked: clicked - started,
          putStart: marks.putStart.at(-1)! - started,
          putEnd: marks.putEnd.at(-1)! - started,
          focus: marks.focus ? marks.focus - started : undefined,
          puts: marks.putEnd.length - puts0,
        });
      }
      samples.push(sample);
    }
    root.unmount();
    container.remove();
  }
  return samples;
}

/** Rounds of `perRound` checkouts per contender, the order rotated each round; returns each contender's samples. */
async function race(names: Name[], rounds: number, perRound: number) {
  const all = Object.fromEntries(names.map((n) => [n, [] as StepSample[]])) as Record<Name, StepSample[]>;
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(round + k) % names.length]!;
      all[name].push(...(await passes(name, perRound)));
    }
  }
  return all;
}

/** Median time (ms) of one `run`, over `samples` batches of 20 calls, after a warm-up. */
async function timeOf(samples: number, run: () => unknown): Promise<number> {
  for (let i = 0; i < 40; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    for (let j = 0; j < 20; j++) await run();
    times.push((performance.now() - started) / 20);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

/** The CPU phases of a wayflow step measured alone, on the checkout flow's real objects (median ms). */
async function phases(samples: number) {
  const step = checkoutSteps[1]!;
  const input = typed[step.id];
  const compiled = compile(checkoutFlow);
  const first = compiled.machine.getInitialSnapshot(inert, {});
  const moving = { type: 'complete' as const, data: { [checkoutSteps[0]!.id]: typed[checkoutSteps[0]!.id] } };
  // The record of the last step: four steps in, its trail and history as long as they get here.
  const task = await startTask(checkoutFlow);
  for (const s of checkoutSteps.slice(0, -1)) await task.submit(typed[s.id]);
  const record = task.toRecord();
  let t = task;
  let at = 0;
  return {
    validation: await timeOf(samples, () => validateInput(step.schema, input)),
    // As the task moves: the machine's own transition with an inert scope (XState's `transition()` would build an actor each call).
    transition: await timeOf(samples, () => compiled.machine.transition(first, { type: outcomeEvent(moving), outcome: moving, input } as never, inert)),
    buildRecord: await timeOf(samples, () => task.toRecord()),
    recordBytes: JSON.stringify(record).length,
    validateRecord: await timeOf(samples, () => parseTaskRecord(record, record.id)),
    // A whole submit without a store nor React: validation, transition, record, state.
    submitInMemory: await timeOf(samples, async () => {
      if (at === checkoutSteps.length) {
        t = await startTask(checkoutFlow);
        at = 0;
      }
      await t.submit(typed[checkoutSteps[at++]!.id]);
    }),
  };
}

/** Keeps the main thread busy for `ms` and returns when it started: bench/peers/profile.mjs finds it in a CPU profile to line the profile's clock up with performance.now(). */
function clockMark(ms: number): number {
  const started = performance.now();
  while (performance.now() - started < ms);
  return started;
}

/** What the page offers its runner (bench/peers/run.mjs, profile.mjs, timeline.mjs), also on `globalThis.peersBench`. */
export const peersBench: Record<string, unknown> = { race, passes, phases, clockMark };
Object.assign(globalThis, { peersBench });
