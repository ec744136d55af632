/**
 * The django-flowcontrol model: flows of nested actions moved by directives, `stepFlowRun`,
 * the flow engine (`flowEngine`), the built-in actions (`ifCondition`, `whileLoop`, `forLoop`,
 * `delay`, `setState`…), triggers (`triggers.ts`), the consistency check of stored runs
 * (`run-state.ts`), the run operations the one runner and `FlowControl` share (`runs.ts`:
 * limits, steps, children, cancel) and `FlowControl`, the flowcontrol API over the runner;
 * runs live in the one automation storage.
 */
export * from './actions.ts';
export * from './control.ts';
export * from './engine.ts';
export * from './flow.ts';
export * from './run-state.ts';
export { FlowActionNameError, type FlowStep, FlowRunSteps, matchesRunQuery, type StartRunOptions } from './runs.ts';
export * from './triggers.ts';
