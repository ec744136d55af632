import type { AutomationData } from '../../automations/index.ts';
import type { StandardSchemaV1 } from '../../core/index.ts';
import type { Caller } from '../session.ts';

/** How browsers may use one automation through the sync API. Nothing is allowed unless listed. */
export interface SyncAutomationOptions {
  /**
   * Lets browsers start instances (`POST /automations/start/:automation`): `schema` validates
   * the input (422 with the field errors otherwise), `data` turns the parsed input and the
   * caller into the instance data (default: the parsed input itself when it is an object,
   * else `{ input }`).
   */
  start?: {
    schema: StandardSchemaV1;
    data?: (input: unknown, caller: Caller) => AutomationData | Promise<AutomationData>;
  };
  /** The part of the instance data browsers may read (statuses, form views). Default: nothing (`{}`). */
  expose?: (data: AutomationData) => Record<string, unknown>;
  /** Receivers browsers may send messages to (`POST /automations/instances/:id/messages/:message`). Default: none. */
  messages?: string[];
}

/** Options of the automations sync API (`/automations/*`). */
export interface SyncOptions {
  /** Per automation name: what browsers may do with it. Automations not listed can still be seen (owner, form, dashboard) but expose no data. */
  automations?: Record<string, SyncAutomationOptions>;
  /** An event stream with no change for this long sends `idle` and closes (default: the app's idle timeout). */
  streamIdleMs?: number;
  /** Interval of the comment heartbeat on event streams (default 15 000 ms). */
  heartbeatMs?: number;
  /** How often a watched instance is re-read to see changes made by other processes (default 1000 ms; one poller per instance). */
  pollMs?: number;
  /** Most recent instances per automation on the dashboard (default 10). */
  dashboardRecent?: number;
}

/** The defaults of `SyncOptions` (`streamIdleMs` defaults to the app's idle timeout). */
export const syncDefaults = {
  heartbeatMs: 15_000,
  pollMs: 1000,
  dashboardRecent: 10,
} as const;

/** The permission that opens the dashboard and every instance to a user (superusers always may). */
export const VIEW_PERMISSION = 'automations.view';
