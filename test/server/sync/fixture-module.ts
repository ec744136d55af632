/** An automations module with `sync` and `authenticate` exports, for `wayflow serve --automations`. */
export { authenticate, syncHidden, syncOrder } from './helpers.ts';
export { syncOptions as sync } from './helpers.ts';
