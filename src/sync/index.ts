export { automationClient, SyncError, syncErrorFrom } from './client.ts';
export type { AutomationClient, AutomationClientOptions } from './client.ts';
export { watchInstance } from './watch.ts';
export type { StopWatching, WatchOptions, WatchSource } from './watch.ts';
export { automationForm, awaitAutomation, awaitedInstance, awaitKey, awaitMetaOf, followAutomations, openFormTask, startAutomation } from './steps.ts';
export type { AwaitMark, AwaitMeta, FormTaskData, MessageHandler } from './steps.ts';
export type {
  BrowserMessage,
  FunnelMoveView,
  FunnelsResponse,
  FunnelStepView,
  FunnelView,
  DashboardView,
  HistoryEntryView,
  InstanceInspection,
  InstanceStatus,
  NodeCountsView,
  NodeInstanceView,
  OpenFormDetail,
  OpenFormRef,
  OpenFormSummary,
  ProcessGraphView,
  ProcessMapView,
  StreamEnd,
  StreamIdle,
  SyncErrorBody,
  SyncResponses,
} from './protocol.ts';
