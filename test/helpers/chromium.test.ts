import { describe, expect, it } from 'vitest';
import { describeChromium, resolveChromium, SYSTEM_CHROMIUM } from './chromium.mjs';

const bundled = { executablePath: '/cache/wayflow-chromium-147.0.0/chromium', args: ['--headless=shell', '--single-process', '--disable-web-security', '--no-zygote'] };
/** The resolver with file checks that answer from `executables`, and a bundled browser that only counts its unpackings. */
function resolveWith(env: Record<string, string>, executables: string[]) {
  const unpacked: string[] = [];
  const resolved = resolveChromium({
    env,
    isExecutableFile: (path) => executables.includes(path),
    unpackBundled: async () => {
      unpacked.push('bundled');
      return bundled;
    },
  });
  return { resolved, unpacked };
}

describe('resolveChromium', () => {
  it('uses CHROMIUM_PATH when it is set, before /usr/bin/chromium', async () => {
    const { resolved, unpacked } = resolveWith({ CHROMIUM_PATH: '/opt/chrome/chrome' }, ['/opt/chrome/chrome', SYSTEM_CHROMIUM]);
    expect(await resolved).toMatchObject({ source: 'CHROMIUM_PATH', executablePath: '/opt/chrome/chrome' });
    expect((await resolved).args).toContain('--no-sandbox');
    expect(unpacked).toEqual([]);
  });

  it('refuses a CHROMIUM_PATH that is not an executable file, naming it', async () => {
    await expect(resolveWith({ CHROMIUM_PATH: '/opt/nothing' }, [SYSTEM_CHROMIUM]).resolved).rejects.toMatchObject({
      name: 'TestEnvironmentError',
      code: 'chromium-path',
      message: expect.stringContaining('/opt/nothing'),
    });
  });

  it('uses /usr/bin/chromium when it is an executable file', async () => {
    const { resolved, unpacked } = resolveWith({}, [SYSTEM_CHROMIUM]);
    expect(await resolved).toMatchObject({ source: 'system', executablePath: SYSTEM_CHROMIUM });
    expect(unpacked).toEqual([]);
  });

  it('falls back to the bundled browser when /usr/bin/chromium is not an executable file, and says why', async () => {
    const { resolved, unpacked } = resolveWith({}, []);
    const chromium = await resolved;
    expect(chromium).toMatchObject({ source: 'bundled', executablePath: bundled.executablePath, note: `${SYSTEM_CHROMIUM} is not an executable file` });
    expect(unpacked).toEqual(['bundled']);
    expect(describeChromium(chromium, 'Chromium 147.0.7727.0')).toBe(
      `Chromium 147.0.7727.0 (bundled @sparticuz/chromium; ${SYSTEM_CHROMIUM} is not an executable file, ${bundled.executablePath})`,
    );
  });

  it('keeps the bundled flags but those unfit for tests: single process, no web security', async () => {
    const { args } = await resolveWith({}, []).resolved;
    expect(args).toEqual(expect.arrayContaining(['--headless=shell', '--no-zygote', '--disable-background-networking']));
    expect(args).not.toContain('--single-process');
    expect(args).not.toContain('--disable-web-security');
  });

  it('uses the bundled browser when WAYFLOW_TEST_CHROMIUM=bundled, even with CHROMIUM_PATH and /usr/bin/chromium there', async () => {
    const { resolved } = resolveWith({ WAYFLOW_TEST_CHROMIUM: 'bundled', CHROMIUM_PATH: SYSTEM_CHROMIUM }, [SYSTEM_CHROMIUM]);
    expect(await resolved).toMatchObject({ source: 'bundled', note: 'forced by WAYFLOW_TEST_CHROMIUM=bundled' });
  });

  it('refuses an unknown WAYFLOW_TEST_CHROMIUM value', async () => {
    await expect(resolveWith({ WAYFLOW_TEST_CHROMIUM: 'system' }, [SYSTEM_CHROMIUM]).resolved).rejects.toMatchObject({
      code: 'test-chromium-value',
      message: expect.stringContaining('"system"'),
    });
  });
});
