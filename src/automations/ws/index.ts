/**
 * The django-ws model: workflows as data (nodes, transitions, AND/XOR split and join, roles),
 * run in memory (`startWsProcess`) or compiled to the automation engine contract
 * (`compileWsWorkflow`) for the runner and every storage.
 */
export * from './engine.ts';
export * from './workflow.ts';
