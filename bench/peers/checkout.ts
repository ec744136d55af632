// The 5-step checkout every contender of the peers race implements: the same
// steps, labelled inputs, zod schemas and values typed by the "user".
import { z } from 'zod';

/** One step: its id, heading, inputs (name and label) and schema. */
export interface CheckoutStep {
  id: string;
  title: string;
  fields: readonly { name: string; label: string }[];
  schema: z.ZodType;
}

export const checkoutSteps: readonly CheckoutStep[] = [
  {
    id: 'contact',
    title: 'Contact details',
    fields: [
      { name: 'name', label: 'Full name' },
      { name: 'email', label: 'Email' },
    ],
    schema: z.object({ name: z.string().min(1), email: z.email() }),
  },
  {
    id: 'shipping',
    title: 'Shipping address',
    fields: [
      { name: 'street', label: 'Street' },
      { name: 'city', label: 'City' },
      { name: 'zip', label: 'Postcode' },
    ],
    schema: z.object({ street: z.string().min(1), city: z.string().min(1), zip: z.string().regex(/^\d{5}$/) }),
  },
  {
    id: 'delivery',
    title: 'Delivery',
    fields: [{ name: 'method', label: 'Delivery method (standard or express)' }],
    schema: z.object({ method: z.enum(['standard', 'express']) }),
  },
  {
    id: 'payment',
    title: 'Payment',
    fields: [
      { name: 'card', label: 'Card number' },
      { name: 'expiry', label: 'Expiry (MM/YY)' },
    ],
    schema: z.object({ card: z.string().regex(/^\d{16}$/), expiry: z.string().regex(/^\d{2}\/\d{2}$/) }),
  },
  {
    id: 'review',
    title: 'Review your order',
    fields: [{ name: 'note', label: 'Note for the courier' }],
    schema: z.object({ note: z.string().max(200) }),
  },
];

/** The heading every contender shows once the last step is committed. */
export const DONE_TITLE = 'Order placed';

/** What the user types on each step (valid for its schema), by step id. */
export const typed: Record<string, Record<string, string>> = {
  contact: { name: 'Ada Lovelace', email: 'ada@example.org' },
  shipping: { street: '12 Analytical Row', city: 'London', zip: '10115' },
  delivery: { method: 'express' },
  payment: { card: '4242424242424242', expiry: '12/29' },
  review: { note: 'Leave it with the neighbour' },
};

/** Field errors of a failed zod parse, by field name (what each contender shows next to its inputs). */
export function fieldErrors(error: z.ZodError): Record<string, string[]> {
  const errors: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const name = String(issue.path[0] ?? '');
    errors[name] = [...(errors[name] ?? []), issue.message];
  }
  return errors;
}
