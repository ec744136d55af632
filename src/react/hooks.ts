import { useContext, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { Flow, SubmitOutcome, Task, TaskData, TaskState } from '../core/index.ts';
import { type OpenedTask, openTask } from '../persist/index.ts';
import { ConfigContext, TaskContext, type WayflowConfig } from './context.ts';

/** A task's state, re-rendering on every change, plus its actions. */
export interface TaskBinding extends TaskState {
  task: Task;
  submit(input?: unknown): Promise<SubmitOutcome>;
  back(): Promise<void>;
  goTo(step: string): Promise<void>;
  abort(reason?: string): Promise<void>;
  retry(): Promise<void>;
  saveDraft(input: unknown): Promise<void>;
}

const quiet = (move: Promise<void>) => move.catch(() => undefined);

/**
 * Subscribes to a task (the one given, or the nearest provided one) and returns its
 * state and actions. Refused moves are reported in `error`, never thrown at render.
 * @example
 * const { step, errors, pending, submit, back } = useTask();
 */
export function useTask(given?: Task): TaskBinding {
  const provided = useContext(TaskContext);
  const task = given ?? provided;
  if (!task) throw new Error('wayflow: useTask() needs a task; render inside <FlowView> or <TaskProvider task={…}>, or pass the task.');
  const state = useSyncExternalStore(
    (notify) => task.subscribe(notify),
    () => task.state,
    () => task.state,
  );
  return {
    ...state,
    task,
    submit: (input) => task.submit(input),
    back: () => quiet(task.back()),
    goTo: (step) => quiet(task.goTo(step)),
    abort: (reason) => quiet(task.abort(reason)),
    retry: () => quiet(task.retry()),
    saveDraft: (input) => quiet(task.saveDraft(input)),
  };
}

/** `openTask`'s outcome, or `opening` while it runs; `restart()` drops the task in the URL and starts a new one. */
export type OpeningTask = (OpenedTask | { status: 'opening' }) & { restart(): void };

/**
 * Opens the task of `flow` named by the page URL (or starts one) with the
 * provider's configuration, and closes it on unmount.
 * @example
 * const opened = useOpenTask(checkout);
 * if (opened.status === 'ready') return <TaskProvider task={opened.task}>…</TaskProvider>;
 */
export function useOpenTask(flow: Flow, options: WayflowConfig & { data?: TaskData } = {}): OpeningTask {
  const config = useContext(ConfigContext);
  const [opened, setOpened] = useState<OpenedTask | { status: 'opening' }>({ status: 'opening' });
  const latest = useRef<OpenedTask | null>(null);
  const live = useRef(true);
  const settle = (result: OpenedTask) => {
    if (!live.current) {
      if (result.status === 'ready') result.close();
      return;
    }
    latest.current = result;
    setOpened(result);
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: a task is opened once per flow; options are read when it opens
  useEffect(() => {
    live.current = true;
    const { store, ...rest } = { ...config, ...options };
    if (!store) throw new Error(`wayflow: flow "${flow.id}" has no store; pass one to <WayflowProvider store={…}> or useOpenTask(flow, { store }).`);
    openTask(flow, { ...rest, store }).then(settle);
    return () => {
      live.current = false;
      const current = latest.current;
      if (current?.status === 'ready') current.close();
      latest.current = null;
    };
  }, [flow]);
  const restart = () => {
    const current = latest.current;
    if (!current) return;
    latest.current = null;
    setOpened({ status: 'opening' });
    current.startOver().then(settle);
  };
  return { ...opened, restart };
}
