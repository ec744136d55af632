import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WayflowError } from '../core/index.ts';

/**
 * The packages `wayflow serve` and `wayflow/server` run on. They are optional peer
 * dependencies, so a browser app that installs wayflow does not download them.
 */
export const SERVER_PACKAGES = ['hono', '@hono/node-server', 'pg', '@electric-sql/pglite'] as const;

/** The one command that installs every server package. */
export const SERVER_INSTALL = `npm install ${SERVER_PACKAGES.join(' ')}`;

/** A server package is not installed; `missing` names which, the message says how to install them. */
export class ServerPackagesMissingError extends WayflowError {
  override readonly name: string = 'ServerPackagesMissingError';
  constructor(readonly missing: readonly string[]) {
    super(
      'server-packages-missing',
      `wayflow serve needs ${missing.join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not installed: the server's packages are optional, so browser apps do not download them. Install them beside wayflow with: ${SERVER_INSTALL}`,
    );
  }
}

/**
 * The server packages Node would not find from `from` (a file URL or path): it looks in every
 * `node_modules` folder from there up to the root, as Node resolves a bare import.
 */
export function missingServerPackages(from: string | URL = import.meta.url): string[] {
  const start = dirname(typeof from === 'string' && !from.startsWith('file:') ? from : fileURLToPath(from));
  const found = (name: string) => {
    for (let dir = start; ; dir = dirname(dir)) {
      if (existsSync(join(dir, 'node_modules', name, 'package.json'))) return true;
      if (dirname(dir) === dir) return false;
    }
  };
  return SERVER_PACKAGES.filter((name) => !found(name));
}

/** Throws `ServerPackagesMissingError` unless every server package can be found from `from`. */
export function requireServerPackages(from?: string | URL): void {
  const missing = missingServerPackages(from);
  if (missing.length > 0) throw new ServerPackagesMissingError(missing);
}
