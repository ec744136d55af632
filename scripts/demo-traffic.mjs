// `npm run demo:traffic`: a few hundred simulated shoppers go through the demo's checkout over the
// tasks API of a running demo (`npm start`), so the back office's "Checkout funnel" has a full picture.
// BASE_URL (default http://127.0.0.1:$PORT, PORT default 8787), SHOPPERS (default 300), SEED (default: the time).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
await mkdir(join(root, 'node_modules/.cache'), { recursive: true });
const outfile = join(root, 'node_modules/.cache/wayflow-demo-traffic.mjs');
await build({ entryPoints: [join(root, 'demo/traffic/shoppers.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile, logLevel: 'warn' });
const { runShoppers } = await import(pathToFileURL(outfile).href);

const baseUrl = process.env.BASE_URL ?? `http://127.0.0.1:${process.env.PORT ?? '8787'}`;
const shoppers = Number(process.env.SHOPPERS ?? 300);
const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
console.log(`wayflow demo traffic: ${shoppers} shoppers through the checkout at ${baseUrl} (seed ${seed})…`);
try {
  const report = await runShoppers({ baseUrl, shoppers, seed });
  console.log(`${report.completed} paid, ${report.gaveUp} gave up on the way. See ${baseUrl}/backoffice/funnel (signed in as the back office).`);
} catch (error) {
  console.error(`wayflow demo traffic failed: ${error instanceof Error ? error.message : String(error)}. Is the demo running (npm start)?`);
  process.exit(1);
}
