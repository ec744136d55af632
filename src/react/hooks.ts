import { useContext, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { flushSync } from 'react-dom';
import { type Progress, progressOf } from '../core/graph.ts';
import type { Flow, FlowData, StepId, SubmitOutcome, Task, TaskState } from '../core/index.ts';
import { type OpenedTask, openTask, type StateStore } from '../persist/index.ts';
import { ConfigContext, needTask, TaskContext, type WayflowConfig } from './context.ts';

/** A task's state, re-rendering on every change, plus its actions; `F` (the flow) types `data` and the step ids. */
export interface TaskBinding<F extends Flow = Flow> extends TaskState<FlowData<F>> {
  task: Task<F>;
  /** Where the task stands along its current branch (`progressOf`), drawn once per state for every component below the provider. */
  progress: Progress;
  submit(input?: unknown): Promise<SubmitOutcome>;
  back(): Promise<void>;
  goTo(step: StepId<F>): Promise<void>;
  abort(reason?: string): Promise<void>;
  retry(): Promise<void>;
  saveDraft(input: unknown): Promise<void>;
}

/**
 * The binding of `task` (none without one): one subscription, one binding object per state.
 * A `TaskProvider` holds the one of its task; `useTask()` below it reads that, so a step's
 * components share one subscription and are drawn together.
 */
export function useBinding<F extends Flow>(task?: Task<F>): TaskBinding<F> | undefined {
  // One subscribe function per task: a new one each render would make React unsubscribe and subscribe again.
  // The components are drawn with `shown`, the state last told: a move is told 100 ms after it is queued, and only if
  // it still runs then; one that is over sooner (a step's IndexedDB write takes 2 to 20 ms) cancels it, so it is drawn
  // in one React commit, never busy (under a tenth of a second feels instant), and its busy picture never lands in a
  // later move's time. A move already running when React subscribes (a click before the mount's effects) is timed the same.
  const [subscribe, read] = useMemo(() => {
    let shown = task?.state;
    return [
      (notify: () => void) => {
        let late: ReturnType<typeof setTimeout> | undefined;
        // Called with the task's state (by the task on every change, and at subscribe), or with none by the timer
        // once a move has run 100 ms: anything but a running move draws the task's state as it is now.
        const tell = (state?: TaskState) => {
          if (state?.pending) late ??= setTimeout(tell, 100);
          else {
            late = clearTimeout(late) as undefined;
            shown = task?.state;
            notify();
          }
        };
        const unsubscribe = task?.subscribe(tell);
        tell(task?.state);
        // An unmounted component is told nothing more, not even of a move it saw queued.
        return () => {
          unsubscribe?.();
          clearTimeout(late);
        };
      },
      () => shown,
    ];
  }, [task]);
  const state = useSyncExternalStore(subscribe, read, read);
  return useMemo(() => {
    // No state without a task.
    if (!state) return;
    const binding: Record<string, unknown> = { ...state, task, progress: progressOf(task!.flow, state), submit: (input?: unknown) => task!.submit(input) };
    // The task's moves a binding offers, reporting a refusal in `error` only: their promises never reject.
    for (const move of ['back', 'goTo', 'abort', 'retry', 'saveDraft'] as const) binding[move] = (arg?: unknown) => (task![move] as (arg?: unknown) => Promise<void>)(arg).catch(() => undefined);
    return binding as unknown as TaskBinding<F>;
  }, [task, state]);
}

/**
 * The state and actions of a task: the one given (subscribed to here), or else the nearest
 * provided one (whose provider holds the one subscription the components below it share). Refused moves are reported in
 * `error`, never thrown at render.
 * Name the flow to type `data` and the step ids: `useTask<typeof signup>()`
 * (a task given as argument brings its flow's type along).
 * @example
 * const { step, errors, pending, submit, back } = useTask();
 */
export function useTask<F extends Flow = Flow>(given?: Task<F>): TaskBinding<F> {
  const provided = useContext(TaskContext);
  return needTask(useBinding(given) ?? provided) as TaskBinding<F>;
}

/** `openTask`'s outcome, or `opening` while it runs; `restart()` drops the task in the URL and starts a new one. */
export type OpeningTask<F extends Flow = Flow> = (OpenedTask<F> | { status: 'opening' }) & { restart(): void };

/** One mount's open: kept across StrictMode's unmount-and-mount-again, so a mount opens one task. */
interface Opening {
  flow: Flow;
  result: Promise<OpenedTask>;
  mounted?: boolean;
}

/**
 * Opens the task of `flow` named by the page URL (or starts one) with the
 * provider's configuration, and closes it on unmount. Safe under StrictMode:
 * the effect run again at once by StrictMode reuses the open in flight, so a
 * start creates one task and a reload restores it (never forks it from itself).
 * @example
 * const opened = useOpenTask(checkout);
 * if (opened.status === 'ready') return <TaskProvider task={opened.task}>…</TaskProvider>;
 */
export function useOpenTask<F extends Flow>(flow: F, options: WayflowConfig & { data?: FlowData<F> } = {}): OpeningTask<F> {
  const config = useContext(ConfigContext);
  const [opened, setOpened] = useState<OpenedTask | { status: 'opening' }>({ status: 'opening' });
  const held = useRef<Opening | null>(null);
  const follow = (opening: Opening, result: Promise<OpenedTask>) => {
    opening.result = result;
    // Drawn at once (not in a later task React schedules), so the provider below subscribes, and the first step is
    // live, in the same task as the open resolves: a click on the first step never comes before the subscription.
    result.then((done) => opening.result === result && opening.mounted && flushSync(() => setOpened(done)));
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: a task is opened once per flow; options are read when it opens
  useEffect(() => {
    // The open kept across StrictMode's second mount (null when there is none: read with `?.`), or a new one,
    // marked mounted below as a kept one is.
    let current = held.current as Opening;
    if (current?.flow !== flow) {
      const settings = { ...config, ...options };
      if (!settings.store) throw new Error(`wayflow: flow "${flow.id}" has no store; pass one to <WayflowProvider store={…}> or useOpenTask(flow, { store }).`);
      current = held.current = { flow, result: openTask(flow, settings as typeof settings & { store: StateStore }) };
    }
    current.mounted = true;
    follow(current, current.result);
    return () => {
      current.mounted = false;
      // StrictMode mounts again before this runs: only a real unmount (or another flow) closes the task.
      queueMicrotask(() => {
        if (current.mounted) return;
        if (held.current === current) held.current = null;
        current.result.then((done) => (done as { close?(): void }).close?.());
      });
    };
  }, [flow]);
  const restart = () => {
    const current = held.current;
    if (!current) return;
    setOpened({ status: 'opening' });
    follow(current, current.result.then((done) => done.startOver()));
  };
  return { ...opened, restart } as OpeningTask<F>;
}
