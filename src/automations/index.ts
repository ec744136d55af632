/**
 * Server automations: one engine contract (`Engine`: state + event -> next state + effects),
 * the three workflow models compiled to it (`nodes/`: django-automations, `ws/`: django-ws,
 * `flowcontrol/`: django-flowcontrol), the storage contract with an in-memory implementation,
 * and the runner built on them.
 */
export * from './definition.ts';
export * from './engine.ts';
export * from './errors.ts';
export * from './flowcontrol/index.ts';
export * from './graph.ts';
export * from './memory-storage.ts';
export * from './nodes/index.ts';
export * from './runner.ts';
export * from './state.ts';
export * from './storage.ts';
export * from './time.ts';
export * from './ws/index.ts';
