import { defineAutomation, flow, requireDataParameters } from '../../src/automations/index.ts';
import { type Approval, approvalSchema } from './schemas.ts';

/**
 * Fulfils a paid order: a back-office colleague (group `backoffice`) approves or rejects it
 * in their task list, the shopper's browser hears the decision as a message, and an
 * approved order is handed to shipping. While it waits, the shopper can send a note for
 * the packer (the `note` receiver).
 */
export const orderFulfilment = defineAutomation('OrderFulfilment', {
  verboseName: 'Order fulfilment',
  verboseNamePlural: 'Order fulfilments',
  nodes: {
    received: flow.execute((ctx) => {
      ctx.data.receivedAt = ctx.now;
    }).describe('Order received'),
    approve: flow.form(approvalSchema).group('backoffice').describe('Approve the order'),
    decide: flow
      .if((ctx) => (ctx.data.approve as Approval).decision === 'approve')
      .thenDo('approved')
      .elseDo('rejected'),
    approved: flow
      .sendMessage({ browser: true }, 'approved', undefined, (ctx) => ({ note: (ctx.data.approve as Approval).note }))
      .next('ship')
      .describe('Tell the shopper'),
    rejected: flow
      .sendMessage({ browser: true }, 'rejected', undefined, (ctx) => ({ note: (ctx.data.approve as Approval).note }))
      .next('end')
      .describe('Tell the shopper'),
    ship: flow.execute((ctx) => {
      ctx.data.shippedAt = ctx.now;
      return { carrier: 'demo-post', tracking: `DP${ctx.instanceId.slice(0, 8).toUpperCase()}` };
    }).describe('Hand over to shipping'),
    end: flow.end(),
  },
  receivers: {
    note: requireDataParameters({ note: 'string' }, (ctx, _token, payload) => {
      ctx.data.shopperNote = String(payload.note).slice(0, 200);
      return 'noted';
    }),
  },
  publishReceivers: true,
});
