/**
 * What the other browser folders (persist, react, router, sync) need from core that apps do
 * not: their one door into core besides `index.ts`. Not part of the `wayflow` entry, so none
 * of it costs that entry bytes.
 */
export { type AddressDecision, type AddressMemory, type AddressMove, type AddressPage, type AddressView, addressMemory, addressMove, stayAt, stepAtUrl, urlOfStep } from './address.ts';
export { InvalidTaskIdError, isTaskId, parseTaskId } from './ids.ts';
export { inert } from './compile.ts';
export { isStep } from './model.ts';
export { type Phase, type Position, positionOf } from './position.ts';
export { describeTask, type Feedback, statusOf, stepView, summaryOf } from './projection.ts';
export { DEFAULT_IDLE_MS, UNBOUND } from './task.ts';
export { type DirectiveMove, directiveMove, MAX_HOT_LOOPS, type TreeNode } from './directives.ts';
