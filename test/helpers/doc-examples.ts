import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format } from 'node:util';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The markdown of a doc (path from the repository root) and its ```ts blocks, in order. */
export async function docExamples(path: string): Promise<{ markdown: string; blocks: string[] }> {
  const markdown = await readFile(join(root, path), 'utf8');
  return { markdown, blocks: [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!) };
}

/**
 * Runs doc examples as modules from a temporary folder. In an example, each
 * `console.log(…); // => value` (optionally followed by three spaces and a note in
 * parentheses) becomes a check of what it logs; other `console.log`/`console.warn` output is
 * dropped and `process.once(…)` handlers are not registered. `wayflow/…` imports resolve to
 * the sources through the aliases in vite.config.ts.
 */
export async function exampleRunner(prefix: string) {
  const dir = await mkdtemp(join(tmpdir(), `wayflow-${prefix}-`));
  return {
    /** Runs `code` as a module named `name`; resolves to [logged, expected] for every `// =>`. */
    async run(code: string, name: string): Promise<[string, string][]> {
      const checks: [string, string][] = [];
      Object.assign(globalThis, {
        __expectLog: (expected: string, ...args: unknown[]) => checks.push([format(...args), expected]),
        __log: () => undefined,
        __once: () => undefined,
      });
      const file = join(dir, `${name}.ts`);
      await writeFile(
        file,
        code
          .replace(/console\.log\((.*)\); \/\/ => (.*?)(?: {3}\(.*\))?$/gm, (_, args: string, expected: string) => `globalThis.__expectLog(${JSON.stringify(expected)}, ${args});`)
          .replace(/console\.(log|warn)\(/g, 'globalThis.__log(')
          .replace(/process\.once\(/g, 'globalThis.__once('),
      );
      await import(/* @vite-ignore */ file);
      return checks;
    },
    /** The folder the examples are written to (for examples that are files, not scripts). */
    dir,
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * One test per ```ts block: it runs alone (see `exampleRunner`) and every `// =>` in it logs
 * exactly what it says. Call inside a `describe`.
 */
export function itRunsEachBlock(blocks: readonly string[], examples: Awaited<ReturnType<typeof exampleRunner>>): void {
  blocks.forEach((code, index) => {
    const title = code.split('\n').find((line) => !line.startsWith('import') && line.trim()) ?? '';
    it(`runs example ${index + 1} and logs what it says (${title.slice(0, 50)})`, async () => {
      const checks = await examples.run(code, `example-${index + 1}`);
      expect(checks.map(([logged]) => logged)).toEqual(checks.map(([, expected]) => expected));
      expect(checks).toHaveLength(code.split('// =>').length - 1);
    });
  });
}
