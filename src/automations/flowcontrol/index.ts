/**
 * The django-flowcontrol model: flows of nested actions moved by directives, `stepFlowRun`,
 * the flow engine (`flowEngine`), the built-in actions (`ifCondition`, `whileLoop`, `forLoop`,
 * `delay`, `setState`…), triggers (`triggers.ts`), the consistency check of stored runs
 * (`run-state.ts`) and `FlowControl`, which creates, executes and continues runs on a
 * `FlowRunStore`.
 */
export * from './actions.ts';
export * from './control.ts';
export * from './engine.ts';
export * from './flow.ts';
export * from './run-state.ts';
export * from './runs.ts';
export * from './triggers.ts';
