// Variants of wayflow's contender for bench/peers/frames.mjs: the same task, store and step views as
// bench/peers/wayflow.tsx, drawn with less of FlowView's page, to find which part of it makes the frame
// that paints a step dearer. `wf-noprog`: no FlowProgress (FlowOutlet alone). `wf-nolive`: FlowProgress and
// a bare outlet (the section, its heading and the step's view, keyed as FlowOutlet keys it: no live region,
// no focus move). `wf-bare`: the bare outlet alone, the DOM the peers draw (a section, a heading, the form);
// `wf-live` with FlowOutlet's live region, `wf-focus` with its heading focused (once, as FlowOutlet does), `wf-noring` that without a focus ring (`outline: none`), `wf-narrow` with it
// around the heading's text only (`width: fit-content`);
// `wf-full-noring`: FlowView's own layout with the heading's focus ring off.
import { type ComponentType, useEffect, useRef } from 'react';
import { FlowOutlet, FlowProgress, FlowView, type StepViewProps, useTask, WayflowProvider } from '../../src/react/index.ts';
import type { StateStore } from '../../src/persist/index.ts';
import { DONE_TITLE } from './checkout.ts';
import { checkoutFlow, views } from './wayflow.tsx';

const hidden = { position: 'absolute', width: 1, height: 1, overflow: 'hidden', clip: 'rect(0 0 0 0)', whiteSpace: 'nowrap' } as const;

/** A step's section, heading and view, keyed by step and visit as FlowOutlet keys its view; nothing else, or with FlowOutlet's live region (`live`) or its heading focused once as FlowOutlet focuses it (`focus`). */
function BareOutlet({ live, focus, ring = true, narrow }: { live?: boolean; focus?: boolean; ring?: boolean; narrow?: boolean }) {
  const task = useTask<typeof checkoutFlow>();
  const { step } = task;
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    const h1 = heading.current;
    if (focus && h1 && !h1.matches(':focus')) requestAnimationFrame(() => h1.focus());
  });
  if (!step) return <h1>{DONE_TITLE}</h1>;
  const View = views[step.id] as ComponentType<StepViewProps<typeof checkoutFlow>>;
  return (
    <section>
      {live && (
        <p role="status" aria-live="polite" style={hidden}>
          Step {task.progress.current} of {task.progress.total}: {step.title}
        </p>
      )}
      <h1 ref={heading} tabIndex={focus ? -1 : undefined} style={ring ? (narrow ? { width: 'fit-content' } : undefined) : { outline: 'none' }}>
        {step.title}
      </h1>
      <View key={`${step.id}:${step.visit}`} step={step} task={task} />
    </section>
  );
}

/** FlowView's own layout (FlowProgress and FlowOutlet) with the heading's focus ring off (`outline: none`, set on the heading FlowOutlet keeps). */
function NoRing() {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const h1 = box.current?.querySelector('h1');
    if (h1) h1.style.outline = 'none';
  });
  return (
    <div ref={box}>
      <FlowProgress />
      <FlowOutlet<typeof checkoutFlow> views={views} completed={<h1>{DONE_TITLE}</h1>} />
    </div>
  );
}

const layouts = {
  'wf-noprog': () => <FlowOutlet<typeof checkoutFlow> views={views} completed={<h1>{DONE_TITLE}</h1>} />,
  'wf-nolive': () => (
    <>
      <FlowProgress />
      <BareOutlet />
    </>
  ),
  'wf-bare': () => <BareOutlet />,
  'wf-live': () => <BareOutlet live />,
  'wf-focus': () => <BareOutlet focus />,
  'wf-noring': () => <BareOutlet focus ring={false} />,
  'wf-narrow': () => <BareOutlet focus narrow />,
  'wf-full-noring': () => <NoRing />,
};

/** The names of the variants, as page.tsx races them. */
export type Variant = keyof typeof layouts;

/** Wayflow's checkout drawn as `variant`. */
export function VariantCheckout({ store, variant }: { store: StateStore; variant: Variant }) {
  const Layout = layouts[variant];
  return (
    <WayflowProvider store={store} binder="bench">
      <FlowView flow={checkoutFlow} views={views} completed={<h1>{DONE_TITLE}</h1>}>
        <Layout />
      </FlowView>
    </WayflowProvider>
  );
}
