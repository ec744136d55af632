import { type Actor, type InstanceRecord, openForms } from '../../automations/index.ts';
import type { Caller } from '../session.ts';
import { SyncInstanceNotFoundError } from './errors.ts';
import { INSTANCE_ID, type InstanceReader, type LoadedInstance } from './instances.ts';
import type { SyncLinks } from './links.ts';
import { VIEW_PERMISSION } from './options.ts';

/** Whether the actor may see the dashboard and every instance: a superuser or one with `VIEW_PERMISSION`. */
export const isViewer = (actor: Actor) => actor.superuser === true || (actor.permissions?.includes(VIEW_PERMISSION) ?? false);

/** Who may see which instance. */
export interface Visibility {
  /** Whether the caller may see the instance: its owner, one who may process one of its open forms, or a dashboard viewer. */
  maySee(caller: Caller, record: InstanceRecord): Promise<boolean>;
  /** The instance and its history if the caller may see it; else 404, alike for missing and foreign. */
  visible(caller: Caller, id: string): Promise<LoadedInstance>;
}

/** The `Visibility` of instances read by `reader`, owned per the sync `links`. */
export function instanceVisibility(reader: InstanceReader, links: () => Promise<SyncLinks>): Visibility {
  const maySee = async (caller: Caller, record: InstanceRecord) => {
    if (isViewer(caller.actor)) return true;
    const definition = reader.definition(record.automation);
    if (definition && !record.finished && openForms(definition, record, caller.actor).length > 0) return true;
    return (await links()).owns(caller.owner, record.id);
  };
  return {
    maySee,
    async visible(caller, id) {
      if (!INSTANCE_ID.test(id)) throw new SyncInstanceNotFoundError(id);
      const loaded = await reader.load(id);
      if (!loaded || !(await maySee(caller, loaded.record))) throw new SyncInstanceNotFoundError(id);
      return loaded;
    },
  };
}
