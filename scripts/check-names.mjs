// Every public entry of the package (package.json "exports") names each of its exports after one
// thing: the same name exported by two entries must be the same declaration (re-exported), never
// two different ones (`StorageError` of `wayflow/persist` and of `wayflow/server`, say), so an app
// importing from both never holds two meanings of one name. Run by `npm run lint`; prints each
// name with the entries and declarations it collides across, and fails (names in PENDING are
// only counted: their owners rename them). `--list` prints every export by entry, `--root=dir`
// checks another tree (tests). Exports are read from the sources (`export …` declarations,
// `export { … }` lists, `export * from`), following re-exports to the declaring file.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(process.argv.find((arg) => arg.startsWith('--root='))?.slice(7) ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
/** Collisions tolerated for now (none: flowcontrol's `action` is `flowAction`, the CLI's `StepResult` is `StepCommandResult`). */
const PENDING = new Set([]);

/** The source file of an entry, from its `types` path (dist/types/x/index.d.ts → src/x/index.ts). */
const sourceOf = (types) => join(root, types.replace(/^\.\/dist\/types\//, 'src/').replace(/\.d\.ts$/, '.ts'));
const entries = Object.entries(pkg.exports)
  .filter(([, target]) => typeof target === 'object' && target.types)
  .map(([key, target]) => ({ name: key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`, file: sourceOf(target.types) }))
  .filter((entry) => existsSync(entry.file) || existsSync(`${entry.file}x`));

const withoutComments = (code) => code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
const resolveFile = (from, spec) => {
  const path = resolve(dirname(from), spec);
  for (const candidate of [path, path.replace(/\.js$/, '.ts'), `${path}.ts`, `${path}.tsx`, join(path, 'index.ts')]) if (existsSync(candidate) && !candidate.endsWith('/')) return candidate;
  return null;
};
/** `a`, `type b`, `c as d` → [local, exported] pairs. */
const specifiers = (list) =>
  list
    .split(',')
    .map((s) => s.trim().replace(/^type\s+/, ''))
    .filter(Boolean)
    .map((s) => {
      const [local, exported = local] = s.split(/\s+as\s+/).map((x) => x.trim());
      return [local, exported];
    });

const cache = new Map();
/** The exports of `file`: exported name → `file#name` of its declaration (or of the module it came from, when it is not ours). */
function exportsOf(file, seen = new Set()) {
  if (cache.has(file)) return cache.get(file);
  if (seen.has(file)) return new Map();
  seen.add(file);
  const code = withoutComments(readFileSync(file, 'utf8'));
  const names = new Map();
  const imported = new Map();
  for (const m of code.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+['"]([^'"]+)['"]/g)) {
    for (const [local, as] of specifiers(m[1])) imported.set(as, [m[2], local]);
  }
  const origin = (spec, name) => {
    const target = spec.startsWith('.') ? resolveFile(file, spec) : null;
    if (!target) return `${spec}#${name}`;
    return exportsOf(target, seen).get(name) ?? `${relative(root, target)}#${name}`;
  };
  for (const m of code.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}\s*(?:from\s+['"]([^'"]+)['"])?/g)) {
    for (const [local, exported] of specifiers(m[1])) {
      if (m[2]) names.set(exported, origin(m[2], local));
      else if (imported.has(local)) names.set(exported, origin(...imported.get(local)));
      else names.set(exported, `${relative(root, file)}#${local}`);
    }
  }
  for (const m of code.matchAll(/export\s+\*\s+from\s+['"]([^'"]+)['"]/g)) {
    const target = resolveFile(file, m[1]);
    if (target) for (const [name, from] of exportsOf(target, seen)) if (!names.has(name)) names.set(name, from);
  }
  for (const m of code.matchAll(/export\s+(?:declare\s+)?(?:default\s+)?(?:abstract\s+)?(?:async\s+)?(?:function\s*\*?|class|const|let|var|interface|type|enum|namespace)\s+([A-Za-z_$][\w$]*)/g)) {
    names.set(m[1], `${relative(root, file)}#${m[1]}`);
  }
  cache.set(file, names);
  return names;
}

const byName = new Map();
for (const entry of entries) {
  const file = existsSync(entry.file) ? entry.file : `${entry.file}x`;
  for (const [name, from] of exportsOf(file)) {
    if (!byName.has(name)) byName.set(name, new Map());
    const origins = byName.get(name);
    if (!origins.has(from)) origins.set(from, []);
    origins.get(from).push(entry.name);
  }
}

if (process.argv.includes('--list')) {
  for (const [name, origins] of [...byName].sort()) for (const [from, where] of origins) console.log(`${name}\t${where.join(', ')}\t${from}`);
}
const collisions = [...byName].filter(([, origins]) => origins.size > 1).sort();
const refused = collisions.filter(([name]) => !PENDING.has(name));
for (const [name, origins] of refused) {
  console.error(`check-names: "${name}" names ${origins.size} different things: ${[...origins].map(([from, where]) => `${where.join(', ')} (${from})`).join('; ')}`);
}
if (refused.length > 0) {
  console.error(`check-names: ${refused.length} name(s) exported by several entries with different meanings; rename one side (the one less used)`);
  process.exitCode = 1;
}
const pending = collisions.length - refused.length;
if (pending > 0) console.log(`check-names: ${pending} collision(s) of src/automations, src/server/automations still pending (${[...PENDING].join(', ')})`);
