/**
 * Server automations on a database: one SQL storage (PGlite or PostgreSQL) for automation instances and
 * flowcontrol runs, one long-running scheduler with one due loop for both, and the `wayflow step | scheduler | delete-history` commands.
 */
export {
  type AutomationCommandIo,
  AutomationUsageError,
  automationCli,
  deleteHistoryCommand,
  type RunningAutomationScheduler,
  type StepCommandResult,
  schedulerCommand,
  stepCommand,
} from './cli.ts';
export { type AutomationDatabase, type AutomationDatabaseOptions, openAutomationDatabase } from './database.ts';
export {
  type AutomationModule,
  loadAutomationModule,
  loadAutomations,
  type TriggerDeclaration,
} from './definitions.ts';
export { type DueLoop, type DueLoopOptions, startDueLoop } from './due-loop.ts';
export {
  AutomationInstanceGoneError,
  AutomationSchedulerOptionsError,
  AutomationsModuleError,
  AutomationUniqueKeyRaceError,
  AutomationVersionConflictError,
  NoAutomationTransactionError,
} from './errors.ts';
export { type DueTimeListener, listenForDueTimes } from './listen.ts';
export { automationMigrations, migrateAutomations } from './migrations.ts';
export {
  type AutomationSummary,
  SqlAutomationStorage,
  type SqlAutomationStorageOptions,
  type SqlStorageTx,
  sqlAutomationStorage,
  sqlTransactionOf,
} from './pg-storage.ts';
export {
  type AutomationRuntime,
  type AutomationRuntimeOptions,
  openAutomationRuntime,
  type RuntimeScheduler,
  startRuntimeScheduler,
} from './runtime.ts';
export {
  type AutomationScheduler,
  type AutomationSchedulerOptions,
  type SchedulerStats,
  startAutomationScheduler,
} from './scheduler.ts';
export { automationSavepoint, automationTransaction } from './transaction.ts';
