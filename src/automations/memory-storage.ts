import { flowRunDueAt } from './flowcontrol/engine.ts';
import type { FlowRun } from './flowcontrol/flow.ts';
import { matchesRunQuery } from './flowcontrol/runs.ts';
import type { HistoryChange, HistoryRow } from './state.ts';
import type { AutomationStorage, AutomationStorageTx, DueScope, FlowRunQuery, InstanceQuery, InstanceRecord, QueuedMessage } from './storage.ts';

interface Tables {
  instances: Map<string, InstanceRecord>;
  history: Map<string, HistoryRow[]>;
  messages: Map<string, QueuedMessage>;
  runs: Map<string, FlowRun>;
  /** Insertion order of instances and runs (the SQL storage's `seq`), breaking ties between equal due times. */
  seq: Map<string, number>;
}

/**
 * An in-memory storage for tests and single-process use: automation instances (node
 * automations, django-ws workflows) and flowcontrol runs in one, like the SQL storage.
 * Transactions run one at a time; a transaction that throws is rolled back completely, like a
 * database would.
 */
export class MemoryAutomationStorage implements AutomationStorage {
  private tables: Tables = { instances: new Map(), history: new Map(), messages: new Map(), runs: new Map(), seq: new Map() };
  private queue: Promise<unknown> = Promise.resolve();

  /** Runs `work` alone; its changes are kept only if it returns normally. */
  transaction<T>(work: (tx: AutomationStorageTx) => Promise<T>): Promise<T> {
    const run = async () => {
      const saved = structuredClone(this.tables);
      try {
        return await work(new MemoryTx(this.tables));
      } catch (error) {
        this.tables = saved;
        throw error;
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }
}

class MemoryTx implements AutomationStorageTx {
  constructor(private readonly t: Tables) {}

  private order(id: string): number {
    if (!this.t.seq.has(id)) this.t.seq.set(id, this.t.seq.size);
    return this.t.seq.get(id) as number;
  }

  async getRun(id: string): Promise<FlowRun | null> {
    return structuredClone(this.t.runs.get(id) ?? null);
  }
  async putRun(run: FlowRun): Promise<void> {
    this.order(run.id);
    this.t.runs.set(run.id, structuredClone(run));
  }
  async listRuns(query: FlowRunQuery): Promise<FlowRun[]> {
    return this.runsByAge()
      .filter((r) => matchesRunQuery(r, query))
      .map((r) => structuredClone(r));
  }
  /** Nothing to lock: transactions already run one at a time. */
  async lockFlow(): Promise<void> {}
  private runsByAge(): FlowRun[] {
    return [...this.t.runs.values()].sort((a, b) => a.createdAt - b.createdAt || this.order(a.id) - this.order(b.id));
  }

  async insertInstance(record: InstanceRecord): Promise<InstanceRecord | null> {
    if (record.uniqueKey !== null) {
      for (const other of this.t.instances.values()) {
        if (other.uniqueKey === record.uniqueKey) return structuredClone(other);
      }
    }
    this.order(record.id);
    this.t.instances.set(record.id, structuredClone(record));
    this.t.history.set(record.id, []);
    return null;
  }
  async getInstance(id: string): Promise<InstanceRecord | null> {
    const record = this.t.instances.get(id);
    return record ? structuredClone(record) : null;
  }
  async getInstanceByKey(key: string): Promise<InstanceRecord | null> {
    for (const record of this.t.instances.values()) if (record.key === key) return structuredClone(record);
    return null;
  }
  async putInstance(record: InstanceRecord): Promise<void> {
    this.t.instances.set(record.id, structuredClone(record));
  }
  async deleteInstance(id: string): Promise<boolean> {
    this.t.history.delete(id);
    return this.t.instances.delete(id);
  }
  async listInstances(query: InstanceQuery): Promise<InstanceRecord[]> {
    return [...this.t.instances.values()]
      .filter((r) => (query.automation === undefined || r.automation === query.automation) && (query.finished === undefined || r.finished === query.finished))
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((r) => structuredClone(r));
  }
  async dueInstances(now: number, limit: number, scope?: DueScope): Promise<string[]> {
    const due: { id: string; at: number }[] = [];
    for (const r of this.t.instances.values()) {
      if (!r.finished && r.dueAt !== null && r.dueAt <= now && (!scope || scope.automations.includes(r.automation))) due.push({ id: r.id, at: r.dueAt });
    }
    for (const r of this.t.runs.values()) {
      const at = flowRunDueAt(r);
      if (at !== null && at <= now && (!scope || scope.flows.includes(r.flow))) due.push({ id: r.id, at });
    }
    return due
      .sort((a, b) => a.at - b.at || this.order(a.id) - this.order(b.id))
      .slice(0, limit)
      .map((d) => d.id);
  }
  async applyHistory(changes: readonly HistoryChange[]): Promise<void> {
    for (const change of changes) {
      if (change.type === 'open') {
        const rows = this.t.history.get(change.row.instanceId);
        rows?.push(structuredClone(change.row));
        continue;
      }
      const row = this.t.history.get(change.instanceId)?.find((r) => r.taskId === change.taskId);
      if (row) {
        row.finished = change.finished;
        row.message = change.message;
        row.result = structuredClone(change.result);
        if (change.completedBy !== undefined) row.completedBy = change.completedBy;
      }
    }
  }
  async history(instanceId: string): Promise<HistoryRow[]> {
    return structuredClone(this.t.history.get(instanceId) ?? []);
  }
  async enqueueMessage(message: QueuedMessage): Promise<void> {
    this.t.messages.set(message.id, structuredClone(message));
  }
  async pendingMessages(limit: number): Promise<QueuedMessage[]> {
    return [...this.t.messages.values()]
      .filter((m) => m.error === undefined)
      .sort((a, b) => a.createdAt - b.createdAt)
      .slice(0, limit)
      .map((m) => structuredClone(m));
  }
  async failedMessages(limit: number): Promise<QueuedMessage[]> {
    return [...this.t.messages.values()]
      .filter((m) => m.error !== undefined)
      .sort((a, b) => a.createdAt - b.createdAt)
      .slice(0, limit)
      .map((m) => structuredClone(m));
  }
  async deleteMessage(id: string): Promise<void> {
    this.t.messages.delete(id);
  }
  async failMessage(id: string, error: string): Promise<void> {
    const message = this.t.messages.get(id);
    if (message) message.error = error;
  }
  async deleteFinishedBefore(before: number): Promise<{ automations: number; tasks: number }> {
    let automations = 0;
    let tasks = 0;
    for (const record of [...this.t.instances.values()]) {
      if (!record.finished || record.finishedAt === null || record.finishedAt >= before) continue;
      tasks += this.t.history.get(record.id)?.length ?? 0;
      automations += 1;
      this.t.instances.delete(record.id);
      this.t.history.delete(record.id);
    }
    return { automations, tasks };
  }
}
