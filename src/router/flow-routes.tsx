import { type ReactNode, useEffect, useMemo, useRef, useState } from 'react';
import { Link, type LinkProps, useLocation, useNavigate, useNavigationType, useParams } from 'react-router';
import { compile } from '../core/compile.ts';
import type { Flow, FlowData } from '../core/index.ts';
import type { TaskLocation } from '../persist/index.ts';
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
  const id = new URLSearchParams(location.search).get(param);
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
        ours.current = url.searchParams.get(param);
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

function RouterSync({ param }: { param: string }) {
  const { task, step, status, visited, ahead } = useTask();
  const navigate = useNavigate();
  const { here, href } = useFlowPaths(param);
  const location = useLocation();
  const popped = useNavigationType() === 'POP';
  const addressed = new URLSearchParams(location.search).get(param);
  const nodes = compile(task.flow).model.nodes;
  const byUrl = useMemo(() => new Map([...nodes.values()].map((n) => [n.url, n.id])), [nodes]);
  const synced = useRef(step?.id ?? null);
  // Router updates render in a transition, so the location shown can lag behind a navigation made here:
  // `left` is the key of the entry navigated away from, `entry` the step path the history is really at.
  const left = useRef<string | null>(null);
  const entry = useRef('');
  // The end page of a finished task was shown: the browser's Back from there leaves the flow, skipping its step pages.
  const ended = useRef(false);
  const taskUrl = step?.url ?? '';
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the task's step or the address changes
  useEffect(() => {
    const taskStep = step?.id ?? null;
    if (addressed !== task.id) return;
    const lagging = left.current === location.key;
    if (!lagging) left.current = null;
    const at = lagging ? entry.current : here;
    const show = (url: string, replace: boolean) => {
      left.current = location.key;
      entry.current = url;
      navigate(href(url), { replace });
    };
    if (at === taskUrl) {
      synced.current = taskStep;
      ended.current = !step;
      return;
    }
    if (taskStep !== synced.current) {
      const shown = synced.current === null ? undefined : nodes.get(synced.current)?.url;
      synced.current = taskStep;
      // The flow's own path is never a step page: it becomes the page of the step shown there, so Back returns to it.
      if (at === '' && shown !== undefined) show(shown, true);
      show(taskUrl, at === '' && shown === undefined);
      return;
    }
    if (lagging) return;
    if (ended.current && popped) {
      navigate(-1);
      return;
    }
    const target = byUrl.get(here);
    const reachable = target !== undefined && status === 'active' && (visited.includes(target) || ahead.includes(target));
    const stay = () => show(task.state.step?.url ?? '', true);
    if (reachable) task.goTo(target).catch(stay);
    else stay();
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
  const url = compile(task.flow).model.nodes.get(step)?.url;
  if (url === undefined) throw new Error(`wayflow: <FlowLink step="${step}">: flow "${task.flow.id}" has no step "${step}".`);
  return <Link to={href(url)} {...rest} />;
}
