// The wayflow contender as another checkout builds it: `BASELINE=<root> node bench/peers/run.mjs`
// points these two imports at that root's files (its src/ and its bench/peers/wayflow.tsx, with
// this checkout's React, zod, idb and XState), so one page races wayflow before and after a change,
// interleaved in the same rounds. Without BASELINE it is not raced.
export { WayflowCheckout } from './wayflow.tsx';
export { indexedDbStore } from '../../src/persist/index.ts';
