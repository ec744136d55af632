// Checks the package as a user gets it: builds it, type-checks a consumer
// that imports every entry through package.json "exports" (nodenext, no path
// aliases), imports every entry at runtime from dist, and checks the manifest.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const run = (command, args) => execFileSync(command, args, { stdio: 'inherit' });
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const problems = [];
if (pkg.type !== 'module') problems.push('"type" must be "module"');
if (pkg.sideEffects !== false) problems.push('"sideEffects" must be false');

/**
 * An argument that passes for any type a constructor expects (string, number, array,
 * object, function), so every exported error class can be built without knowing its
 * parameters and its `name` read as a user sees it.
 */
const anything = new Proxy(() => anything, {
  get: (_, key) => (key === Symbol.toPrimitive ? () => 'x' : key === Symbol.iterator ? function* () {} : anything),
  apply: () => anything,
  ownKeys: () => [],
});

const serverPackages = ['hono', '@hono/node-server', 'pg', '@electric-sql/pglite'];
for (const name of serverPackages) {
  if (pkg.dependencies?.[name]) problems.push(`${name} must not be a dependency: browser apps would download it`);
  if (!pkg.peerDependenciesMeta?.[name]?.optional) problems.push(`${name} must be an optional peer dependency`);
  if (!pkg.devDependencies?.[name]) problems.push(`${name} must be a devDependency, for the repo's tests and demo`);
}

run('npm', ['run', '--silent', 'build']);
// The installed command: the launcher checks the server packages, then runs the program.
try {
  execFileSync(process.execPath, [pkg.bin.wayflow, 'nonsense'], { stdio: 'pipe' });
  problems.push(`${pkg.bin.wayflow} nonsense exited 0`);
} catch (error) {
  const stderr = String(error.stderr);
  if (error.status !== 2 || !stderr.includes('Unknown command "nonsense"')) problems.push(`${pkg.bin.wayflow} does not reach the program: exit ${error.status}, ${stderr}`);
  else console.log(`check-package: ${pkg.bin.wayflow} runs the wayflow program`);
}
let errorClasses = 0;
for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (typeof target === 'string') continue;
  for (const file of [target.types, target.import]) if (!existsSync(file)) problems.push(`${subpath}: ${file} is missing after the build`);
  const name = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
  const module = await import(name);
  if (Object.keys(module).length === 0) problems.push(`${name} exports nothing at runtime`);
  console.log(`check-package: ${name} loads from ${target.import} (${Object.keys(module).length} exports)`);
  // Minifiers rename classes: every error must keep its name (error.name, logs, describeError).
  for (const [key, value] of Object.entries(module)) {
    if (typeof value !== 'function' || !(value.prototype instanceof Error)) continue;
    errorClasses++;
    let built;
    try {
      built = new value(anything, anything, anything, anything, anything).name;
    } catch (error) {
      built = `a constructor that throws (${error})`;
    }
    if (built !== key) problems.push(`${name}: error class ${key} is named "${built}" in the build; give it an explicit name`);
  }
}
const { executeFlowRun } = await import(`${pkg.name}/automations`);
const failed = await executeFlowRun(
  { name: 'names', actions: [{ name: 'bogus', run: () => 'bogus' }] },
  { id: 'r', flow: 'names', status: 'pending', position: [], resume: 'next', continueAfter: null, state: {}, objectId: null, trigger: null, createdAt: 0, finishedAt: null, error: null, log: [], parentId: null, loops: {} },
  0,
);
if (!failed.error?.startsWith('FlowDirectiveError: ')) problems.push(`a failed flowcontrol run records "${failed.error}", not the error's class name`);
console.log(`check-package: ${errorClasses} exported error classes keep their names in the build`);
run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'test/package/tsconfig.json']);
console.log('check-package: a nodenext consumer type-checks against the published types');
if (problems.length > 0) {
  console.error(`check-package:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
