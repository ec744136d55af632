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

run('npm', ['run', '--silent', 'build']);
for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (typeof target === 'string') continue;
  for (const file of [target.types, target.import]) if (!existsSync(file)) problems.push(`${subpath}: ${file} is missing after the build`);
  const name = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
  const module = await import(name);
  if (Object.keys(module).length === 0) problems.push(`${name} exports nothing at runtime`);
  console.log(`check-package: ${name} loads from ${target.import} (${Object.keys(module).length} exports)`);
}
run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'test/package/tsconfig.json']);
console.log('check-package: a nodenext consumer type-checks against the published types');
if (problems.length > 0) {
  console.error(`check-package:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
