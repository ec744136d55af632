import type { Flow, FlowNode, TaskData } from '../../src/core/index.ts';
import { type AutomationClient, automationForm, awaitAutomation, startAutomation } from '../../src/sync/index.ts';
import { approvalSchema, type FulfilmentOrder } from './schemas.ts';

/** The shopper's decision as the checkout keeps it once the back office has decided. */
export interface ApprovalResult {
  decision: 'approved' | 'rejected';
  note: string;
}

/** The order the fulfilment automation starts with, from the checkout task's data. */
export function orderOf(data: TaskData): FulfilmentOrder {
  const order = data.order as { id: string; amountCents: number };
  const item = data.item as { name: string; quantity: number };
  return { orderId: order.id, amountCents: order.amountCents, item: { name: item.name, quantity: item.quantity } };
}

/**
 * The steps the checkout runs after payment: start the fulfilment automation with the paid
 * order, then wait (live over SSE, polling as a fallback) until the back office decides; the
 * automation's `approved` / `rejected` browser message completes the wait.
 */
export function fulfilmentSteps(client: Pick<AutomationClient, 'start' | 'status' | 'watch'>): FlowNode[] {
  const decided = (decision: ApprovalResult['decision']) => (payload: Record<string, unknown>) => ({
    approval: { decision, note: typeof payload.note === 'string' ? payload.note : '' } satisfies ApprovalResult,
  });
  return [
    startAutomation({ id: 'placeOrder', title: 'Placing your order', client, automation: 'OrderFulfilment', input: orderOf, as: 'fulfilment' }),
    awaitAutomation({
      id: 'awaitApproval',
      title: 'Waiting for approval',
      client,
      instance: (data) => (data.fulfilment as { instanceId: string }).instanceId,
      on: { approved: decided('approved'), rejected: decided('rejected') },
    }),
  ];
}

/** The back office's approval form as a browser flow: the same `approvalSchema` the automation's Form node validates with. */
export function approvalFlow(client: Pick<AutomationClient, 'submitForm'>): Flow {
  return automationForm({ flowId: 'approve-order', id: 'approve', title: 'Approve the order', schema: approvalSchema, client });
}
