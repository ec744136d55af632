import { type ReactNode, useEffect, useMemo, useRef, useState } from 'react';
import { Link, type LinkProps, useLocation, useNavigate, useNavigationType, useParams } from 'react-router';
import { type AddressDecision, addressMove, addressMemory, stayAt, urlOfStep } from '../core/shared.ts';
import type { Flow, FlowData } from '../core/index.ts';
import { readTaskId, type TaskLocation } from '../persist/index.ts';
import { FlowOutlet, FlowProgress, FlowView, type StepViews, useTask, type WayflowConfig } from '../react/index.ts';

const ORIGIN = 'http://wayflow.invalid';

/** Props of `FlowRoutes`; `F` (the flow) keys `views` by its step ids and types the data. */
export interface FlowRoutesProps<F extends Flow = Flow> {
  flow: F;
  views?: StepViews<F>;
  /** The search parameter holding the task id (default `_id`). */
  param?: string;
  data?: FlowData<F>;
  completed?: ReactNode;
  aborted?: ReactNode;
  /** Replaces the default progress + outlet layout (rendered inside the task). */
  children?: ReactNode;
  options?: WayflowConfig;
}

/**
 * Mounts a flow at a splat route (`/checkout/*`): each step gets its own path
 * (`/checkout/pay/new/card?_id=…`), the browser's back and forward buttons move
 * through the visited steps, a deep link to a step the task has not reached
 * redirects to the step it is at, and a link without an id starts a new task.
 * @example
 * <Route path="/checkout/*" element={<FlowRoutes flow={checkout} views={views} />} />
 */
export function FlowRoutes<F extends Flow>({ flow, views, param = '_id', data, completed, aborted, children, options }: FlowRoutesProps<F>) {
  const location = useLocation();
  const navigate = useNavigate();
  const href = `${location.pathname}${location.search}${location.hash}`;
  const id = addressedId(location.search, param);
  const shown = useRef(href);
  shown.current = href;
  // Addresses the task's opening wrote (start, fork, start over) that the router has not rendered yet:
  // reads see the latest at once, and until they render an address without them is not taken for a new link.
  const written = useRef<string[]>([]);
  // The task id the mounted view is about; an address naming another one opens that task afresh.
  const ours = useRef(id);
  const [generation, setGeneration] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the address changes
  useEffect(() => {
    const mine = written.current.indexOf(href);
    if (mine >= 0) written.current.splice(0, mine + 1);
    else if (!written.current.length && id !== ours.current) {
      ours.current = id;
      setGeneration((g) => g + 1);
    }
  }, [location.key]);
  const routerLocation = useMemo<TaskLocation>(
    () => ({
      read: () => new URL(written.current.at(-1) ?? shown.current, ORIGIN).href,
      replace: (next) => {
        const url = new URL(next);
        const to = `${url.pathname}${url.search}${url.hash}`;
        written.current.push(to);
        ours.current = addressedId(url.search, param);
        navigate(to, { replace: true });
      },
    }),
    [navigate, param],
  );
  return (
    <FlowView key={generation} flow={flow} data={data} options={{ ...options, param, location: routerLocation }}>
      <RouterSync param={param} />
      {children ?? (
        <>
          <FlowProgress />
          <FlowOutlet<F> views={views} completed={completed} aborted={aborted} />
        </>
      )}
    </FlowView>
  );
}

/** Where the flow is mounted and how to build a link to one of its steps, keeping the task id and other search parameters. */
function useFlowPaths(param: string) {
  const { task } = useTask();
  const location = useLocation();
  const splat = useParams()['*'] ?? '';
  const base = location.pathname.slice(0, location.pathname.length - splat.length).replace(/\/$/, '');
  const here = splat ? `/${splat.replace(/\/$/, '')}` : '';
  const href = (stepUrl: string) => {
    const search = new URLSearchParams(location.search);
    search.set(param, task.id);
    return `${base}${stepUrl}?${search}`;
  };
  return { here, href };
}

/** The task id the address names: `readTaskId`'s, with a malformed one told apart from none (`undefined`: the view shows the problem). */
function addressedId(search: string, param: string): string | null | undefined {
  try {
    return readTaskId(`${ORIGIN}/${search}`, param);
  } catch {
    return undefined;
  }
}

/** Keeps the address in line with the task: runs what core's `addressMove` decides whenever the step or the address changes. */
function RouterSync({ param }: { param: string }) {
  const shown = useTask();
  const { task, step, status } = shown;
  const navigate = useNavigate();
  const { here, href } = useFlowPaths(param);
  const location = useLocation();
  const popped = useNavigationType() === 'POP';
  const addressed = addressedId(location.search, param);
  const memory = useRef(addressMemory(step?.id ?? null));
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the task's step or the address changes
  useEffect(() => {
    const view = { ...shown, flow: task.flow, addressed: addressed === task.id, here, key: location.key, popped };
    const run = ([move, next]: AddressDecision) => {
      memory.current = next;
      // A page is its own navigate options (`replace`).
      if (move.type === 'show') for (const page of move.pages) navigate(href(page.url), page);
      else if (move.type === 'leave') navigate(-1);
      else if (move.type === 'goto') task.goTo(move.step).catch(() => run(stayAt(memory.current, location.key, task.state.step?.url ?? '')));
    };
    run(addressMove(memory.current, view));
  }, [step?.id, step?.visit, here, status, addressed, location.key]);
  return null;
}

/**
 * A link to a step of the current flow that keeps the task id (and the other search parameters).
 * Following it goes back or forward to that step when it was visited; otherwise the task stays where it is.
 * @example
 * <FlowLink step="identify">Change account</FlowLink>
 */
export function FlowLink({ step, param = '_id', ...rest }: { step: string; param?: string } & Omit<LinkProps, 'to'>) {
  const { task } = useTask();
  const { href } = useFlowPaths(param);
  const url = urlOfStep(task.flow, step);
  if (url === undefined) throw new Error(`wayflow: <FlowLink step="${step}">: flow "${task.flow.id}" has no step "${step}".`);
  return <Link to={href(url)} {...rest} />;
}
