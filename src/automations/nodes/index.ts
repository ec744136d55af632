/**
 * The django-automations model: ordered named nodes with modifiers (`flow.execute(…)`,
 * `.afterWaitingFor(…)`, …), `defineAutomation`, its validation, and the nodes engine every
 * such definition is compiled to.
 */
export * from './define.ts';
export { nodesEngine } from './engine.ts';
export * from './nodes.ts';
export * from './validate.ts';
