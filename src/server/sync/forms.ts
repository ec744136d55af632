import { type Actor, type AutomationDefinition, formPermissionProblem } from '../../automations/index.ts';

/**
 * The form nodes `actor` may process, as (automation, node) pairs: those whose User, Group
 * and Permissions the actor satisfies (every form node for a superuser). Assignments live in
 * the definitions, so this is computed here and the database is asked only for these nodes;
 * a caller who may process no form costs no query.
 */
export function formNodesFor(definitions: Iterable<AutomationDefinition>, actor: Actor): { automation: string; node: string }[] {
  const pairs: { automation: string; node: string }[] = [];
  for (const definition of definitions) {
    for (const [node, spec] of Object.entries(definition.nodes)) {
      if (spec.kind === 'form' && formPermissionProblem(spec.assignment, actor) === null) pairs.push({ automation: definition.name, node });
    }
  }
  return pairs;
}
