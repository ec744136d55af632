import type { AutomationDefinition, ParamType } from '../definition.ts';
import { type AutomationProblem, describeValue } from '../errors.ts';
import { timeOf } from '../time.ts';
import { type AnyNode, AutomationNode } from './nodes.ts';

/** Node names that would shadow the automation API (django-automations' list) and so may not name a node. */
export const RESERVED_NODE_NAMES: ReadonlySet<string> = new Set([
  'broadcast_message',
  'create_on_message',
  'data',
  'dispatch_message',
  'finished',
  'get_automation_class_name',
  'get_key',
  'get_model_instance',
  'get_verbose_name',
  'get_verbose_name_plural',
  'id',
  'kill',
  'model_class',
  'nice',
  'on',
  'on_signal',
  'run',
  'satisfies_data_requirements',
  'save',
  'send_message',
  'unique',
]);

/** Parameters the reference's automation takes besides its data, so they can never be unique data keys. */
export const RESERVED_UNIQUE_KEYS: ReadonlySet<string> = new Set(['automation', 'automation_id', 'autorun']);

const PARAM_TYPES: ReadonlySet<ParamType> = new Set(['string', 'number', 'boolean', 'object', 'array']);
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * Every problem of an automation definition, each with its path (`nodes.<name>.<modifier>`).
 * An empty list means the definition can run.
 */
export function validateAutomation(definition: Omit<AutomationDefinition, 'engine'>): AutomationProblem[] {
  const problems: AutomationProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const names = new Set<string>(definition.order);
  const nodes = definition.nodes as Record<string, unknown>;

  if (!definition.name) add('name', 'the automation needs a non-empty name');
  if (definition.order.length === 0) add('nodes', 'an automation needs at least one node');

  definition.order.forEach((name, index) => {
    const path = `nodes.${name}`;
    if (RESERVED_NODE_NAMES.has(name)) add(path, `"${name}" is reserved by the automation API; rename the node`);
    if (name.startsWith('_')) add(path, 'names beginning with "_" are reserved; rename the node');
    if (/^\d+$/.test(name)) add(path, 'integer-like names change the declaration order of nodes; rename the node');
    const value = nodes[name];
    if (!(value instanceof AutomationNode)) {
      add(path, 'is not a node; build it with flow.execute(), flow.end(), … or a node class');
      return;
    }
    const node = value as AnyNode;
    for (const { modifier, first, what } of node.repeatedModifiers) {
      const given = first === modifier ? `.${modifier}() is given twice` : `.${modifier}() is given after .${first}()`;
      add(`${path}.${modifier}`, `${given}${what ? `; ${what}` : ''}; keep one`);
    }
    const ref = (where: string, target: string | undefined) => {
      if (target !== undefined && !names.has(target)) add(`${path}.${where}`, `refers to undeclared node "${target}"`);
    };
    if (node.kind === 'split') {
      if (node.nextTargets.length < 2) add(`${path}.next`, 'a split needs at least two paths: call .next(node) once per path');
      node.nextTargets.forEach((t, i) => {
        ref(`next[${i}]`, t);
      });
    } else {
      if (node.nextTargets.length > 1) add(`${path}.next`, 'only a split may have several next nodes');
      ref('next', node.nextTargets[0]);
    }
    const isLast = index === definition.order.length - 1;
    const continues = node.nextTargets.length > 0;
    const fallsOff = (why: string) => add(path, `${why} but is the last node; add .next(node) or end the automation with flow.end()`);
    switch (node.kind) {
      case 'execute':
        ref('onError', node.onErrorTarget);
        if (isLast && !continues) fallsOff('continues with the next node');
        break;
      case 'if': {
        if (!node.thenBranch) add(`${path}.thenDo`, 'an if node needs .thenDo(node or function)');
        const thenNode = node.thenBranch && 'node' in node.thenBranch ? node.thenBranch.node : undefined;
        const elseNode = node.elseBranch && 'node' in node.elseBranch ? node.elseBranch.node : undefined;
        ref('thenDo', thenNode);
        ref('elseDo', elseNode);
        if (isLast && !continues && (thenNode === undefined || elseNode === undefined)) fallsOff('may continue with the next node');
        break;
      }
      case 'repeat': {
        ref('start', node.start);
        const schedule = node.schedule;
        if (!schedule) add(`${path}.schedule`, 'a repeat node needs a schedule: .at(), .everyHour(), .everyNMinutes(), .everyNDays() or .everyDay()');
        else if (schedule.type === 'at') {
          const { hour, minute } = schedule;
          if (!Number.isInteger(hour) || hour < 0 || hour > 23 || !Number.isInteger(minute) || minute < 0 || minute > 59)
            add(`${path}.at`, `${hour}:${minute} is not a time of day; use hour 0–23 and minute 0–59`);
        } else if (!(schedule.ms > 0)) add(`${path}.schedule`, 'the repeat interval must be positive');
        break;
      }
      case 'split':
      case 'join':
        if (node.skipIfCondition !== undefined || node.skipAfterMs !== undefined)
          add(path, `a ${node.kind} cannot be skipped, since its paths must stay accounted for; move .skipIf/.skipAfter to a neighbouring node`);
        if (node.kind === 'join' && isLast && !continues) fallsOff('continues after all paths arrive');
        break;
      case 'end':
        break;
      default:
        if (isLast && !continues) fallsOff('continues with the next node');
    }
    if (node.skipAfterMs !== undefined && !(node.skipAfterMs >= 0)) add(`${path}.skipAfter`, 'the duration must be zero or positive');
    if (typeof node.waitFor === 'number' && !(node.waitFor >= 0 && node.waitFor < Infinity)) add(`${path}.afterWaitingFor`, 'the duration must be zero or positive');
    if (node.waitUntil !== undefined && typeof node.waitUntil !== 'function' && timeOf(node.waitUntil) === null) {
      add(`${path}.afterWaitingUntil`, `the time must be epoch milliseconds or a valid Date, got ${describeValue(node.waitUntil)}`);
    }
  });

  const kinds = definition.order.map((n) => (nodes[n] instanceof AutomationNode ? (nodes[n] as AnyNode).kind : undefined));
  if (kinds.includes('split') && !kinds.includes('join')) add('nodes', 'a split needs a join where its paths meet; add flow.join()');
  if (!kinds.includes('split')) {
    definition.order.forEach((name, i) => {
      if (kinds[i] === 'join') add(`nodes.${name}`, 'a join without a split: it would wait for paths no split starts; add flow.split() before it or remove the join');
    });
  }

  const uniqueKeys = definition.unique;
  if (Array.isArray(uniqueKeys)) {
    if (uniqueKeys.length === 0) add('unique', 'list at least one data key, or use unique: true for a singleton');
    uniqueKeys.forEach((key: string, i: number) => {
      if (typeof key !== 'string' || key === '') add(`unique[${i}]`, 'must be a non-empty data key');
      else if (RESERVED_UNIQUE_KEYS.has(key)) add(`unique[${i}]`, `"${key}" is reserved (the reference passes it to the automation, not into its data); use another data key`);
      else if (key.startsWith('_')) add(`unique[${i}]`, 'data keys beginning with "_" are reserved; use another data key');
      else if (uniqueKeys.indexOf(key) < i) add(`unique[${i}]`, `"${key}" is listed twice; list each data key once`);
    });
  }
  for (const [message, receiver] of Object.entries(definition.receivers)) {
    const path = `receivers.${message}`;
    if (!IDENTIFIER.test(message)) add(path, 'message names must be identifiers (letters, digits, "_")');
    if (typeof receiver.handler !== 'function') add(path, 'the receiver must be a function');
    for (const [param, type] of Object.entries(receiver.requires)) {
      if (!PARAM_TYPES.has(type)) add(`${path}.requires.${param}`, `unknown type "${type}"; use string, number, boolean, object or array`);
    }
  }
  return problems;
}
