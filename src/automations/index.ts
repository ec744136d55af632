/**
 * Server automations: ordered named nodes with modifiers, a pure step engine, a storage
 * contract with an in-memory implementation, and a runner built on them.
 */
export * from './definition.ts';
export * from './engine.ts';
export * from './errors.ts';
export * from './flowcontrol.ts';
export * from './flowcontrol-runner.ts';
export * from './memory-storage.ts';
export * from './nodes.ts';
export * from './runner.ts';
export * from './state.ts';
export * from './storage.ts';
export * from './time.ts';
export * from './validate.ts';
export * from './ws-engine.ts';
export * from './ws-workflow.ts';
