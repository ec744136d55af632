// Server side: the automation and what browsers may do with it. Browser code imports
// `./browser.ts` and `./schemas.ts` directly, so the automation stays out of its bundle.
export { orderFulfilment } from './automation.ts';
export { fulfilmentSync } from './sync.ts';
export * from './schemas.ts';
