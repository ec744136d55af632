/** Where Debian's (and most distributions') Chromium package puts the browser. */
export declare const SYSTEM_CHROMIUM: string;

/** The Chromium a run uses: what `chromium.launch` (playwright-core) takes, and where it came from. */
export interface ResolvedChromium {
  /** `CHROMIUM_PATH`: the variable; `system`: /usr/bin/chromium; `bundled`: @sparticuz/chromium. */
  source: 'CHROMIUM_PATH' | 'system' | 'bundled';
  executablePath: string;
  args: string[];
  /** Why the bundled browser was used. */
  note?: string;
}

/**
 * Picks the Chromium for a test or benchmark run, in this order: `CHROMIUM_PATH` when set
 * (it must be an executable file); else `/usr/bin/chromium` if it is an executable file;
 * else the headless Chromium bundled in `@sparticuz/chromium`, unpacked once into
 * node_modules/.cache. `WAYFLOW_TEST_CHROMIUM=bundled` skips the first two.
 * `isExecutableFile` and `unpackBundled` are there for tests.
 *
 * @example
 * const { executablePath, args } = await resolveChromium();
 * const browser = await chromium.launch({ executablePath, args });
 */
export declare function resolveChromium(options?: {
  env?: Record<string, string | undefined>;
  isExecutableFile?: (path: string) => boolean;
  unpackBundled?: () => Promise<{ executablePath: string; args: string[] }>;
}): Promise<ResolvedChromium>;

/** The browser's own version line (`Chromium 156.0.7681.0`), from `--version`. */
export declare function chromiumVersion(executablePath: string): Promise<string>;

/** One line for a run's output: version, where it came from and its path. */
export declare function describeChromium(resolved: ResolvedChromium, version: string): string;
