/**
 * The django-flowcontrol model: flows of nested actions moved by directives, `stepFlowRun`,
 * the flow engine (`flowEngine`), the built-in actions (`ifCondition`, `whileLoop`, `forLoop`,
 * `delay`, `setState`…) and `FlowControl`, which creates, executes and continues runs on a
 * `FlowRunStore`.
 */
export * from './actions.ts';
export * from './control.ts';
export * from './engine.ts';
export * from './flow.ts';
