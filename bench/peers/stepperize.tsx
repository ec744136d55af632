// @stepperize/react + idb by hand: a submit validates, commits the next record,
// then calls stepper.next().
import { defineStepper } from '@stepperize/react';
import { useRef } from 'react';
import { checkoutSteps, DONE_TITLE } from './checkout.ts';
import { PeerForm, type PeerStore } from './peer-store.tsx';

const wizard = defineStepper([...checkoutSteps.map(({ id, title }) => ({ id, title })), { id: 'done', title: DONE_TITLE }]);

/** The checkout with Stepperize; `store` and `id` name where it is committed. */
export function StepperizeCheckout({ store, id }: { store: PeerStore; id: string }) {
  const stepper = wizard.useStepper();
  const data = useRef<Record<string, unknown>>({});
  const step = checkoutSteps[stepper.index];
  if (!step) return <h1>{DONE_TITLE}</h1>;
  return (
    <section key={step.id}>
      <h1>{step.title}</h1>
      <PeerForm
        step={step}
        canGoBack={!stepper.isFirst}
        back={() => void stepper.prev()}
        commit={async (values) => {
          const next = { ...data.current, [step.id]: values };
          await store.save({ id, step: checkoutSteps[stepper.index + 1]?.id ?? 'done', data: next, updatedAt: Date.now() });
          data.current = next;
          await stepper.next();
        }}
      />
    </section>
  );
}
