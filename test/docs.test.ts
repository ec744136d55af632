import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';

const files = readdirSync(new URL('../docs/examples/', import.meta.url));
/** Scripts run here; components (.tsx) are rendered by the React tests. */
const examples = files.filter((f) => f.endsWith('.ts'));
const docs = ['../README.md', ...readdirSync(new URL('../docs/', import.meta.url)).filter((f) => f.endsWith('.md')).map((f) => `../docs/${f}`)]
  .map((f) => readFileSync(new URL(f, import.meta.url), 'utf8'))
  .join('\n');

/** What each example must print, in order (a line is matched as a substring). */
const expected: Record<string, string[]> = {
  'quick-start.ts': ['Your email', '"ok":false', 'review ada@example.com pro 30', '{"seats":"3"}'],
  'directives.ts': ['question 3', 'results', 'suspended', 'results'],
  'on-error.ts': ['declined', 'step "charge" failed (card declined). The task moved to its onError target "declined".', 'error'],
  'idempotency-keys.ts': ['acct-1 1', '700 2'],
  'graph.ts': ['flowchart TD', 'digraph "support"', 'Step 2 of 3', 'What is it about? (done) → A bug (current) → How can we reach you? (upcoming)'],
};

afterEach(() => vi.restoreAllMocks());

describe('the documentation examples', () => {
  it('are all listed here', () => {
    expect(examples.sort()).toEqual(Object.keys(expected).sort());
  });

  for (const file of files) {
    it(`${file} appears verbatim in the docs`, () => {
      const source = readFileSync(new URL(`../docs/examples/${file}`, import.meta.url), 'utf8').trim();
      expect(docs.includes(source), `paste docs/examples/${file} into README.md or docs/*.md`).toBe(true);
    });

  }

  for (const file of examples) {
    it(`${file} runs and prints what the docs say`, async () => {
      const printed: string[] = [];
      vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
        printed.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
      });
      await import(/* @vite-ignore */ `../docs/examples/${file}`);
      let at = 0;
      for (const line of expected[file] ?? []) {
        const found = printed.findIndex((p, i) => i >= at && p.includes(line));
        expect(found, `"${line}" printed after line ${at} of:\n${printed.join('\n')}`).toBeGreaterThanOrEqual(0);
        at = found + 1;
      }
    });
  }
});
