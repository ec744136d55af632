// react-use-wizard + idb by hand: one child per step; a submit validates,
// commits the next record, then calls nextStep().
import { useRef } from 'react';
import { useWizard, Wizard } from 'react-use-wizard';
import { type CheckoutStep, checkoutSteps, DONE_TITLE } from './checkout.ts';
import { PeerForm, type PeerStore } from './peer-store.tsx';

function Step({ step, store, id, data }: { step: CheckoutStep; store: PeerStore; id: string; data: { current: Record<string, unknown> } }) {
  const { nextStep, previousStep, isFirstStep, activeStep } = useWizard();
  return (
    <section>
      <h1>{step.title}</h1>
      <PeerForm
        step={step}
        canGoBack={!isFirstStep}
        back={previousStep}
        commit={async (values) => {
          const next = { ...data.current, [step.id]: values };
          await store.save({ id, step: checkoutSteps[activeStep + 1]?.id ?? 'done', data: next, updatedAt: Date.now() });
          data.current = next;
          await nextStep();
        }}
      />
    </section>
  );
}

/** The checkout with react-use-wizard; `store` and `id` name where it is committed. */
export function RswCheckout({ store, id }: { store: PeerStore; id: string }) {
  const data = useRef<Record<string, unknown>>({});
  return (
    <Wizard>
      {checkoutSteps.map((step) => (
        <Step key={step.id} step={step} store={store} id={id} data={data} />
      ))}
      <h1>{DONE_TITLE}</h1>
    </Wizard>
  );
}
