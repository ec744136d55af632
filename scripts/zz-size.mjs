import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
const peers = ['xstate', 'zod', 'react', 'react-dom', 'react-router', 'idb', 'hono', 'react/jsx-runtime'];
const r = await build({ entryPoints: ['src/react/index.ts'], bundle: true, minify: true, format: 'esm', write: false, external: [...peers, '../core/*', '../persist/*'], platform: 'neutral', logLevel: 'silent', define: { 'process.env.NODE_ENV': '"production"' } });
const code = r.outputFiles[0].text;
console.log(code.length, gzipSync(code, { level: 9 }).length);
if (process.argv[2]) console.log(code);
