import { afterAll, describe, expect, it } from 'vitest';
import { docExamples, exampleRunner, itRunsEachBlock } from '../helpers/doc-examples.ts';

const { markdown, blocks } = await docExamples('docs/server.md');
const examples = await exampleRunner('server-docs');
afterAll(() => examples.close());

describe('docs/server.md', () => {
  it('has examples, and no placeholder left for the benchmark figures', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    expect(markdown).not.toMatch(/BENCHMARK_FIGURES/);
  });

  itRunsEachBlock(blocks, examples);
});
