import { afterAll, describe, expect, it } from 'vitest';
import { docExamples, exampleRunner, itRunsEachBlock } from '../helpers/doc-examples.ts';

const { markdown, blocks } = await docExamples('docs/seeds-flowcontrol.md');
const examples = await exampleRunner('seeds-flowcontrol-docs');
afterAll(() => examples.close());

describe('docs/seeds-flowcontrol.md', () => {
  it('has its example', () => {
    expect(blocks).toHaveLength(1);
  });

  it('names only functions and FlowControl methods that exist (`name(` in its tables)', async () => {
    const automations = await import('../../src/automations/index.ts');
    const named = new Set([...markdown.matchAll(/`(?:control\.)?([a-zA-Z]+)\(/g)].map((m) => m[1] as string));
    const known = new Set([...Object.keys(automations), ...Object.getOwnPropertyNames(automations.FlowControl.prototype)]);
    expect(named.size).toBeGreaterThan(20);
    expect([...named].filter((name) => !known.has(name))).toEqual([]);
  });

  itRunsEachBlock(blocks, examples);
});
