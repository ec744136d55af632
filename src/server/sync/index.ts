/**
 * The automations sync API: browser flows in sync with server automations (`/automations/*`,
 * wire format in `src/sync/protocol.ts`). Mounted by `createApp({ automations: { running, sync } })`.
 */
export {
  SyncAutomationNotFoundError,
  SyncDashboardForbiddenError,
  SyncFormClosedError,
  SyncFormForbiddenError,
  SyncFormNotFoundError,
  SyncIdempotencyKeyError,
  SyncIdempotencyKeyReusedError,
  SyncInstanceFinishedError,
  SyncInstanceNotFoundError,
  SyncInvalidInputError,
  SyncNodeNotFoundError,
  SyncNotStartableError,
  SyncTooManyInstancesError,
  SyncTooManyStreamsError,
  SyncUnknownMessageError,
} from './errors.ts';
export { type StatusListener, SyncHub } from './hub.ts';
export { type SentMessage, type StartRecord, type SyncLinks, syncLinks, syncMigrations } from './links.ts';
export { type SyncAutomationOptions, type SyncOptions, syncDefaults, VIEW_PERMISSION } from './options.ts';
export { type SyncApi, type SyncRoutesOptions, type SyncRoutesType, syncApi } from './routes.ts';
export { browserMessages, exposedData, historyView, hoursSince, instanceStatus } from './status.ts';
