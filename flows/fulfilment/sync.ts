import type { AutomationData } from '../../src/automations/index.ts';
import type { SyncOptions } from '../../src/server/sync/index.ts';
import { type FulfilmentOrder, orderStartSchema } from './schemas.ts';

/**
 * What browsers may do with order fulfilment: start it with a paid order (validated by
 * `orderStartSchema`), see the order, the decision and the shopper's note, and send the
 * `note` message. Nothing else of the instance data leaves the server.
 */
export const fulfilmentSync: SyncOptions = {
  automations: {
    OrderFulfilment: {
      start: { schema: orderStartSchema, data: (input) => ({ order: input as FulfilmentOrder }) },
      expose: (data: AutomationData) => ({
        order: data.order,
        shopperNote: data.shopperNote ?? null,
        decision: (data.approve as { decision?: string } | undefined)?.decision ?? null,
        shipped: data.shippedAt !== undefined,
      }),
      messages: ['note'],
    },
  },
};
