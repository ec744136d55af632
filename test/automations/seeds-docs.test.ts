import { afterAll, describe, expect, it } from 'vitest';
import { docExamples, exampleRunner, itRunsEachBlock } from '../helpers/doc-examples.ts';

// The two seed-parity docs: each ```ts block runs alone and logs what it says.
for (const doc of ['docs/seeds-automations.md', 'docs/seeds-ws.md']) {
  const { markdown, blocks } = await docExamples(doc);
  const examples = await exampleRunner(doc.replace(/\W/g, '-'));
  afterAll(() => examples.close());

  describe(doc, () => {
    it('has an example and a table of the seed features with where each lives', () => {
      expect(blocks.length).toBeGreaterThanOrEqual(1);
      expect(markdown).toMatch(/\| --- \| --- \| --- \|/);
    });

    itRunsEachBlock(blocks, examples);
  });
}
