import { afterAll, describe, expect, it } from 'vitest';
import { docExamples, exampleRunner, itRunsEachBlock } from '../helpers/doc-examples.ts';

const { blocks } = await docExamples('docs/persistence.md');
const examples = await exampleRunner('persist-docs');
afterAll(() => examples.close());

describe('docs/persistence.md', () => {
  it('has examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(7);
  });

  itRunsEachBlock(blocks, examples);
});
