import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TestEnvironmentError } from './environment-error.mjs';

/** Where Debian's (and most distributions') Chromium package puts the browser. */
export const SYSTEM_CHROMIUM = '/usr/bin/chromium';

/** Flags for every Chromium the tests launch: nothing talks to the network but the pages under test. */
const QUIET = ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
/** Flags for an installed Chromium, headless as the tests run it (no sandbox: CI runs as root). */
const INSTALLED_ARGS = ['--no-sandbox', '--disable-gpu', ...QUIET];
/**
 * Flags of @sparticuz/chromium (made for one page per serverless call) left out: in a single
 * process, closing a browser context ends the whole browser; and the tests need the web's
 * security as users have it (without it, Chromium sends no Origin header and the server's
 * origin check refuses the writes).
 */
const UNSUITED_BUNDLED_ARGS = ['--single-process', '--disable-web-security', '--allow-running-insecure-content'];

/**
 * Picks the Chromium for a test or benchmark run, in this order: `CHROMIUM_PATH` when set
 * (it must be an executable file); else `/usr/bin/chromium` if it is an executable file;
 * else the headless Chromium bundled in `@sparticuz/chromium`, unpacked once into
 * node_modules/.cache. `WAYFLOW_TEST_CHROMIUM=bundled` skips the first two.
 * Resolves to what `chromium.launch` (playwright-core) takes, and where it came from.
 * `isExecutableFile` and `unpackBundled` are there for tests.
 */
export async function resolveChromium({ env = process.env, isExecutableFile = executableFile, unpackBundled = unpackBundledChromium } = {}) {
  const forced = env.WAYFLOW_TEST_CHROMIUM || undefined;
  if (forced !== undefined && forced !== 'bundled') {
    throw new TestEnvironmentError(
      'test-chromium-value',
      `WAYFLOW_TEST_CHROMIUM is "${forced}", but its one value is "bundled" (use @sparticuz/chromium even when another Chromium is installed): fix it, or unset it to let the set-up choose.`,
    );
  }
  let note = 'forced by WAYFLOW_TEST_CHROMIUM=bundled';
  if (!forced) {
    const given = env.CHROMIUM_PATH;
    if (given) {
      if (!isExecutableFile(given)) {
        throw new TestEnvironmentError('chromium-path', `CHROMIUM_PATH is "${given}", which is not an executable file: point it at a Chromium or Chrome binary, or unset it to let the set-up find one.`);
      }
      return { source: 'CHROMIUM_PATH', executablePath: given, args: INSTALLED_ARGS };
    }
    if (isExecutableFile(SYSTEM_CHROMIUM)) return { source: 'system', executablePath: SYSTEM_CHROMIUM, args: INSTALLED_ARGS };
    note = `${SYSTEM_CHROMIUM} is not an executable file`;
  }
  const bundled = await unpackBundled();
  const args = bundled.args.filter((arg) => !UNSUITED_BUNDLED_ARGS.includes(arg));
  return { source: 'bundled', executablePath: bundled.executablePath, args: [...args, ...QUIET], note };
}

/** The browser's own version line (`Chromium 156.0.7681.0`), from `--version`. */
export async function chromiumVersion(executablePath) {
  try {
    const { stdout } = await promisify(execFile)(executablePath, ['--version'], { timeout: 60_000 });
    return stdout.trim().replace(/ built on .*$/, '');
  } catch (cause) {
    throw new TestEnvironmentError(
      'chromium-does-not-run',
      `${executablePath} does not run (${cause.stderr?.trim() || cause.message}). If a shared library is missing, install the distribution's Chromium dependencies (e.g. libnss3), or set CHROMIUM_PATH to a browser that runs here.`,
      { cause },
    );
  }
}

/** One line for a run's output: version, where it came from and its path. */
export function describeChromium(resolved, version) {
  const source = resolved.source === 'bundled' ? `bundled @sparticuz/chromium; ${resolved.note}` : resolved.source;
  return `${version} (${source}, ${resolved.executablePath})`;
}

function executableFile(path) {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Unpacks `@sparticuz/chromium` into node_modules/.cache/wayflow-chromium-<version> (its
 * `executablePath()` unpacks into the temporary folder, so TMPDIR points it at a staging
 * folder that is renamed into place: a run cut short never leaves half a browser behind).
 */
async function unpackBundledChromium() {
  const { default: chromium } = await import('@sparticuz/chromium');
  const require = createRequire(import.meta.url);
  const packageFile = join(dirname(require.resolve('@sparticuz/chromium')), '../../package.json');
  const { version } = JSON.parse(await readFile(packageFile, 'utf8'));
  const cacheRoot = fileURLToPath(new URL('../../node_modules/.cache/', import.meta.url));
  const folder = join(cacheRoot, `wayflow-chromium-${version}`);
  if (!existsSync(join(folder, 'chromium'))) {
    await mkdir(cacheRoot, { recursive: true });
    const staging = await mkdtemp(`${folder}-unpacking-`);
    const tmpdir = process.env.TMPDIR;
    process.env.TMPDIR = staging;
    try {
      await chromium.executablePath();
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    } finally {
      if (tmpdir === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmpdir;
    }
    await rename(staging, folder).catch(async (error) => {
      // Another run unpacked the same version first: use its copy.
      if (!existsSync(join(folder, 'chromium'))) throw error;
      await rm(staging, { recursive: true, force: true });
    });
  }
  return { executablePath: join(folder, 'chromium'), args: chromium.args };
}
