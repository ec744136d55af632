// XState 5 + @xstate/react + idb by hand: the machine holds the step and data; a
// submit validates, commits the next record, then sends NEXT.
import { useMachine } from '@xstate/react';
import { assign, setup } from 'xstate';
import { checkoutSteps, DONE_TITLE } from './checkout.ts';
import { PeerForm, type PeerStore } from './peer-store.tsx';

const ids = checkoutSteps.map((s) => s.id);
type Ctx = { data: Record<string, unknown> };
type Ev = { type: 'NEXT'; data: Record<string, unknown> } | { type: 'BACK' };

const machine = setup({ types: { context: {} as Ctx, events: {} as Ev } }).createMachine({
  id: 'checkout',
  initial: ids[0]!,
  context: { data: {} },
  states: Object.fromEntries([
    ...ids.map((id, i) => [
      id,
      {
        on: {
          NEXT: { target: ids[i + 1] ?? 'done', actions: assign({ data: ({ event }) => (event as unknown as { data: Record<string, unknown> }).data }) },
          ...(i > 0 ? { BACK: ids[i - 1] } : {}),
        },
      },
    ]),
    ['done', { type: 'final' }],
  ]),
});

/** The checkout with XState; `store` and `id` name where it is committed. */
export function XStateCheckout({ store, id }: { store: PeerStore; id: string }) {
  const [snapshot, send] = useMachine(machine);
  const at = String(snapshot.value);
  const index = ids.indexOf(at);
  const step = checkoutSteps[index];
  if (!step) return <h1>{DONE_TITLE}</h1>;
  return (
    <section key={at}>
      <h1>{step.title}</h1>
      <PeerForm
        step={step}
        canGoBack={index > 0}
        back={() => send({ type: 'BACK' })}
        commit={async (values) => {
          const data = { ...snapshot.context.data, [step.id]: values };
          await store.save({ id, step: ids[index + 1] ?? 'done', data, updatedAt: Date.now() });
          send({ type: 'NEXT', data });
        }}
      />
    </section>
  );
}
