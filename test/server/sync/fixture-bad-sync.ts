/** A module whose sync options name an automation it does not export. */
export { syncOrder } from './helpers.ts';
export const sync = { automations: { Elsewhere: { messages: [] } } };
