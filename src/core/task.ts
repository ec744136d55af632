import { type CompiledFlow, compile, type FlowContext, type FlowMachineEvent, inert, outcomeEvent } from './compile.ts';
import type { Action, Flow, FlowData, StepId, SubmitContext, SubmitResult, TaskData } from './definition.ts';
import {
  ActionFailedError,
  HotLoopError,
  InvalidOutcomeError,
  PreconditionError,
  TaskRecordError,
  TaskStateError,
  WayflowError,
} from './errors.ts';
import { MAX_HOT_LOOPS } from './directives.ts';
import { failingPrecondition } from './preconditions.ts';
import { newTaskId } from './ids.ts';
import { type Phase, positionOf } from './position.ts';
import { describeTask, type Feedback } from './projection.ts';
import { type MovingOutcome, type Outcome, outcome, type User } from './outcomes.ts';
import { type FieldErrors, type StandardSchemaV1, validateInput } from './schema.ts';
import type { HistoryEntry, StateStore, TaskRecord } from './store.ts';

/** Time source and timers; replace it in tests to control suspensions and expiry. */
export interface TaskClock {
  now(): number;
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock. */
export const systemTaskClock: TaskClock = {
  now: Date.now,
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Options shared by `startTask` and `restoreTask`. */
export interface TaskOptions {
  /** Where every transition is committed; without one the task lives only in memory. */
  store?: StateStore;
  /** The value the task is bound to (see `TaskRecord.binder`); stores refuse an empty one. Default `"unbound"`, shared by every task started without one. */
  binder?: string;
  clock?: TaskClock;
  /** The signed-in user, checked by `signedIn()` preconditions. */
  user?: User | null;
  /** Idle time after which the task expires (default: the flow's `idleTimeoutMs`, else 20 minutes). */
  idleTimeoutMs?: number;
}

/** Options of `startTask`; `Data` is the task data of the flow started (see `FlowData`). */
export interface StartTaskOptions<Data extends TaskData = TaskData> extends TaskOptions {
  id?: string;
  /** Initial task data. */
  data?: Data;
}

/** Where a task stands. */
export type TaskStatus = 'active' | 'suspended' | 'completed' | 'aborted';

/** One option of a choice step. */
export interface ChoiceOption {
  id: string;
  title: string;
}

/** What a UI needs to render the current step. */
export interface StepView {
  id: string;
  title: string;
  /** `form`: an action awaiting input; `choice`: pick one of `options`; `auto`: an automatic step that failed and can be retried. */
  kind: 'form' | 'choice' | 'auto';
  /** URL path of the step below the flow's mount point, e.g. `/pay/new-method/card`. */
  url: string;
  /** What was last entered on this step, to prefill the form. */
  draft: unknown;
  visit: number;
  schema: StandardSchemaV1 | undefined;
  options: ChoiceOption[];
  meta: Record<string, unknown> | undefined;
}

/**
 * An immutable picture of a task, replaced on every change (suitable for `useSyncExternalStore`);
 * frozen in development builds. `Data` is the task data's type (see `FlowData`).
 */
export interface TaskState<Data extends TaskData = TaskData> {
  status: TaskStatus;
  step: StepView | null;
  data: Data;
  user: User | null;
  /** A submission or move is in flight. */
  pending: boolean;
  /** Field errors of the last submission. */
  errors: FieldErrors;
  /** A message for the user about the last submission. */
  message: string | null;
  error: WayflowError | null;
  canGoBack: boolean;
  /** Ids of the visited steps, oldest first; the last is the current one. */
  visited: string[];
  /** Steps gone back from, which `goTo` can go forward to again (until the next submission). */
  ahead: string[];
  /** When a suspended task resumes (epoch ms). */
  until: number | null;
  /** Why an aborted task was aborted. */
  reason: string | null;
  version: number;
}

/** The result of `submit`: either the task moved, or it stayed and says why. */
export type SubmitOutcome =
  | { ok: true }
  | { ok: false; errors: FieldErrors; message: string; error?: WayflowError };

const NO_FEEDBACK: Feedback = { errors: {}, message: null, error: null };
/** The binder of tasks started without one: every such task of a store is visible to every caller that gives none. */
export const UNBOUND = 'unbound';
/** How long a task may sit idle before it expires, unless the flow or the options say otherwise (20 minutes, as django-flows). */
export const DEFAULT_IDLE_MS = 20 * 60 * 1000;

// biome-ignore lint/suspicious/noExplicitAny: snapshots of generated machines
type Snapshot = any;

/** One running flow (of type `F`, which types its data and step ids): validates input, runs actions, moves through the compiled machine and commits every move. */
export class Task<F extends Flow = Flow> {
  readonly id: string;
  readonly flow: F;
  readonly #compiled: CompiledFlow;
  readonly #store: StateStore | undefined;
  readonly #clock: TaskClock;
  readonly #binder: string;
  readonly #idleMs: number;
  readonly #createdAt: number;
  readonly #listeners = new Set<(state: TaskState<FlowData<F>>) => void>();
  #snapshot: Snapshot;
  #version = 0;
  #history: HistoryEntry[] = [];
  #lastActiveAt: number;
  #queue: Promise<unknown> = Promise.resolve();
  #pending: Promise<SubmitOutcome> | null = null;
  #busy = 0;
  /** Works queued or running: the first one starts at once (its write within the caller's event), later ones after it. */
  #works = 0;
  #timer: unknown = null;
  #feedback: Feedback = NO_FEEDBACK;
  #state: TaskState | null = null;
  #disposed = false;

  /** Use `startTask` or `restoreTask`. */
  constructor(compiled: CompiledFlow, snapshot: Snapshot, record: Pick<TaskRecord, 'id' | 'createdAt' | 'lastActiveAt' | 'version' | 'history'>, options: TaskOptions) {
    this.#compiled = compiled;
    this.flow = compiled.flow as F;
    this.id = record.id;
    this.#snapshot = snapshot;
    this.#store = options.store;
    this.#clock = options.clock ?? systemTaskClock;
    this.#binder = options.binder ?? UNBOUND;
    this.#idleMs = options.idleTimeoutMs ?? compiled.flow.idleTimeoutMs ?? DEFAULT_IDLE_MS;
    this.#createdAt = record.createdAt;
    this.#lastActiveAt = record.lastActiveAt;
    this.#version = record.version;
    this.#history = record.history;
  }

  /** The current picture of the task. */
  get state(): TaskState<FlowData<F>> {
    this.#state ??= describeTask(this.#compiled.model, this.#snapshot, this.#busy > 0, this.#feedback, this.#version);
    return this.#state as TaskState<FlowData<F>>;
  }

  /** Calls `listener` after every change; returns the unsubscribe function. */
  subscribe(listener: (state: TaskState<FlowData<F>>) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Validates `input` against the current step's schema, runs its `submit`,
   * moves to the next step and commits. A second call while one is in flight
   * returns the first one's promise, so a double click submits once.
   */
  submit(input?: unknown): Promise<SubmitOutcome> {
    this.#pending ??= this.#exclusive(() => this.#submit(input)).finally(() => {
      this.#pending = null;
    });
    return this.#pending;
  }

  /** Back to the previous visited step, with the data as it was then and the inputs as they were entered. */
  back(): Promise<void> {
    return this.#move({ type: 'BACK' }, 'back', () => new TaskStateError('no-previous-step', `Task ${this.id} is at its first step; there is nothing to go back to.`));
  }

  /** Back to a visited step, or forward again to one gone back from; data as it was on entry, forms prefilled. */
  goTo(step: StepId<F>): Promise<void> {
    return this.#move({ type: 'GOTO', step }, 'goto', () =>
      new TaskStateError('step-not-visited', `Task ${this.id} has not visited step "${step}" (visited: ${this.state.visited.concat(this.state.ahead).join(', ')}).`),
    );
  }

  /** Stops the task for good. */
  abort(reason?: string): Promise<void> {
    return this.#move({ type: 'abort', outcome: outcome.abort(reason) as MovingOutcome }, 'abort', () => this.#notActive());
  }

  /** Resumes a suspended task now, even before its time (a timer calls this when the time comes); a move like `back`, refused (`not-suspended`) for a task that is not suspended. */
  resume(): Promise<void> {
    return this.#move({ type: 'RESUME' }, 'resume', () => new TaskStateError('not-suspended', `Task ${this.id} is not suspended.`));
  }

  /** Runs the current automatic step again after it failed. */
  retry(): Promise<void> {
    return this.#exclusive(async () => {
      if (this.state.step?.kind !== 'auto') throw new TaskStateError('nothing-to-retry', `Task ${this.id} is not at a failed automatic step.`);
      await this.#advance(this.#snapshot, 'auto');
    });
  }

  /** Keeps what the user has typed on the current step without submitting it. */
  saveDraft(input: unknown): Promise<void> {
    return this.#exclusive(async () => this.#commit(this.#next({ type: 'DRAFT', input }), []), 0);
  }

  /** Tells the task who is signed in now. */
  setUser(user: User | null): Promise<void> {
    return this.#exclusive(async () => this.#commit(this.#next({ type: 'ENV', user }), []));
  }

  /** The record as stored after the last commit. */
  toRecord(): TaskRecord {
    return this.#record(this.#snapshot, this.#version, this.#history, this.#lastActiveAt);
  }

  /** Stops the task's timers and listeners; the stored record is untouched. */
  dispose(): void {
    this.#disposed = true;
    this.#clock.clearTimeout(this.#timer);
    this.#listeners.clear();
  }

  /** Commits the first snapshot of a new task, running automatic steps first. @internal */
  async begin(): Promise<void> {
    await this.#exclusive(() => this.#advance(this.#snapshot, 'start'));
  }

  /** Runs work a restored task left pending (an automatic step, a due resumption) and re-arms timers. @internal */
  async wake(user: User | null | undefined): Promise<void> {
    if (user !== undefined && user?.id !== this.#snapshot.context.user?.id) await this.setUser(user);
    if (this.state.step?.kind === 'auto') await this.retry().catch(() => undefined);
    else this.#arm();
  }

  /** The snapshot `event` leads to from the current one (the same object when the machine refuses it). */
  #next(event: FlowMachineEvent, from: Snapshot = this.#snapshot): Snapshot {
    return this.#compiled.machine.transition(from, event, inert);
  }

  #notActive() {
    return new TaskStateError('task-finished', `Task ${this.id} is ${this.state.status}; start a new task to go on.`);
  }

  /**
   * Runs `work` after the work queued before it (at once when there is none, so `work` must be an async function: a
   * synchronous throw would leave the queue counted busy); `moves` 0 keeps `pending` false meanwhile (a draft is no submission).
   * Listeners hear of a move twice: when it is queued, then once when it is over (commits do not emit: one step,
   * one picture); of a draft only once, when it is saved.
   */
  #exclusive<T>(work: () => Promise<T>, moves = 1): Promise<T> {
    this.#busy += moves;
    if (moves) this.#emit();
    const run = (this.#works++ ? this.#queue.then(work) : work()).finally(() => {
      this.#works--;
      this.#busy -= moves;
      this.#emit();
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #move(event: FlowMachineEvent, name: string, refusal: () => Error): Promise<void> {
    return this.#exclusive(async () => {
      if (this.#snapshot.status !== 'active') throw this.#notActive();
      const next = this.#next(event);
      if (next === this.#snapshot) throw refusal();
      this.#feedback = NO_FEEDBACK;
      await this.#advance(next, name);
    });
  }

  async #submit(input: unknown): Promise<SubmitOutcome> {
    const step = this.state.step!;
    if (this.state.status !== 'active') return this.#refuse(this.#notActive());
    if (step.kind === 'auto') return this.#refuse(new TaskStateError('automatic-step', `Task ${this.id} is at the failed automatic step "${step.id}"; call retry() instead of submit().`));
    let moving: MovingOutcome;
    if (step.kind === 'choice') {
      const choice = (input as { choice?: unknown } | undefined)?.choice;
      if (!step.options.some((o) => o.id === choice)) {
        const message = `Choose one of: ${step.options.map((o) => o.id).join(', ')}`;
        return this.#settleFeedback({ choice: [message] }, message, input);
      }
      // The pick is kept in the data under the choice's id, so later steps (and views) can read it.
      moving = outcome.goTo(choice as string, { [step.id]: choice }) as MovingOutcome;
    } else {
      const action = this.#compiled.model.nodes.get(step.id)!.node as Action<unknown, string>;
      let value = input;
      if (action.schema) {
        const checked = validateInput(action.schema, input);
        // No wait unless the schema is asynchronous: the step's write starts within the click.
        const parsed = checked instanceof Promise ? await checked : checked;
        if (!parsed.ok) return this.#settleFeedback(parsed.errors, 'Some fields need your attention.', input);
        value = parsed.value;
      }
      let result: Outcome;
      try {
        result = action.submit
          ? ((await action.submit(this.#snapshot.context.data, value, this.#submitContextFor(this.#snapshot.context, step.id))) ?? { type: 'complete' })
          : outcome.complete(value === undefined ? undefined : { [step.id]: value });
      } catch (cause) {
        return this.#refuse(new ActionFailedError(this.flow.id, step.id, this.id, cause), input);
      }
      if (result.type === 'fail') return this.#settleFeedback(result.fields ?? {}, result.message, input);
      moving = result;
    }
    try {
      const next = this.#apply(step.id, moving, input);
      this.#feedback = NO_FEEDBACK;
      await this.#advance(next, 'submit', moving.type);
      return this.#feedback.error ? { ok: false, errors: {}, message: this.#feedback.error.message, error: this.#feedback.error } : { ok: true };
    } catch (error) {
      if (!(error instanceof WayflowError)) throw error;
      return this.#refuse(error, input);
    }
  }

  #refuse(error: WayflowError, draft?: unknown): Promise<SubmitOutcome> {
    return this.#settleFeedback({}, error.message, draft, error);
  }

  async #settleFeedback(errors: FieldErrors, message: string, draft: unknown, error?: WayflowError): Promise<SubmitOutcome> {
    this.#feedback = { errors, message, error: error ?? null };
    if (this.#snapshot.status === 'active') {
      // Funnels count refusals per step and field: the field names are kept, never the values.
      const entry = this.#entry(this.state.step!.id, this.#snapshot, 'refused');
      entry.fields = Object.keys(errors);
      await this.#commit(this.#next({ type: 'DRAFT', input: draft }), [entry]).catch(() => undefined);
    }
    return { ok: false, errors, message, error };
  }

  /** Moves by `moving` from `from`, or throws `InvalidOutcomeError` when the step's definition does not allow it. */
  #apply(step: string, moving: MovingOutcome, input: unknown, from: Snapshot = this.#snapshot): Snapshot {
    const next = this.#next({ type: outcomeEvent(moving), outcome: moving, input, step }, from);
    if (next !== from) return next;
    const detail =
      moving.type === 'goto'
        ? `"${moving.to}" is not among its declared targets; add it to the action's targets`
        : `"${moving.type}" is not possible here (ENTER needs children; in an explicit scaffold, children name their target with goTo)`;
    throw new InvalidOutcomeError(this.flow.id, step, detail);
  }

  /**
   * Runs automatic steps and returns from children until the task waits for
   * the user, then commits. A precondition without fallback refuses the whole
   * move; a failing automatic step commits the position reached so it can be retried.
   */
  async #advance(snapshot: Snapshot, event: string, outcomeType?: string): Promise<void> {
    const entries: HistoryEntry[] = [];
    const from = this.#snapshot === snapshot ? null : this.state.step?.id ?? null;
    const runs = new Map<string, number>();
    const limit = this.flow.maxHotLoop ?? MAX_HOT_LOOPS;
    let current = snapshot;
    if (current !== this.#snapshot || event === 'start') entries.push(this.#entry(from, current, event, outcomeType));
    for (;;) {
      // At the flow's end there is no step (null): no node, so nothing automatic runs.
      const { step, phase } = positionOf(current.value) as { step: string; phase: Phase };
      const node = this.#compiled.model.nodes.get(step)?.node;
      if (phase === '$blocked') throw new PreconditionError(this.flow.id, step, failingPrecondition(node!, current.context)?.name ?? 'unknown');
      const automatic = node?.kind === 'action' && ((phase === '$ready' && node.auto) || phase === '$returned');
      if (!automatic) break;
      const count = (runs.get(step) ?? 0) + 1;
      runs.set(step, count);
      if (count > limit) {
        const aborted = this.#next({ type: 'abort', outcome: outcome.abort('hot-loop') as MovingOutcome }, current);
        entries.push(this.#entry(step, aborted, 'abort'));
        await this.#commit(aborted, entries);
        this.#feedback = { ...NO_FEEDBACK, error: new HotLoopError(this.flow.id, step, limit) };
        return;
      }
      const action = node as Action<undefined, string>;
      const handler = phase === '$returned' ? action.returnFromChildren : action.submit;
      let result: SubmitResult<string> | Outcome;
      let cause = 'auto';
      try {
        const ctx = this.#submitContextFor(current.context, step);
        result = handler ? await handler.call(action, current.context.data, undefined as never, ctx) : undefined;
        result ??= phase === '$returned' ? outcome.continue() : outcome.complete();
        if (result.type === 'fail') throw new Error(result.message);
      } catch (failure) {
        this.#feedback = { ...NO_FEEDBACK, error: new ActionFailedError(this.flow.id, step, this.id, failure, true, action.onError) };
        if (!action.onError) return this.#commit(current, entries);
        // django-fsm's on_error: the failed step hands over to its error target.
        result = outcome.goTo(action.onError);
        cause = 'error';
      }
      const next = this.#apply(step, result as MovingOutcome, undefined, current);
      entries.push(this.#entry(step, next, cause, result.type));
      current = next;
    }
    await this.#commit(current, entries);
  }

  #submitContextFor(context: FlowContext, step: string): SubmitContext<string> {
    const visit = context.visits[step] ?? 1;
    return { taskId: this.id, step, visit, idempotencyKey: `${this.id}:${step}:${visit}`, stepKey: `${this.id}:${step}`, user: context.user, goTo: outcome.goTo };
  }

  #entry(from: string | null, snapshot: Snapshot, event: string, outcomeType?: string): HistoryEntry {
    const { step, phase } = positionOf(snapshot.value);
    return {
      at: this.#clock.now(),
      event,
      from,
      to: step ?? phase,
      actor: snapshot.context.user?.id ?? null,
      outcome: outcomeType,
    };
  }

  #record(snapshot: Snapshot, version: number, history: HistoryEntry[], lastActiveAt: number): TaskRecord {
    const { data, ...context } = snapshot.context as FlowContext;
    return {
      id: this.id,
      flowId: this.flow.id,
      flowVersion: this.flow.version,
      version,
      data,
      snapshot: { value: snapshot.value, context },
      history,
      binder: this.#binder,
      createdAt: this.#createdAt,
      lastActiveAt,
      // A suspended task is idle only from the time it is due to resume.
      expiresAt: Math.max(lastActiveAt, context.until ?? 0) + this.#idleMs,
    };
  }

  async #commit(snapshot: Snapshot, entries: HistoryEntry[]): Promise<void> {
    const now = this.#clock.now();
    const history = this.#history.concat(entries);
    const record = this.#record(snapshot, this.#version + 1, history, now);
    if (this.#store) await this.#store.put(record, this.#version);
    this.#snapshot = snapshot;
    this.#version = record.version;
    this.#history = history;
    this.#lastActiveAt = now;
    this.#state = null;
    this.#arm();
  }

  #arm() {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#disposed || !positionOf(this.#snapshot.value).phase.startsWith('$suspended')) return;
    const delay = Math.max(0, (this.#snapshot.context.until ?? 0) - this.#clock.now());
    this.#timer = this.#clock.setTimeout(() => {
      this.resume().catch((error) => {
        this.#feedback = { ...NO_FEEDBACK, error: error instanceof WayflowError ? error : null };
        this.#emit();
      });
    }, delay);
  }

  #emit() {
    this.#state = null;
    for (const listener of this.#listeners) {
      // One listener's error must not keep the others from hearing (nor break the move): it is reported on its own, as an event listener's is.
      try {
        // The picture is drawn once (the getter keeps it), and only when someone listens.
        listener(this.state);
      } catch (error) {
        setTimeout(() => {
          throw error;
        });
      }
    }
  }
}

/**
 * Starts a new task of `flow` at its first step and commits it.
 * @example
 * const task = await startTask(checkoutFlow, { store: memoryStore() });
 * await task.submit({ quantity: 1 });
 */
export async function startTask<F extends Flow>(flow: F, options: StartTaskOptions<FlowData<F>> = {}): Promise<Task<F>> {
  const compiled = compile(flow);
  const snapshot = compiled.machine.getInitialSnapshot(inert, options);
  const now = (options.clock ?? systemTaskClock).now();
  const task = new Task<F>(compiled, snapshot, { id: options.id ?? newTaskId(), createdAt: now, lastActiveAt: now, version: 0, history: [] }, options);
  await task.begin();
  return task;
}

/**
 * Rebuilds a task from its stored record, re-arming its timers and re-running
 * an automatic step that was interrupted. Throws `TaskRecordError` for a record
 * of another flow, another flow version, or a position the flow does not have.
 * @example
 * const record = await store.get(id, binder);
 * const task = record && (await restoreTask(checkoutFlow, record, { store, binder }));
 */
export async function restoreTask<F extends Flow>(flow: F, record: TaskRecord, options: TaskOptions = {}): Promise<Task<F>> {
  const compiled = compile(flow);
  if (record.flowId !== flow.id || record.flowVersion !== flow.version) {
    throw new TaskRecordError(
      record.flowId !== flow.id ? 'foreign-flow' : 'flow-version',
      `Task ${record.id} was written by flow "${record.flowId}" version ${record.flowVersion}, not "${flow.id}" version ${flow.version}; open it with its own flow, or migrate it first.`,
    );
  }
  let snapshot: Snapshot;
  try {
    snapshot = compiled.machine.resolveState({ value: record.snapshot.value as never, context: { ...record.snapshot.context, data: record.data } });
  } catch (cause) {
    throw new TaskRecordError('unknown-position', `Task ${record.id} is at a position flow "${flow.id}" version ${flow.version} does not have.`, cause);
  }
  const task = new Task<F>(compiled, snapshot, record, options);
  await task.wake(options.user);
  return task;
}
