import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('../../src/', import.meta.url));
const sources = (readdirSync(src, { recursive: true }) as string[]).filter((f) => /\.tsx?$/.test(f));

/** Every `class X extends …Error {` of the sources, with the body up to the first member. */
const errorClasses = sources.flatMap((file) =>
  [...readFileSync(join(src, file), 'utf8').matchAll(/class (\w+) extends (\w*Error)\b[^{]*\{\n([^\n]*)/g)].map(([, name, base, first]) => ({ file, name, base, first })),
);

describe('error class names', () => {
  it('finds the error classes of every folder', () => {
    expect(errorClasses.length).toBeGreaterThan(60);
    expect(new Set(errorClasses.map((c) => c.file.split('/')[0]))).toEqual(new Set(['automations', 'core', 'persist', 'react', 'server', 'sync']));
  });

  it('every error class in src/ declares its own name first, so minified builds keep it (scripts/check-package.mjs checks dist/)', () => {
    const unnamed = errorClasses.filter((c) => c.first?.trim() !== `override readonly name: string = '${c.name}';`).map((c) => `${c.file}: ${c.name}`);
    expect(unnamed).toEqual([]);
  });
});
