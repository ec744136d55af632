import type { AnyNode, AutomationDefinition, HistoryRow, InstanceRecord } from '../../automations/index.ts';
import type { InstanceStatus } from '../../sync/index.ts';
import type { ServerAutomations } from '../server-automations.ts';
import type { SyncOptions } from './options.ts';
import { instanceStatus } from './status.ts';

/** The ids the sync API accepts for instances; any other id is answered 404 without a query. */
export const INSTANCE_ID = /^[\w.:-]{1,128}$/;

/** An instance record with its history, read together. */
export interface LoadedInstance {
  record: InstanceRecord;
  history: HistoryRow[];
}

/** Reads automation instances and their status as browsers see it (the data `sync` exposes). */
export interface InstanceReader {
  /** The definition of an automation the runner has, by name. */
  definition(name: string): AutomationDefinition | undefined;
  /** Every automation definition the runner has. */
  definitions(): Iterable<AutomationDefinition>;
  /** The instance and its history, read in one transaction; null when missing. */
  load(id: string): Promise<LoadedInstance | null>;
  /** The browser's status of a loaded instance. */
  statusOf(record: InstanceRecord, history: readonly HistoryRow[]): InstanceStatus;
  /** The browser's status of an instance; null when missing. */
  readStatus(id: string): Promise<InstanceStatus | null>;
  /**
   * The browser's status of a record just read or written (a runner's answer): its history is
   * read only when the automation has nodes that send browser messages (the one part of the
   * status the record does not hold).
   */
  statusOfRecord(record: InstanceRecord): Promise<InstanceStatus>;
}

/**
 * Whether instances of `definition` may hold browser messages in their history: any SendMessage
 * node (unknown definitions: yes). Every engine records its history through the nodes it declares.
 */
const mayHoldMessages = (definition: AutomationDefinition | undefined) =>
  definition === undefined || Object.values(definition.nodes as Record<string, AnyNode>).some((node) => node.kind === 'send-message');

/** The `InstanceReader` over the running automations' storage, exposing what `sync` allows. */
export function instanceReader(automations: Pick<ServerAutomations, 'definitions' | 'storage'>, sync: SyncOptions): InstanceReader {
  const definitions = new Map<string, AutomationDefinition>(automations.definitions.map((d) => [d.name, d]));
  const load = (id: string) =>
    automations.storage.transaction(async (tx): Promise<LoadedInstance | null> => {
      const record = await tx.getInstance(id);
      return record ? { record, history: await tx.history(id) } : null;
    });
  const statusOf = (record: InstanceRecord, history: readonly HistoryRow[]) => instanceStatus(definitions.get(record.automation), record, history, sync);
  return {
    definition: (name) => definitions.get(name),
    definitions: () => definitions.values(),
    load,
    statusOf,
    async readStatus(id) {
      const loaded = await load(id);
      return loaded && statusOf(loaded.record, loaded.history);
    },
    async statusOfRecord(record) {
      const history = mayHoldMessages(definitions.get(record.automation)) ? await automations.storage.transaction((tx) => tx.history(record.id)) : [];
      return statusOf(record, history);
    },
  };
}
