export { createCheckoutFlow, demoProduct } from './flow.ts';
export type { Payment, Product } from './flow.ts';
export { demoAccounts, demoPayments, demoServices } from './fakes.ts';
export type { CheckoutServices, DemoCharge, DemoOptions, DemoUser, SavedMethod } from './fakes.ts';
export * from './schemas.ts';
