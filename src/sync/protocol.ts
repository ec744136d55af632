/**
 * The wire format of the automations sync API (`/automations/*` on `wayflow serve --automations`):
 * what the server sends and the browser client reads. Types only; the server validates
 * request bodies with zod, the client trusts its own server.
 *
 * Routes (all JSON; errors are `{ error: { code, message, fields? } }`):
 * - `GET  /automations/forms` → `{ forms: OpenFormSummary[] }`: open forms the caller may process.
 * - `GET  /automations/forms/:instanceId/:taskId` → `{ form: OpenFormDetail }`; 404 no such open form, 403 not the caller's to process.
 * - `POST /automations/forms/:instanceId/:taskId` `{ input }` → `{ instance: InstanceStatus }`;
 *   403 (`form-forbidden`), 404, 409 (`form-closed`: processed meanwhile), 422 (`invalid-input` with `fields`): nothing changed.
 * - `POST /automations/start/:automation` `{ input }` + `Idempotency-Key` header → `{ instance: InstanceStatus }` (201, or 200 when the key was seen);
 *   404 when the automation is not startable from browsers, 422 when the input fails its schema, 400 `invalid-idempotency-key`,
 *   409 `idempotency-key-reused` (the key started another automation).
 * - `GET  /automations/instances/:id` → `{ instance: InstanceStatus }`; 404 for an instance the caller may not see.
 * - `GET  /automations/instances/:id/events` → `text/event-stream`: `status` events (data: InstanceStatus, id: its `version`; the first
 *   at once, skipped when `Last-Event-ID` is that version), then `end` (data `{ id, status: 'finished' | 'gone' }`) or `idle`
 *   (data `{ idleMs }`: no change for the stream idle time), after which the server closes the stream; comment heartbeats between.
 *   429 `too-many-streams` past the per-session bound (an EventSource cannot read it: it sees an error and the client polls).
 * - `POST /automations/instances/:id/messages/:message` `{ payload? }`, optional `Idempotency-Key` header → `{ result, instance: InstanceStatus }`
 *   (with a key seen before: the first delivery's result, nothing delivered again); 404 unknown receiver or foreign instance,
 *   409 `instance-finished` or `idempotency-key-reused`, 422 `invalid-input` with `fields` named `payload.<name>`.
 * - `GET  /automations/dashboard` → `{ dashboard: DashboardView }`; 403 without the `automations.view` permission.
 * - `GET  /automations/dashboard/instances/:id` → `InstanceInspection` (`{ instance, history, graph, counts }`); 403 / 404.
 * - `GET  /automations/map/:automation` → `{ map: ProcessMapView }` (an automation's, or a flowcontrol flow's by its name); 403 without `automations.view`, 404 `automation-not-found`.
 * - `GET  /automations/map/:automation/nodes/:node` → `{ instances: NodeInstanceView[] }` (the longest waiting first, at most 100); 403 / 404 (`node-not-found`).
 * - `GET  /automations/map/:automation/events` → `text/event-stream`: `status` events (data: ProcessMapView, id: its `version`) when a
 *   count changes, then `idle` as for an instance's stream; 403 / 404 / 429 as above.
 * Every POST also answers 415 (not JSON), 400 `malformed-json` or `invalid-body`, and the origin check and write rate of `/tasks`;
 * every route 503 `database-unavailable` with `Retry-After` while the database is unavailable (send the same request again).
 */

/** The data of the `end` event of an instance's event stream (`gone`: the instance was deleted). */
export interface StreamEnd {
  id: string;
  status: 'finished' | 'gone';
}

/** The data of the `idle` event: the stream saw no change for `idleMs` and closes; the client polls or reopens it. */
export interface StreamIdle {
  idleMs: number;
}

/** A message an automation sent to the browser flows watching it (a SendMessage node with the `{ browser: true }` target). */
export interface BrowserMessage {
  /** The history row id of the SendMessage visit: increasing per instance, so a client knows which ones it handled. */
  seq: number;
  message: string;
  payload: Record<string, unknown>;
  at: number;
}

/** An open Form node of an instance, as status and task lists show it. */
export interface OpenFormRef {
  instanceId: string;
  taskId: number;
  node: string;
  description: string;
  since: number;
}

/** What a browser may know of one automation instance. */
export interface InstanceStatus {
  id: string;
  automation: string;
  verboseName: string;
  status: 'running' | 'finished' | 'error';
  /** The nodes its paths are at (empty when finished). */
  nodes: string[];
  /** Open forms (whoever may process them). */
  forms: OpenFormRef[];
  /** The instance data the automation exposes to browsers (`expose`; empty by default). */
  data: Record<string, unknown>;
  /** Every browser message so far, oldest first. */
  messages: BrowserMessage[];
  createdAt: number;
  finishedAt: number | null;
  /** Changes whenever anything above changes (the SSE event id). */
  version: string;
}

/** A row of a task list: a form the caller may process, with how long it has waited (django's hours_since_created). */
export interface OpenFormSummary extends OpenFormRef {
  automation: string;
  verboseName: string;
  /** Hours since the form opened, one decimal. */
  hoursWaiting: number;
}

/** One open form with what its view needs. */
export interface OpenFormDetail extends OpenFormSummary {
  /** The instance data the automation exposes (e.g. the order to approve). */
  data: Record<string, unknown>;
  /** The fields the task still needs (a django-ws task's missing parameters); the server always sends it, empty when the form does not say. */
  missing?: string[];
}

/** The dashboard: automations by kind with how many instances wait at each node (django-automations' DashboardView). */
export interface DashboardView {
  automations: {
    name: string;
    verboseName: string;
    running: number;
    finished: number;
    /** Every node in declaration order, with how many running instances have a path there. */
    nodes: { node: string; count: number }[];
    /** The automation's definition as a graph (nodes and edges), for drawing with the counts. */
    graph: ProcessGraphView;
    /** The most recent instances, newest first. */
    recent: InstanceStatus[];
  }[];
}

/** One history row as the dashboard shows it. */
export interface HistoryEntryView {
  taskId: number;
  node: string;
  created: number;
  finished: number | null;
  message: string | null;
  completedBy: string | null;
}

/** An automation's definition as a graph (the server's `automationGraph`; `ProcessMap` of `wayflow/react/map` draws it). */
export interface ProcessGraphView {
  nodes: { id: string; label: string; kind: string }[];
  edges: { from: string; to: string; label?: string }[];
}

/**
 * What happened at one node: for one instance (`InstanceInspection`) paths waiting there now, visits finished there, paths an
 * error stopped there; for a process map (`ProcessMapView`) running instances waiting there, visits that finished `OK`, errors there.
 */
export interface NodeCountsView {
  waiting: number;
  passed: number;
  errors: number;
}

/** One instance for the dashboard: its status, its history, its automation's graph and its counts per node (nodes without any are left out). */
export interface InstanceInspection {
  instance: InstanceStatus;
  history: HistoryEntryView[];
  graph: ProcessGraphView;
  counts: Record<string, NodeCountsView>;
}

/**
 * One automation drawn as a graph (`automationGraph`; `ProcessMap` of `wayflow/react/map` draws it)
 * with the counts of each node, the live process map.
 */
export interface ProcessMapView {
  name: string;
  verboseName: string;
  graph: ProcessGraphView;
  /** Per node id; nodes with nothing to count are absent. */
  counts: Record<string, NodeCountsView>;
  /** Changes when a count changes (the id of the map's `status` events). */
  version: string;
}

/** A running instance with a path at a node of a process map. */
export interface NodeInstanceView {
  id: string;
  createdAt: number;
  /** When its path entered the node. */
  since: number;
  /** `form`: waits for a person; `error`: stopped by an error (see `error`); `joined`: waits for its sibling paths; `subprocess`: waits for a subprocess. */
  status: 'active' | 'form' | 'joined' | 'subprocess' | 'error';
  error: string | null;
}

/** The error body of every failed sync request. */
export interface SyncErrorBody {
  error: { code: string; message: string; fields?: Record<string, string[]> };
}

/** The body of each successful sync answer, by the `AutomationClient` method that reads it. */
export interface SyncResponses {
  forms: { forms: OpenFormSummary[] };
  form: { form: OpenFormDetail };
  submitForm: { instance: InstanceStatus };
  start: { instance: InstanceStatus };
  status: { instance: InstanceStatus };
  send: { result: unknown; instance: InstanceStatus };
  dashboard: { dashboard: DashboardView };
  inspect: InstanceInspection;
  map: { map: ProcessMapView };
  mapInstances: { instances: NodeInstanceView[] };
}

/**
 * The funnel of a browser flow (`GET /funnels/:flow`, `wayflow funnel <flow>`; `Funnel` of `wayflow/react/map` draws it):
 * for one flow version, the tasks started in a window and where they went. Counted from the task records of the remote
 * store and the outcomes the sweeper keeps of the tasks it deletes.
 */
export interface FunnelView {
  flowId: string;
  flowVersion: number;
  /** The window, epoch ms: tasks created at or after `since` and before `until`. */
  since: number;
  until: number;
  /** Tasks created in the window. */
  started: number;
  completed: number;
  aborted: number;
  /** Unfinished tasks that expired (idle past their timeout) or were deleted. */
  abandoned: number;
  /** Unfinished tasks still live. */
  inProgress: number;
  /** Every step reached, in flow order (the order tasks moved forward in; the branches of a choice follow it). */
  steps: FunnelStepView[];
  /** Moves by `back()` and `goTo()` (back to a visited step, or forward again to one gone back from), from which step to which, most frequent first. */
  backMoves: FunnelMoveView[];
}

/** The body of `GET /funnels/:flow?since&until`: a funnel per flow version with tasks in the window, newest version first. */
export interface FunnelsResponse {
  funnels: FunnelView[];
}

/** One step of a funnel. */
export interface FunnelStepView {
  step: string;
  /** Tasks that entered the step at least once. */
  reached: number;
  /** Unfinished tasks that expired or were deleted while there. */
  abandoned: number;
  /** Live tasks there now. */
  inProgress: number;
  /** Time spent on one visit of the step (entered to left), ms; null when no visit has ended. */
  medianMs: number | null;
  p90Ms: number | null;
  /** Submissions of the step refused (invalid input, a failed outcome, a throwing action), and how often each field was named. */
  refused: number;
  refusedFields: Record<string, number>;
  /** Where tasks moved on to (forward moves; `$completed` when they finished), most frequent first: two or more are branches. */
  next: FunnelMoveView[];
  /** The step this one is a branch of (the only step moving forward to it, which also moves forward to other steps), or null. */
  branchOf: string | null;
  /** How deep the step is drawn indented: one level more in each branch of a choice, one less where branches meet again. */
  depth: number;
}

/** How many moves went from one step to another. */
export interface FunnelMoveView {
  from: string;
  to: string;
  count: number;
}
