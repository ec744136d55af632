// tsc keeps the `.ts` import specifiers of our sources in the emitted
// declarations; consumers resolve `.js`. Rewrites every relative specifier.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const root = 'dist/types';
let files = 0;
for (const entry of await readdir(root, { recursive: true })) {
  if (!entry.endsWith('.d.ts')) continue;
  const path = join(root, entry);
  const text = await readFile(path, 'utf8');
  const fixed = text.replace(/(from\s+|import\()(['"])(\.{1,2}\/[^'"]+)\.tsx?\2/g, '$1$2$3.js$2');
  if (fixed !== text) {
    await writeFile(path, fixed);
    files++;
  }
}
console.log(`fix-dts: rewrote .ts specifiers in ${files} declaration files`);
