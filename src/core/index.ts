export { action, defineFlow, scaffold } from './definition.ts';
export type { Action, AnyAction, Flow, FlowData, FlowNode, NodeTypes, Scaffold, StepId, SubmitContext, SubmitResult, TaskData, TransitionPolicy } from './definition.ts';
export { outcome } from './outcomes.ts';
export type { MovingOutcome, Outcome, OutcomeEffects, User } from './outcomes.ts';
export { orGoTo, precondition, requiredState, signedIn } from './preconditions.ts';
export type { Precondition, PreconditionContext } from './preconditions.ts';
export { compile } from './compile.ts';
export type { CompiledFlow, FlowContext, FlowMachineEvent, FlowMachine, TrailEntry } from './compile.ts';
export { restoreTask, startTask, systemTaskClock, Task } from './task.ts';
export type { ChoiceOption, TaskClock, StartTaskOptions, StepView, SubmitOutcome, TaskOptions, TaskState, TaskStatus } from './task.ts';
export type { HistoryEntry, PersistedSnapshot, StateStore, TaskRecord, TaskSummary } from './store.ts';
export { newTaskId } from './ids.ts';
export { validateInput } from './schema.ts';
export type { FieldErrors, InferOutput, StandardSchemaV1 } from './schema.ts';
export {
  ActionFailedError,
  DefinitionError,
  HotLoopError,
  InvalidOutcomeError,
  PreconditionError,
  TaskRecordError,
  TaskStateError,
  VersionConflictError,
  WayflowError,
} from './errors.ts';
export type { DefinitionProblem } from './errors.ts';
