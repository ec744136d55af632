import type { AutomationDefinition } from './definition.ts';
import {
  type Actor,
  deliverMessage,
  type FormSelector,
  type IncomingMessage,
  nextDueAt,
  openForms,
  startInstance,
  step,
  submitForm,
} from './engine.ts';
import { type FlowDefinition, type FlowRun, MAX_HOT_LOOPS } from './flowcontrol/flow.ts';
import { FlowRunStateError, flowRunInconsistency } from './flowcontrol/run-state.ts';
import { FlowRunSteps } from './flowcontrol/runs.ts';
import { InstanceFinishedError, InstanceNotFoundError, MissingMessageDataError, UnknownAutomationError, UnknownReceiverError } from './errors.ts';
import type { AutomationData, FormAssignment } from './nodes/nodes.ts';
import type { AutomationEffect, HistoryRow, InstanceState, StepResult } from './state.ts';
import type { AutomationStorage, AutomationStorageTx, InstanceQuery, InstanceRecord, QueuedMessage } from './storage.ts';
import { type Clock, DAY, systemClock } from './time.ts';

/** Options of `createAutomationRunner`. */
export interface RunnerOptions {
  storage: AutomationStorage;
  // biome-ignore lint/suspicious/noExplicitAny: definitions of any node-name union are accepted
  automations?: readonly AutomationDefinition<any>[];
  /** django-flowcontrol flows whose runs the runner continues beside the instances (in the same groups and transactions). */
  flows?: readonly FlowDefinition[];
  /** How often one flow action may run within one execution of a run (default `MAX_HOT_LOOPS`, 100). */
  maxHotLoop?: number;
  /** Defaults to the system clock; pass a `ManualClock` in tests. */
  clock?: Clock;
  /** Makes instance and message ids; defaults to `crypto.randomUUID`. */
  newId?: () => string;
  /** Makes the URL keys of instances; defaults to 128 random bits, hex-encoded. */
  newKey?: () => string;
  /** At most this many nodes run for one instance in one `run` (a hot-loop guard); default 1000. */
  maxStepsPerRun?: number;
  /**
   * Due instances and flow runs a scheduler pass claims and runs in one transaction (default
   * 100): their steps, history rows, runs and messages are written together, a few statements per group.
   */
  groupSize?: number;
  /** Called after commit with each effect (forms opened, instances finished, messages sent). */
  onEffect?: (effect: AutomationEffect) => void;
}

/** Options of `create`. */
export interface CreateOptions {
  /** Run the new instance at once (default), or leave it for the next step. */
  autorun?: boolean;
  /**
   * Runs inside the transaction that stores the new instance (or finds the running instance of
   * a unique automation, which `create` then returns), with that instance and the transaction:
   * what it writes in `tx` (on the SQL storage: its client, `sqlTransactionOf(tx)`) commits with
   * the instance or not at all, and throwing undoes the creation.
   */
  inTransaction?: (instance: InstanceRecord, tx: AutomationStorageTx) => Promise<void>;
}

/** One start of `createGroup`: what `create` takes. */
export interface GroupStart {
  automation: AutomationDefinition | string;
  data?: AutomationData;
  options?: CreateOptions;
}

/** Options of `sendMessage`. */
export interface SendOptions {
  /**
   * Runs inside the transaction that delivers the message, with the receiver's result and the
   * transaction: what it writes in `tx` (on the SQL storage: `sqlTransactionOf(tx)`) commits with
   * the delivery or not at all, and throwing undoes it.
   */
  inTransaction?: (result: unknown, tx: AutomationStorageTx) => Promise<void>;
}

/** What one scheduler pass (`schedulerPass`) did, flow runs included. */
export interface SchedulerPass {
  /** Instances that moved. */
  advanced: number;
  /** Messages delivered. */
  delivered: number;
  /** The flow runs continued, as they ended up. */
  runs: FlowRun[];
  /** Flow log entries added: each action run, and each `returnFromChildren`. */
  actions: number;
  /** Flow runs the storage holds in an inconsistent state, which were not run (left claimed, looked at again when the claim ends). */
  refused: FlowRunStateError[];
}

/** What a group of due work did. */
interface GroupResult {
  advanced: number;
  claimed: number;
  sent: number;
  runs: FlowRun[];
  actions: number;
  refused: FlowRunStateError[];
}

/** Adds the instances, runs and refusals of `group` to `total` (a pass, or a group run again one by one). */
function addGroup(total: Pick<GroupResult, 'advanced' | 'runs' | 'actions' | 'refused'>, group: GroupResult): void {
  total.advanced += group.advanced;
  total.runs.push(...group.runs);
  total.actions += group.actions;
  total.refused.push(...group.refused);
}

/** An open form a user may process, for task lists. */
export interface OpenForm {
  automation: string;
  verboseName: string;
  instanceId: string;
  taskId: number;
  node: string;
  description: string;
  assignment: FormAssignment;
  since: number;
  /** The fields the form still needs (a django-ws task's missing parameters); empty when the form does not say. */
  missing: string[];
}

/**
 * Creates a runner that executes automations on `storage`: a call (`create`, `run`,
 * `submitForm`, `sendMessage`) runs the instance on in one transaction, and a scheduler pass
 * runs a group of due instances per transaction.
 */
export function createAutomationRunner(options: RunnerOptions): AutomationRunner {
  return new AutomationRunner(options);
}

/**
 * The one runner of the three workflow models: automation instances (ordered nodes, django-ws
 * workflows) and django-flowcontrol runs, on one storage. The nodes an instance runs through in
 * one call (after a creation, a submitted form, a delivered message), and in a scheduler pass
 * the due instances and flow runs of one group, are one storage transaction holding the new
 * states, their history rows, queued messages and next due times: all commit or none do.
 * `FlowControl` is the flowcontrol API over a runner (`new FlowControl({ runner })`).
 */
export class AutomationRunner {
  private readonly definitions = new Map<string, AutomationDefinition>();
  /** Automations whose definition was replaced: their stored due times may be stale. */
  private readonly redefined = new Set<string>();
  /** The storage every model's state lives in. */
  readonly storage: AutomationStorage;
  /** The clock steps and due times are computed with. */
  readonly clock: Clock;
  /** The registered flowcontrol flows and the run operations the scheduler pass and `FlowControl` share. */
  readonly flows: FlowRunSteps;
  private readonly newId: () => string;
  private readonly newKey: () => string;
  private readonly maxStepsPerRun: number;
  private readonly groupSize: number;
  private readonly onEffect: (effect: AutomationEffect) => void;

  constructor(options: RunnerOptions) {
    this.storage = options.storage;
    this.clock = options.clock ?? systemClock;
    this.newId = options.newId ?? (() => crypto.randomUUID());
    this.newKey = options.newKey ?? randomKey;
    this.maxStepsPerRun = options.maxStepsPerRun ?? 1000;
    this.groupSize = Math.max(1, options.groupSize ?? 100);
    this.onEffect = options.onEffect ?? (() => undefined);
    this.flows = new FlowRunSteps(this.clock, this.newId, options.maxHotLoop ?? MAX_HOT_LOOPS);
    for (const definition of options.automations ?? []) this.register(definition);
    for (const flow of options.flows ?? []) this.flows.register(flow);
  }

  /** Registers a definition, replacing one of the same name: running instances continue under the new definition. */
  // biome-ignore lint/suspicious/noExplicitAny: definitions of any node-name union are accepted
  register(definition: AutomationDefinition<any>): void {
    if (this.definitions.has(definition.name)) this.redefined.add(definition.name);
    this.definitions.set(definition.name, definition);
  }

  /**
   * Recomputes the stored due time of every running instance of `automation` (default: all
   * registered) under the current definitions, so changed waits take effect. `stepAll` does
   * this after `register` replaced a definition; call it once when a process starts with
   * changed definitions.
   */
  async refreshDueTimes(automation?: string): Promise<void> {
    const names = automation === undefined ? [...this.definitions.keys()] : [automation];
    for (const name of names) {
      const running = await this.list({ automation: name, finished: false });
      for (const instance of running) await this.transact(instance.id, async (_definition, state) => ({ state, history: [], effects: [], changed: false }));
    }
  }

  /** The registered definition of that name. */
  definition(name: string): AutomationDefinition {
    const definition = this.definitions.get(name);
    if (!definition) throw new UnknownAutomationError(name);
    return definition;
  }

  /**
   * Starts an instance with `data`. A singleton with a running instance, or a data-unique
   * automation with an instance for the same key values, returns that instance instead.
   */
  create(automation: AutomationDefinition | string, data: AutomationData = {}, options: CreateOptions = {}): Promise<InstanceRecord> {
    return this.createAlone(automation, data, options);
  }

  /** `create`'s work, which `createGroup` does for a group of one. */
  private async createAlone(automation: AutomationDefinition | string, data: AutomationData, options: CreateOptions): Promise<InstanceRecord> {
    const definition = this.definition(typeof automation === 'string' ? automation : automation.name);
    const { record, insert } = await this.newInstance(definition, data);
    const autorun = options.autorun ?? true;
    const created = await this.transactAll(async (tx, effects) => {
      const holder = await insert(tx);
      await options.inTransaction?.(holder ?? record, tx);
      if (holder) return { holder, record: holder };
      if (autorun) await this.runIn(tx, record.id, effects);
      return { holder, record: (await tx.getInstance(record.id)) ?? record };
    });
    if (created.holder || !autorun) return created.record;
    return this.afterRun(record.id, created);
  }

  /**
   * Starts several instances in one transaction: each is inserted, its `inTransaction` run and
   * its nodes run as `create` does, the starts side by side (their statements share round trips
   * where the storage pipelines them), and all commit together. When a start fails before the
   * commit, the transaction is rolled back and each start runs again alone in its own
   * transaction, as `create` (the scheduler's groups do the same): a failing start fails alone.
   * When the commit itself fails, its outcome may be unknown (the connection died before the
   * answer): every start fails with that error, unless `runAgain(error)` says the database
   * refused the commit (nothing committed), and then each runs again alone. An error for which
   * `failsAlone(error)` holds, thrown by a start's `inTransaction` (which runs before its
   * instance is inserted, so that it has then written nothing), leaves that start out and the
   * group goes on; its error is its outcome once the group has committed. An instance of a
   * unique automation is started alone (its insert may wait for another transaction), and so is
   * a group of one start: as `create`, without a group's work.
   * Resolves to each start's outcome, in order.
   */
  async createGroup(
    starts: readonly GroupStart[],
    options: { runAgain?: (error: unknown) => boolean; failsAlone?: (error: unknown) => boolean } = {},
  ): Promise<PromiseSettledResult<InstanceRecord>[]> {
    if (starts.length === 1) {
      const [start] = starts as [GroupStart];
      const outcome = this.createAlone(start.automation, start.data ?? {}, start.options ?? {}).then(
        (value): PromiseSettledResult<InstanceRecord> => ({ status: 'fulfilled', value }),
        (reason: unknown): PromiseSettledResult<InstanceRecord> => ({ status: 'rejected', reason }),
      );
      return [await outcome];
    }
    const outcomes: PromiseSettledResult<InstanceRecord>[] = [];
    const settle = async (index: number, work: () => Promise<InstanceRecord>) => {
      try {
        outcomes[index] = { status: 'fulfilled', value: await work() };
      } catch (reason) {
        outcomes[index] = { status: 'rejected', reason };
      }
    };
    const alone = (index: number) => {
      const start = starts[index]!;
      return settle(index, () => this.create(start.automation, start.data ?? {}, start.options ?? {}));
    };
    const members: { index: number; options: CreateOptions; record: InstanceRecord; insert: (tx: AutomationStorageTx) => Promise<InstanceRecord | null> }[] = [];
    const apart: number[] = [];
    await Promise.all(
      starts.map((start, index) =>
        settle(index, async () => {
          const definition = this.definition(typeof start.automation === 'string' ? start.automation : start.automation.name);
          if (definition.unique) apart.push(index);
          else members.push({ index, options: start.options ?? {}, ...(await this.newInstance(definition, start.data ?? {})) });
          return undefined as unknown as InstanceRecord;
        }),
      ),
    );
    // The members in the order given (which decides the order of their statements in the transaction).
    members.sort((a, b) => a.index - b.index);
    const grouped = async () => {
      if (members.length <= 1) return Promise.all(members.map(({ index }) => alone(index)));
      let created: { records: ({ left: unknown } | InstanceRecord)[]; sent: number };
      let committing = false;
      try {
        created = await this.transactAll(async (tx, effects) => {
          const ran = await Promise.allSettled(
            members.map(async ({ options: start, record, insert }) => {
              try {
                await start.inTransaction?.(record, tx);
              } catch (error) {
                if (options.failsAlone?.(error)) return { left: error };
                throw error;
              }
              await insert(tx);
              if (start.autorun ?? true) await this.runIn(tx, record.id, effects);
              return (await tx.getInstance(record.id)) ?? record;
            }),
          );
          const failed = ran.find((r) => r.status === 'rejected');
          if (failed) throw failed.reason;
          committing = true;
          return { records: ran.map((r) => (r as PromiseFulfilledResult<{ left: unknown } | InstanceRecord>).value) };
        });
      } catch (error) {
        if (committing && !options.runAgain?.(error)) return Promise.all(members.map(({ index }) => settle(index, () => Promise.reject(error))));
        // Nothing of the group committed: each start runs again, alone.
        return Promise.all(members.map(({ index }) => alone(index)));
      }
      // As `create` does after its commit: the messages sent are delivered, then an instance a delivery may have moved is read again.
      const moved = created.sent > 0 ? this.deliverPending().then((delivered) => delivered > 0) : Promise.resolve(false);
      return Promise.all(
        members.map(({ index, record }, i) =>
          settle(index, async () => {
            const ran = created.records[i]!;
            if ('left' in ran) throw ran.left;
            return (await moved) ? this.get(record.id) : ran;
          }),
        ),
      );
    };
    await Promise.all([grouped(), ...apart.map(alone)]);
    return outcomes;
  }

  /**
   * A new instance of `definition` with `data`, and `insert`, which stores it with its first
   * history rows inside a transaction and resolves to null, or to the holder of its unique
   * key (then nothing is inserted).
   */
  private async newInstance(
    definition: AutomationDefinition,
    data: AutomationData,
    id: string = this.newId(),
  ): Promise<{ record: InstanceRecord; insert: (tx: AutomationStorageTx) => Promise<InstanceRecord | null> }> {
    const now = this.clock.now();
    // The engine starts from its own copy of `data` (every engine's draft copies the state it is given).
    const started = await startInstance(definition, { id, key: this.newKey(), data, now });
    const record: InstanceRecord = { ...started.state, uniqueKey: uniqueKeyOf(definition, data), dueAt: nextDueAt(definition, started.state), updatedAt: now };
    const insert = async (tx: AutomationStorageTx) => {
      const holder = await tx.insertInstance(record);
      if (!holder) await tx.applyHistory(started.history);
      return holder;
    };
    return { record, insert };
  }

  /** The instance with this id. */
  async get(id: string): Promise<InstanceRecord> {
    const record = await this.storage.transaction((tx) => tx.getInstance(id));
    if (!record) throw new InstanceNotFoundError(id);
    return record;
  }

  /** The instance addressed by its URL key. */
  async getByKey(key: string): Promise<InstanceRecord> {
    const record = await this.storage.transaction((tx) => tx.getInstanceByKey(key));
    if (!record) throw new InstanceNotFoundError(`key ${key}`);
    return record;
  }

  /** Instances matching the query. */
  list(query: InstanceQuery = {}): Promise<InstanceRecord[]> {
    return this.storage.transaction((tx) => tx.listInstances(query));
  }

  /** The instance's history rows (one per node visit) in order. */
  history(id: string): Promise<HistoryRow[]> {
    return this.storage.transaction((tx) => tx.history(id));
  }

  /**
   * Runs the instance until it finishes or every path waits (django's `Automation.run()`), in
   * one transaction, then delivers the messages it sent. Returns the stored instance. A
   * finished instance cannot run: as in the reference, that throws `InstanceFinishedError`.
   */
  async run(id: string): Promise<InstanceRecord> {
    const ran = await this.transactAll(async (tx, effects) => {
      const current = await tx.getInstance(id);
      if (current?.finished) throw new InstanceFinishedError(current.automation, id, 'run it');
      await this.runIn(tx, id, effects);
      return { record: await tx.getInstance(id) };
    });
    return this.afterRun(id, ran);
  }

  /**
   * After a call's transaction: delivers the messages it sent (then the instance is read
   * again, as a delivery may have moved it) and resolves to the instance.
   */
  private async afterRun(id: string, ran: { record: InstanceRecord | null; sent?: number }): Promise<InstanceRecord> {
    if ((ran.sent ?? 0) > 0 && (await this.deliverPending()) > 0) return this.get(id);
    if (!ran.record) throw new InstanceNotFoundError(id);
    return ran.record;
  }

  /** Runs the instance (locked in `tx`) until it waits or finishes, at most `maxStepsPerRun` nodes; resolves to the nodes run. */
  private async runIn(tx: AutomationStorageTx, id: string, effects: AutomationEffect[]): Promise<number> {
    let steps = 0;
    while (steps < this.maxStepsPerRun) {
      const result = await this.computeIn(tx, id, (definition, state, now) => step(definition, state, now), false);
      if (!result.changed) break;
      effects.push(...result.effects);
      steps += 1;
    }
    return steps;
  }

  /**
   * Runs `work` in one storage transaction with a list it adds the committed effects to; after
   * commit, reports them (`onEffect`) and resolves to what `work` returned, with the number of
   * messages sent.
   */
  private async transactAll<T extends object>(work: (tx: AutomationStorageTx, effects: AutomationEffect[]) => Promise<T>): Promise<T & { sent: number }> {
    const effects: AutomationEffect[] = [];
    const value = await this.storage.transaction((tx) => {
      effects.length = 0;
      return work(tx, effects);
    });
    for (const effect of effects) this.onEffect(effect);
    return { ...value, sent: effects.filter((effect) => effect.type === 'send-message').length };
  }

  /**
   * One scheduler pass (`wayflow step`): delivers queued messages, then runs every instance
   * and continues every flow run that is due. Returns how many instances moved and how many
   * messages were delivered (`schedulerPass` also tells the flow runs).
   */
  async stepAll(limit = 10_000): Promise<{ advanced: number; delivered: number }> {
    const { advanced, delivered } = await this.schedulerPass(limit);
    return { advanced, delivered };
  }

  /**
   * `stepAll` with the flow runs it continued: up to `limit` due instances and runs are
   * claimed, `groupSize` per transaction, and each runs until it waits (an instance) or
   * finishes, suspends, aborts or fails (a run); runs in an inconsistent state are refused.
   */
  async schedulerPass(limit = 10_000): Promise<SchedulerPass> {
    for (const name of [...this.redefined]) {
      this.redefined.delete(name);
      await this.refreshDueTimes(name);
    }
    // A runner without automations (a `FlowControl`'s own) leaves the outbox to one that has them.
    const messages = this.definitions.size > 0;
    const delivered = messages ? await this.deliverPending() : 0;
    const now = this.clock.now();
    const pass: SchedulerPass = { advanced: 0, delivered, runs: [], actions: 0, refused: [] };
    let claimed = 0;
    let sent = 0;
    while (claimed < limit) {
      const size = Math.min(this.groupSize, limit - claimed);
      const group = await this.stepGroup(now, size);
      addGroup(pass, group);
      claimed += group.claimed;
      sent += group.sent;
      if (group.claimed < size) break;
    }
    if (sent > 0 && messages) pass.delivered += await this.deliverPending();
    return pass;
  }

  /**
   * Runs one claimed instance or flow run inside `tx`, adding what it did to `group`. A run the
   * storage holds in an inconsistent state is refused, writing nothing.
   */
  private async stepDue(tx: AutomationStorageTx, id: string, effects: AutomationEffect[], group: GroupResult): Promise<void> {
    const run = await tx.getRun(id);
    if (!run) {
      if ((await this.runIn(tx, id, effects)) > 0) group.advanced += 1;
      return;
    }
    const detail = flowRunInconsistency(run);
    if (detail !== null) {
      group.refused.push(new FlowRunStateError(run.id, run.flow, detail));
      return;
    }
    const executed = await this.flows.executeIn(tx, id);
    group.runs.push(executed.run);
    group.actions += executed.actions;
  }

  /**
   * Claims up to `size` due instances and flow runs and runs each until it waits, all in one
   * transaction. If that transaction fails and held several, they run again one transaction
   * each, so one failing instance or run does not hold the others back; the first failure is
   * then rethrown.
   */
  private async stepGroup(now: number, size: number): Promise<GroupResult> {
    let ids: string[] = [];
    const scope = { automations: [...this.definitions.keys()], flows: this.flows.names() };
    const empty = (): GroupResult => ({ advanced: 0, claimed: 0, sent: 0, runs: [], actions: 0, refused: [] });
    try {
      const result = await this.transactAll(async (tx, effects) => {
        ids = await tx.dueInstances(now, size, scope);
        const group = empty();
        for (const id of ids) await this.stepDue(tx, id, effects, group);
        return group;
      });
      return { ...result, claimed: ids.length };
    } catch (error) {
      if (ids.length <= 1) throw error;
      const total = empty();
      let first: { error: unknown } | null = null;
      for (const id of ids) {
        let reached = false;
        try {
          const ran = await this.transactAll(async (tx, effects) => {
            reached = true;
            const group = empty();
            await this.stepDue(tx, id, effects, group);
            return group;
          });
          addGroup(total, ran);
          total.sent += ran.sent;
        } catch (failure) {
          first ??= { error: failure };
          // The transaction failed before it could look at the instance: the database is failing, not this instance.
          if (!reached) break;
        }
      }
      if (first) throw first.error;
      return { ...total, claimed: ids.length };
    }
  }

  /** Repeats `stepAll` until a pass changes nothing (or `maxPasses` passes); returns the passes made. */
  async runUntilIdle(maxPasses = 100): Promise<number> {
    for (let pass = 1; pass <= maxPasses; pass++) {
      const { advanced, delivered } = await this.stepAll();
      if (advanced === 0 && delivered === 0) return pass;
    }
    return maxPasses;
  }

  /**
   * A long-running scheduler: `stepAll`, then `sleep(intervalMs)`, until `signal` aborts.
   * `sleep` is injectable so tests drive it with a manual clock instead of real timers.
   */
  async runScheduler(options: { intervalMs: number; signal: AbortSignal; sleep: (ms: number) => Promise<void> }): Promise<void> {
    while (!options.signal.aborted) {
      await this.stepAll();
      if (options.signal.aborted) break;
      await options.sleep(options.intervalMs);
    }
  }

  /** Messages sent by SendMessage nodes that could not be delivered (no receiver, finished target, missing data), with their error. */
  undeliverableMessages(limit = 100): Promise<QueuedMessage[]> {
    return this.storage.transaction((tx) => tx.failedMessages(limit));
  }

  /** Deletes the instance with its history and status (for instances created in error). */
  async kill(id: string): Promise<void> {
    const deleted = await this.storage.transaction((tx) => tx.deleteInstance(id));
    if (!deleted) throw new InstanceNotFoundError(id);
  }

  /**
   * Delivers a message to one instance's receiver and then runs the instance.
   * Throws if the automation declares no such receiver or the data lacks required parameters.
   */
  async sendMessage(id: string, message: string, token?: string, payload: AutomationData = {}, options: SendOptions = {}): Promise<unknown> {
    let result: unknown;
    const deliver = delivery(withToken({ message, payload }, token), (reply) => {
      result = reply;
    });
    const ran = await this.transactAll(async (tx, effects) => {
      const delivered = await this.computeIn(
        tx,
        id,
        async (definition, state, now) => {
          const delivered = await deliver(definition, state, now);
          await options.inTransaction?.(result, tx);
          return delivered;
        },
        false,
      );
      effects.push(...delivered.effects);
      if (delivered.changed) await this.runIn(tx, id, effects);
      return {};
    });
    if (ran.sent > 0) await this.deliverPending();
    return result;
  }

  /** `sendMessage` to an instance addressed by id or by URL key. */
  async dispatchMessage(target: { id: string } | { key: string }, message: string, token?: string, payload: AutomationData = {}): Promise<unknown> {
    const id = 'id' in target ? target.id : (await this.getByKey(target.key)).id;
    return this.sendMessage(id, message, token, payload);
  }

  /**
   * Creates an instance and delivers the message before its first node runs. The unique
   * data keys (if any) are taken from `payload` and must be present there. Creation and
   * delivery are one transaction: a message the receiver refuses (missing data, a throwing
   * receiver) stores nothing. A unique automation with a holder of the key gets the message
   * delivered to that holder instead.
   */
  async createOnMessage(
    automation: AutomationDefinition | string,
    message: string,
    token?: string,
    payload: AutomationData = {},
  ): Promise<{ instance: InstanceRecord; result: unknown }> {
    const definition = this.definition(typeof automation === 'string' ? automation : automation.name);
    if (!definition.receivers[message]) throw new UnknownReceiverError(definition.name, message);
    const data: AutomationData = {};
    if (Array.isArray(definition.unique)) {
      const missing = definition.unique.filter((k) => payload[k] === undefined);
      if (missing.length > 0) throw new MissingMessageDataError(definition.name, message, missing.map((param) => ({ param })));
      for (const k of definition.unique) data[k] = payload[k];
    }
    const { record, insert } = await this.newInstance(definition, data);
    let result: unknown;
    const deliver = delivery(withToken({ message, payload }, token), (reply) => {
      result = reply;
    });
    const ran = await this.transactAll(async (tx, effects) => {
      const id = (await insert(tx))?.id ?? record.id;
      const delivered = await this.computeIn(tx, id, deliver, true);
      effects.push(...delivered.effects);
      await this.runIn(tx, id, effects);
      return { id, record: await tx.getInstance(id) };
    });
    return { instance: await this.afterRun(ran.id, ran), result };
  }

  /**
   * Sends the message to every running instance of the automation, in no particular order.
   * A receiver returning `"received"` stops the broadcast; that value is then the last element.
   */
  async broadcastMessage(automation: AutomationDefinition | string, message: string, token?: string, payload: AutomationData = {}): Promise<unknown[]> {
    const definition = this.definition(typeof automation === 'string' ? automation : automation.name);
    if (!definition.receivers[message]) throw new UnknownReceiverError(definition.name, message);
    const running = await this.list({ automation: definition.name, finished: false });
    const results: unknown[] = [];
    for (const instance of running) {
      const result = await this.sendMessage(instance.id, message, token, payload);
      results.push(result);
      if (result === 'received') break;
    }
    return results;
  }

  /**
   * Submits a form for `actor`: permission check (User, Group, every Permission; superusers
   * always), schema validation, then the instance runs on. Nothing changes when a check fails.
   */
  async submitForm(id: string, form: FormSelector, actor: Actor, input: unknown): Promise<InstanceRecord> {
    const ran = await this.transactAll(async (tx, effects) => {
      const submitted = await this.computeIn(tx, id, (definition, state, now) => submitForm(definition, state, form, actor, input, now), true);
      effects.push(...submitted.effects);
      await this.runIn(tx, id, effects);
      return { record: await tx.getInstance(id) };
    });
    return this.afterRun(id, ran);
  }

  /** Open forms across running instances; with an actor, only those the actor may process. */
  async openForms(actor?: Actor): Promise<OpenForm[]> {
    const running = await this.list({ finished: false });
    return running.flatMap((instance) => {
      const definition = this.definitions.get(instance.automation);
      if (!definition) return [];
      return openForms(definition, instance, actor).map((form) => ({ automation: definition.name, verboseName: definition.verboseName, ...form }));
    });
  }

  /**
   * Deletes instances finished more than `days` days ago with their history
   * (django's `delete_history`). Returns the total and the counts per kind.
   */
  async deleteHistory(days = 30): Promise<{ deleted: number; automations: number; tasks: number }> {
    const before = this.clock.now() - days * DAY;
    const counts = await this.storage.transaction((tx) => tx.deleteFinishedBefore(before));
    return { deleted: counts.automations + counts.tasks, ...counts };
  }

  /**
   * One transaction: lock the instance, compute with the pure engine, and store the new
   * state, its history rows, its queued messages and its next due time together.
   * Returns whether the engine changed anything.
   */
  private async transact(
    id: string,
    compute: (definition: AutomationDefinition, state: InstanceState, now: number) => Promise<StepResult>,
    throwIfMissing = false,
  ): Promise<boolean> {
    const { changed, effects } = await this.storage.transaction((tx) => this.computeIn(tx, id, compute, throwIfMissing));
    for (const effect of effects) this.onEffect(effect);
    return changed;
  }

  /** The body of `transact`, inside a transaction the caller owns. */
  private async computeIn(
    tx: AutomationStorageTx,
    id: string,
    compute: (definition: AutomationDefinition, state: InstanceState, now: number) => Promise<StepResult>,
    throwIfMissing: boolean,
  ): Promise<{ changed: boolean; effects: AutomationEffect[] }> {
    const record = await tx.getInstance(id);
    if (!record) {
      if (throwIfMissing) throw new InstanceNotFoundError(id);
      return { changed: false, effects: [] };
    }
    const definition = this.definition(record.automation);
    const now = this.clock.now();
    const state = stateOf(record);
    const result = await (tx.runCode ? tx.runCode(() => compute(definition, state, now)) : compute(definition, state, now));
    const dueAt = nextDueAt(definition, result.state);
    if (!result.changed) {
      if (dueAt !== record.dueAt) await tx.putInstance({ ...record, dueAt });
      return { changed: false, effects: [] };
    }
    const singletonDone = result.state.finished && definition.unique === true;
    await tx.putInstance({ ...result.state, uniqueKey: singletonDone ? null : record.uniqueKey, dueAt, updatedAt: now });
    await tx.applyHistory(result.history);
    // Most steps have no effects: no calls (and promises) for them.
    if (result.effects.length > 0) {
      await this.queueMessages(tx, result.effects, now);
      await this.startSubprocesses(tx, result.effects);
    }
    return { changed: true, effects: result.effects };
  }

  /** Inserts the sub-processes a step started (django-ws), in the step's transaction; the scheduler runs them as they are due. */
  private async startSubprocesses(tx: AutomationStorageTx, effects: readonly AutomationEffect[]): Promise<void> {
    for (const effect of effects) {
      if (effect.type !== 'start-instance') continue;
      const { record, insert } = await this.newInstance(this.definition(effect.automation), effect.data, effect.id);
      record.parent = effect.parent;
      await insert(tx);
    }
  }

  private async queueMessages(tx: AutomationStorageTx, effects: readonly AutomationEffect[], now: number): Promise<void> {
    for (const effect of effects) {
      if (effect.type !== 'send-message') continue;
      const queued: QueuedMessage = { id: this.newId(), to: effect.to, message: effect.message, payload: effect.payload, createdAt: now, from: effect.from };
      if (effect.token !== undefined) queued.token = effect.token;
      await tx.enqueueMessage(queued);
    }
  }

  /**
   * Delivers queued messages (the outbox). Each delivery to one instance is one transaction
   * that also removes the message (or, for a broadcast, records the instance as served), so
   * a crash never loses a message nor delivers it to the same instance twice.
   */
  private async deliverPending(): Promise<number> {
    let delivered = 0;
    if (this.storage.mayHavePendingMessages && !(await this.storage.mayHavePendingMessages())) return 0;
    for (let round = 0; round < this.maxStepsPerRun * 10; round++) {
      const outcome = await this.storage.transaction(async (tx) => {
        const [queued] = await tx.pendingMessages(1);
        if (!queued) return null;
        const served = queued.deliveredTo ?? [];
        const target = (await this.targetsOf(tx, queued)).find((id) => !served.includes(id));
        if (target === undefined) {
          await tx.deleteMessage(queued.id);
          return { target: undefined, effects: [] };
        }
        let result: unknown;
        const incoming = withToken({ message: queued.message, payload: queued.payload }, queued.token);
        const broadcast = !('instanceId' in queued.to);
        let effects: AutomationEffect[];
        try {
          ({ effects } = await this.computeIn(
            tx,
            target,
            delivery(incoming, (reply) => {
              result = reply;
            }),
            true,
          ));
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          if (broadcast) await tx.enqueueMessage({ ...queued, deliveredTo: [...served, target] });
          else await tx.failMessage(queued.id, reason);
          return { target: undefined, effects: [] };
        }
        if (!broadcast || result === 'received') await tx.deleteMessage(queued.id);
        else await tx.enqueueMessage({ ...queued, deliveredTo: [...served, target] });
        await this.runIn(tx, target, effects);
        return { target, effects };
      });
      if (!outcome) break;
      for (const effect of outcome.effects) this.onEffect(effect);
      if (outcome.target !== undefined) delivered += 1;
    }
    return delivered;
  }

  private async targetsOf(tx: AutomationStorageTx, queued: QueuedMessage): Promise<string[]> {
    if ('instanceId' in queued.to) return [queued.to.instanceId];
    const running = await tx.listInstances({ automation: queued.to.automation, finished: false });
    return running.map((r) => r.id).filter((id) => id !== queued.from?.instanceId);
  }
}

/** The engine step that delivers `incoming` to an instance's receiver; `reply` gets what the receiver returned. */
function delivery(incoming: IncomingMessage, reply: (result: unknown) => void) {
  return async (definition: AutomationDefinition, state: InstanceState, now: number): Promise<StepResult> => {
    const delivered = await deliverMessage(definition, state, incoming, now);
    reply(delivered.result);
    return { state: delivered.state, history: [], effects: [], changed: true };
  };
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));
/** Random bytes drawn 4 KB at a time: one `getRandomValues` call costs as much as encoding hundreds of keys. */
const randomPool = { bytes: new Uint8Array(4096), used: 4096 };

/** 128 random bits, hex-encoded. */
function randomKey(): string {
  if (randomPool.used + 16 > randomPool.bytes.length) {
    crypto.getRandomValues(randomPool.bytes);
    randomPool.used = 0;
  }
  let key = '';
  for (let i = randomPool.used; i < randomPool.used + 16; i++) key += HEX[randomPool.bytes[i] as number];
  randomPool.used += 16;
  return key;
}

function withToken<T extends object>(value: T, token: string | undefined): T & { token?: string } {
  return token === undefined ? value : { ...value, token };
}

function stateOf(record: InstanceRecord): InstanceState {
  const { uniqueKey: _u, dueAt: _d, updatedAt: _a, ...state } = record;
  return state;
}

function uniqueKeyOf(definition: AutomationDefinition, data: AutomationData): string | null {
  if (definition.unique === true) return `${definition.name}#singleton`;
  if (Array.isArray(definition.unique)) return `${definition.name}#${JSON.stringify(definition.unique.map((k) => data[k] ?? null))}`;
  return null;
}
