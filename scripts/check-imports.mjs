// Each top folder of src/ (core, persist, react, router, sync, server, automations) is a module whose index.ts is its public surface:
// a file may import its own module's files freely, but from another module only that module's
// index.ts (or a file listed in SURFACES: another entry of the package, or what sibling
// modules need that apps do not). Run by `npm run lint`; prints each import that reaches into
// another module's internals and fails. `--root=dir` checks another tree (tests).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(process.argv.find((arg) => arg.startsWith('--root='))?.slice(7) ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const src = join(root, 'src');
/** Folders (below src/) whose imports are listed but not yet refused (none now: every folder imports through index.ts). */
const PENDING = [];

/** Files other than index.ts that are a module's surface (paths below src/). */
const SURFACES = new Set([
  // The `wayflow/graph` entry.
  'core/graph.ts',
  // What persist, react, router and sync need from core that apps do not (kept out of the `wayflow` entry's bytes).
  'core/shared.ts',
]);

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The module a file belongs to: its top folder below src/ (`src/react/fields/select.tsx` is in `src/react`). */
function moduleOf(file) {
  const top = relative(src, file).split(sep)[0];
  return top && existsSync(join(src, top, 'index.ts')) ? join(src, top) : src;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;
const violations = [];
for (const file of files(src)) {
  const text = readFileSync(file, 'utf8');
  const from = moduleOf(file);
  for (const match of text.matchAll(IMPORT)) {
    const specifier = match[1] ?? match[2];
    const target = resolve(dirname(file), specifier);
    const to = moduleOf(target);
    if (to === from) continue;
    const below = relative(src, target);
    if (target === join(to, 'index.ts') || SURFACES.has(below)) continue;
    violations.push({ file: relative(root, file), specifier, module: relative(root, to) });
  }
}

const describe = (v) => `${v.file}: imports ${v.specifier}, an internal file of ${v.module}; import ${v.module}/index.ts (or add what is needed to it)`;
const pending = violations.filter((v) => PENDING.some((folder) => v.file.startsWith(`src/${folder}`)));
const refused = violations.filter((v) => !pending.includes(v));
if (process.argv.includes('--list')) for (const v of pending) console.error(describe(v));
else if (pending.length > 0) console.error(`check-imports: ${pending.length} import(s) of ${PENDING.join(', ')} still reach into other folders' internals (listed with --list)`);
if (refused.length > 0) {
  for (const v of refused) console.error(describe(v));
  console.error(`check-imports: ${refused.length} import(s) reach into another folder's internals`);
  process.exit(1);
}
