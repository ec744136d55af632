// The timeline page of bench/peers/timeline.mjs: the race page (bench/peers/page.tsx, React's profiling
// build) with every phase of a step noted as it happens, the same way for every contender: the platform's
// IndexedDB calls and events (patched on their prototypes), the click and submit (listeners on the window,
// capturing), validation (the schemas' entry points), React's renders and commits (the Profiler), frames
// (requestAnimationFrame), focus moves and the heading's arrival (a MutationObserver); on request, every DOM
// mutation and the page's own frame requests.
import { peersBench } from './page.tsx';
import { checkoutSteps } from './checkout.ts';

/** One noted phase: its name and performance.now(). */
type Note = [string, number];
const notes: Note[] = [];
const note = (name: string) => notes.push([name, performance.now()]);
(globalThis as { peersCommits?: number[][] }).peersCommits = [];

const wrap = <T extends object>(target: T, key: keyof T, before: string, after?: string) => {
  const original = target[key] as unknown as (...args: unknown[]) => unknown;
  (target as Record<keyof T, unknown>)[key] = function (this: unknown, ...args: unknown[]) {
    note(before);
    try {
      return original.apply(this, args);
    } finally {
      if (after) note(after);
    }
  };
};

const transaction = IDBDatabase.prototype.transaction;
IDBDatabase.prototype.transaction = function (this: IDBDatabase, ...args: Parameters<IDBDatabase['transaction']>) {
  note('tx.open');
  const tx = transaction.apply(this, args);
  if (args[1] !== 'readwrite') tx.addEventListener('complete', () => note('read.complete'));
  else {
    tx.addEventListener('complete', () => {
      // Only the transactions that wrote (a step's), not a sweep's.
      if (!written.has(tx)) return note('other.complete');
      note('complete.fired');
      // The first task after the complete event: everything the event ran (promise callbacks, a render in a microtask) is done.
      const channel = new MessageChannel();
      channel.port1.onmessage = () => note('complete.task-after');
      channel.port2.postMessage(null);
    });
  }
  return tx;
} as typeof transaction;
const written = new WeakSet<IDBTransaction>();
const put = IDBObjectStore.prototype.put;
IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
  note('put.issued');
  written.add(this.transaction);
  return put.apply(this, args);
};
wrap(IDBObjectStore.prototype, 'get', 'get.issued');
wrap(IDBTransaction.prototype, 'commit', 'commit.requested');
const getResult = Object.getOwnPropertyDescriptor(IDBRequest.prototype, 'result')!;
Object.defineProperty(IDBRequest.prototype, 'result', {
  ...getResult,
  get(this: IDBRequest) {
    if (this.readyState === 'done' && this.source instanceof IDBObjectStore && this.transaction?.mode === 'readwrite') note('request.result-read');
    return getResult.get!.call(this);
  },
});
for (const step of checkoutSteps) {
  const schema = step.schema as unknown as { safeParse: unknown; '~standard': { validate: unknown } };
  wrap(schema, 'safeParse', 'validate.start', 'validate.end');
  wrap(schema['~standard'], 'validate', 'validate.start', 'validate.end');
}
addEventListener('click', () => note('click'), true);
addEventListener('submit', () => note('submit'), true);
addEventListener('focusin', () => note('focus'), true);
const frame = (at: number) => {
  notes.push(['frame', at]);
  note('frame.cb');
  requestAnimationFrame(frame);
};
requestAnimationFrame(frame);
/** Notes, from now on, the frames the page asks for (not the timeline's own) and every DOM change, by kind (timeline.mjs with MUTS=1). */
function observeMutations() {
  const raf = globalThis.requestAnimationFrame;
  globalThis.requestAnimationFrame = (callback) => {
    if (callback !== frame) note('raf.request');
    return raf(callback);
  };
  const describe = (node: Node) => (node instanceof Element ? node.localName : node.nodeName);
  new MutationObserver((records) => {
    for (const r of records) note(`mut:${r.type}:${describe(r.target)}${r.attributeName ? `[${r.attributeName}]` : ''}`);
  }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
}
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) notes.push([`longtask(${e.duration.toFixed(1)})`, e.startTime]);
}).observe({ type: 'longtask' });

/** Takes the notes and commits since the last call. */
function drain() {
  const taken = notes.splice(0);
  const commits = (globalThis as unknown as { peersCommits: number[][] }).peersCommits.splice(0);
  for (const [start, commit] of commits) taken.push(['render.start', start!], ['commit', commit!]);
  return taken.sort((a, b) => a[1] - b[1]);
}

peersBench.drain = drain;
peersBench.observeMutations = observeMutations;
