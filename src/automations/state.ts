import type { AutomationData, FormAssignment } from './nodes/nodes.ts';

/** A split a path belongs to: the split's task id and how many paths it started. */
export interface Fork {
  split: number;
  count: number;
}

/**
 * Where one parallel path stands. `active`: will be processed (maybe after waiting);
 * `form`: waits for a form submission; `joined`: waits at a Join for its sibling paths;
 * `subprocess`: (django-ws) waits for the sub-process its task started to end;
 * `error`: stopped by an error without OnError (or a removed node).
 */
export type PathStatus = 'active' | 'form' | 'joined' | 'subprocess' | 'error';

/** One path of execution (one program counter) of an instance. */
export interface PathState {
  id: string;
  /** The node the path is at (the history row's status). */
  node: string;
  /** The open history row for this visit of the node. */
  taskId: number;
  /** When the path entered the node (SkipAfter and AfterWaitingFor count from here). */
  enteredAt: number;
  /** Durable timer: the node is not processed before this time (null: no wait). */
  waitUntil: number | null;
  status: PathStatus;
  /** The splits this path descends from, innermost last. */
  forks: Fork[];
  /** The error that stopped the path, when `status` is `error`. */
  error?: string;
  /** When the path arrived at its Join (`joined`): the time its "Open Join" history row closed. */
  joinedAt?: number;
  /** django-ws workflows: the id of the sub-process this path's task started (status `subprocess`). */
  subprocess?: string;
  /** django-ws workflows: the path's end task failed, which failed the process (the reference's FAILED process state). */
  failedEnd?: boolean;
  /** django-ws workflows: the node whose transition activated this path (null for a start node). */
  from?: string | null;
  /** django-ws workflows: activations in a row without human input that led to this path (the loop guard). */
  hops?: number;
}

/** Everything the pure engine needs to know about one automation instance. */
export interface InstanceState {
  id: string;
  automation: string;
  /** A random key for addressing the instance from a URL (`?key=…`). */
  key: string;
  data: AutomationData;
  paths: PathState[];
  finished: boolean;
  createdAt: number;
  finishedAt: number | null;
  /** The id the next history row gets. */
  nextTaskId: number;
  /** The number the next path id gets. */
  nextPathId: number;
  /** First-execution time of each Repeat node, the anchor its schedule counts from. */
  repeatAnchors: Record<string, number>;
  /** A sub-process's parent task (django-ws `Process.parent`): told by a `subprocess_ended` message when this instance ends. */
  parent?: { instanceId: string; taskId: number };
}

/** One history row ("task"): a visit of a node by an instance. */
export interface HistoryRow {
  instanceId: string;
  taskId: number;
  /** The path that made the visit. */
  path: string;
  /** The node name. */
  status: string;
  created: number;
  /** Null while the task is open. */
  finished: number | null;
  /** `OK`, `skipped`, an error text, or null while open. */
  message: string | null;
  /** The JSON result (Execute's return value, a form's input, `{ error }` on failure). */
  result: unknown;
  /** The user who submitted a form task. */
  completedBy?: string;
}

/** A change to the history that a step makes: open a row, or close an open one. */
export type HistoryChange =
  | { type: 'open'; row: HistoryRow }
  | { type: 'close'; instanceId: string; taskId: number; finished: number; message: string; result: unknown; completedBy?: string };

/** Who a message is delivered to. */
export type MessageAddress = { instanceId: string } | { automation: string };

/** Side effects a step asks for; the runner performs them after (or in) the step's transaction. */
export type AutomationEffect =
  | {
      type: 'send-message';
      from: { instanceId: string; node: string; taskId: number };
      to: MessageAddress;
      message: string;
      token?: string;
      payload: AutomationData;
    }
  | { type: 'form-opened'; instanceId: string; taskId: number; node: string; assignment: FormAssignment }
  | { type: 'finished'; instanceId: string }
  /** Start an instance of `automation` with `data` in the step's transaction, as a sub-process of task `parent.taskId` (django-ws). */
  | { type: 'start-instance'; id: string; automation: string; data: AutomationData; parent: { instanceId: string; taskId: number } }
  /**
   * A SendMessage node with the `{ browser: true }` target ran: nothing is queued in the
   * outbox; the node's history row (task `taskId`) holds `{ browser: { message, payload } }`.
   */
  | { type: 'browser-message'; instanceId: string; taskId: number; message: string; payload: AutomationData };

/** The result of a pure engine function: the next state and what to record and do. */
export interface StepResult {
  state: InstanceState;
  history: HistoryChange[];
  effects: AutomationEffect[];
  /** Whether anything changed; false means the instance is blocked (waiting) at `now`. */
  changed: boolean;
}
