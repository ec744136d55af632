import type { AnyAction } from './definition.ts';
import type { DefinitionProblem } from './errors.ts';
import {
  actionEdges,
  entryChain,
  type FlowModel,
  fallbackEdges,
  finishDestination,
  type NodeInfo,
} from './model.ts';

/**
 * Checks a flow model for every definition error at once: unknown targets and
 * fallbacks, auto actions with a schema, unreachable actions and fallback cycles.
 */
export function findProblems(model: FlowModel): DefinitionProblem[] {
  const { flow, nodes } = model;
  const problems = [...model.problems];
  if (!Number.isInteger(flow.version) || flow.version < 1) {
    problems.push({ path: flow.id, message: `version must be a positive integer, got ${flow.version}` });
  }
  if (flow.maxHotLoop !== undefined && !(flow.maxHotLoop >= 1)) {
    problems.push({ path: flow.id, message: `maxHotLoop must be at least 1, got ${flow.maxHotLoop}` });
  }
  for (const info of nodes.values()) {
    for (const { to } of fallbackEdges(info)) {
      if (!nodes.has(to)) problems.push({ path: info.where, message: `precondition fallback "${to}" is not an action or scaffold of this flow` });
    }
    if (info.node.kind !== 'action') continue;
    const node = info.node as AnyAction;
    for (const target of node.targets ?? []) {
      if (!nodes.has(target)) problems.push({ path: info.where, message: `target "${target}" is not an action or scaffold of this flow` });
    }
    if (node.onError !== undefined && !nodes.has(node.onError)) {
      problems.push({ path: info.where, message: `onError target "${node.onError}" is not an action or scaffold of this flow` });
    }
    if (node.auto && node.schema) problems.push({ path: info.where, message: 'an auto action runs without input, so it cannot have a schema' });
    if (node.returnFromChildren && !node.children?.length) {
      problems.push({ path: info.where, message: 'returnFromChildren is declared but the action has no children' });
    }
  }
  if (problems.length > 0) return problems;
  return [...problems, ...unreachable(model), ...fallbackCycles(model)];
}

function unreachable(model: FlowModel): DefinitionProblem[] {
  const { nodes } = model;
  const reached = new Set<string>();
  const queue: NodeInfo[] = [model.root];
  const enter = (id: string) => {
    const info = nodes.get(id.replace('.$returned', ''));
    if (!info) return;
    if (id.endsWith('.$returned')) {
      queue.push({ ...info, id: `${info.id}.$returned` });
    } else if (!reached.has(id)) {
      reached.add(id);
      queue.push(info);
    }
  };
  const returned = new Set<string>();
  while (queue.length > 0) {
    const info = queue.pop()!;
    for (const edge of fallbackEdges(info)) enter(edge.to);
    if (info.id.endsWith('.$returned')) {
      if (returned.has(info.id)) continue;
      returned.add(info.id);
      for (const edge of actionEdges(info)) if (edge.label !== 'enter') enter(edge.to);
      continue;
    }
    const node = info.node;
    if (node.kind === 'scaffold') {
      const entered = node.transitions === 'choice' ? node.children : node.children.slice(0, 1);
      for (const child of entered) enter(child.id);
      if (node.transitions === 'linear' && node.children.length === 0) enter(finishDestination(info));
    } else {
      for (const edge of actionEdges(info)) enter(edge.to);
    }
  }
  return [...nodes.values()]
    .filter((info) => info.node.kind === 'action' && !reached.has(info.id))
    .map((info) => ({
      path: info.where,
      message: `action "${info.id}" is unreachable: no sibling completes into it and no action names it as a target or fallback`,
    }));
}

function fallbackCycles(model: FlowModel): DefinitionProblem[] {
  const { nodes } = model;
  const jumps = (id: string): string[] => {
    const info = nodes.get(id);
    if (!info) return [];
    return entryChain(info, nodes).flatMap((n) => fallbackEdges(n).map((e) => e.to));
  };
  const problems: DefinitionProblem[] = [];
  const done = new Set<string>();
  const walk = (id: string, stack: string[]) => {
    if (stack.includes(id)) {
      const cycle = [...stack.slice(stack.indexOf(id)), id];
      problems.push({ path: nodes.get(id)!.where, message: `precondition fallbacks form a cycle: ${cycle.join(' -> ')}` });
      return;
    }
    if (done.has(id)) return;
    for (const next of jumps(id)) walk(next, [...stack, id]);
    done.add(id);
  };
  for (const id of nodes.keys()) walk(id, []);
  return problems;
}
