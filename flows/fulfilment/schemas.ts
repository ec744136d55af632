import { z } from 'zod';

/** What the shopper's browser sends to start fulfilment: the paid order, as the checkout flow knows it. */
export const orderStartSchema = z.object({
  orderId: z.string().regex(/^order-[\w-]{1,64}$/, 'An order id looks like "order-…"'),
  amountCents: z.number().int().positive(),
  item: z.object({ name: z.string().min(1).max(200), quantity: z.number().int().min(1).max(10) }),
});

/** The order as the fulfilment automation keeps it. */
export type FulfilmentOrder = z.infer<typeof orderStartSchema>;

/**
 * The back office's decision on an order: the same schema validates the form in the
 * browser and the Form node on the server. A rejection needs a reason the shopper will read.
 */
export const approvalSchema = z
  .object({
    decision: z.enum(['approve', 'reject'], { error: 'Choose approve or reject' }),
    note: z.string().trim().max(200, 'Keep the note under 200 characters').default(''),
  })
  .refine((value) => value.decision === 'approve' || value.note.length > 0, { path: ['note'], error: 'Say why the order is rejected' });

/** The approval form's parsed value. */
export type Approval = z.infer<typeof approvalSchema>;

/** A note the shopper sends to the automation while waiting (a message to its `note` receiver). */
export const shopperNoteSchema = z.object({ note: z.string().trim().min(1, 'Write a note').max(200, 'Keep the note under 200 characters') });
