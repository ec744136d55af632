// wayflow: the checkout as a flow of five actions with zod schemas, rendered by
// FlowView with a StepForm of Fields per step, committed by indexedDbStore.
import type { ComponentType } from 'react';
import { action, defineFlow } from '../../src/core/index.ts';
import type { StateStore } from '../../src/persist/index.ts';
import { Field, FlowView, StepForm, type StepViewProps, WayflowProvider } from '../../src/react/index.ts';
import { checkoutSteps, DONE_TITLE } from './checkout.ts';

/** The checkout flow. */
export const checkoutFlow = defineFlow({
  id: 'checkout',
  version: 1,
  title: 'Checkout',
  children: checkoutSteps.map((s) => action({ id: s.id, title: s.title, schema: s.schema })),
});

/** The step views (bench/peers/frame-variants.tsx draws them too). */
export const views: Record<string, ComponentType<StepViewProps<typeof checkoutFlow>>> = Object.fromEntries(
  checkoutSteps.map((step) => [
    step.id,
    () => (
      <StepForm>
        {step.fields.map(({ name, label }) => (
          <Field key={name} name={name} label={label} />
        ))}
      </StepForm>
    ),
  ]),
);

/** The checkout with wayflow; every step is committed to `store` before it shows. */
export function WayflowCheckout({ store }: { store: StateStore }) {
  return (
    <WayflowProvider store={store} binder="bench">
      <FlowView flow={checkoutFlow} views={views} completed={<h1>{DONE_TITLE}</h1>} />
    </WayflowProvider>
  );
}
