import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingServerPackages, SERVER_PACKAGES, ServerPackagesMissingError } from '../../src/server/requirements.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const INSTALL = 'npm install hono @hono/node-server pg @electric-sql/pglite';

describe('the server packages in package.json', () => {
  it('are optional peers, so a browser app installing wayflow does not download them', () => {
    for (const name of SERVER_PACKAGES) {
      expect(pkg.dependencies?.[name], `${name} is not a dependency`).toBeUndefined();
      expect(pkg.peerDependencies?.[name], `${name} is a peer`).toBeDefined();
      expect(pkg.peerDependenciesMeta?.[name]?.optional, `${name} is an optional peer`).toBe(true);
      expect(pkg.devDependencies?.[name], `${name} is installed for the repo's own tests and demo`).toBe(pkg.peerDependencies[name]);
    }
  });
});

describe('wayflow serve without its server packages', () => {
  let app: string;
  let bin: string;
  beforeAll(async () => {
    // An app folder as npm lays it out: wayflow's bin inside node_modules/wayflow, a stand-in
    // for the real program beside it, and no server package installed.
    app = mkdtempSync(join(tmpdir(), 'wayflow-serve-'));
    const dist = join(app, 'node_modules/wayflow/dist/server');
    mkdirSync(dist, { recursive: true });
    bin = join(dist, 'bin.js');
    await build({ entryPoints: [join(ROOT, 'src/server/bin.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', external: ['./cli.js'], outfile: bin, logLevel: 'silent' });
    writeFileSync(join(dist, 'cli.js'), "export const runProgram = () => console.log('serving', process.argv.slice(2).join(' '));\n");
  });
  afterAll(() => rmSync(app, { recursive: true, force: true }));

  const serve = () =>
    promisify(execFile)(process.execPath, [bin, 'serve', '--port', '0'], { cwd: app }).then(
      ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  it('names the missing packages and the command that installs them, and exits 1 before loading the server', async () => {
    const { code, stdout, stderr } = await serve();
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(`${new ServerPackagesMissingError([...SERVER_PACKAGES]).message}\n`);
    expect(stderr).toContain('wayflow serve needs hono, @hono/node-server, pg, @electric-sql/pglite, which are not installed');
    expect(stderr).toContain(INSTALL);
  });

  it('runs the server program once they are installed (the one documented step)', async () => {
    for (const name of SERVER_PACKAGES) {
      mkdirSync(join(app, 'node_modules', name), { recursive: true });
      writeFileSync(join(app, 'node_modules', name, 'package.json'), JSON.stringify({ name }));
    }
    expect(missingServerPackages(bin)).toEqual([]);
    expect(await serve()).toEqual({ code: 0, stdout: 'serving serve --port 0\n', stderr: '' });
  });

  it('names only what is missing', () => {
    rmSync(join(app, 'node_modules/pg'), { recursive: true });
    const error = new ServerPackagesMissingError(missingServerPackages(bin));
    expect(error).toMatchObject({ name: 'ServerPackagesMissingError', code: 'server-packages-missing', missing: ['pg'] });
    expect(error.message).toMatch(/^wayflow serve needs pg, which is not installed: .* Install them beside wayflow with: npm install hono @hono\/node-server pg @electric-sql\/pglite$/);
  });

  it('finds them in the repository, where they are dev dependencies', () => {
    expect(missingServerPackages(join(ROOT, 'src/server/bin.ts'))).toEqual([]);
  });
});
