import { afterAll, describe, expect, it } from 'vitest';
import { docExamples, exampleRunner, itRunsEachBlock } from '../../helpers/doc-examples.ts';

const { blocks } = await docExamples('docs/sync-server.md');
const examples = await exampleRunner('sync-server-docs');
afterAll(() => examples.close());

describe('docs/sync-server.md', () => {
  it('has the module example and the runnable round trip', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
  });

  itRunsEachBlock(blocks, examples);
});
