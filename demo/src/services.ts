import { createCheckoutFlow, demoServices } from '../../flows/checkout/index.ts';
import { approvalFlow, fulfilmentSteps } from '../../flows/fulfilment/browser.ts';
import { automationClient } from '../../src/sync/index.ts';

/** DEMO FAKE services shared by every tab of this page (in memory, so a reload resets accounts, never tasks). */
export const services = demoServices({ latencyMs: 150 });

/** The server's automations API (`/automations`, same origin: `npm start` serves the page beside it). */
export const automations = automationClient();

/** The checkout flow the demo runs: after payment it starts order fulfilment and waits for the back office's decision. */
export const checkout = createCheckoutFlow(services, { after: fulfilmentSteps(automations) });

/** The back office's approval form: the browser side of the automation's `approve` Form node. */
export const approval = approvalFlow(automations);
