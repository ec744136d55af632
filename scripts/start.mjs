// `npm start`: builds the checkout demo, the wayflow server and the demo's automations
// module, then serves the demo with the server's tasks API and the order-fulfilment
// automation on an embedded PGlite database (.wayflow/data).
// PORT picks the port (default 8787); DATABASE_URL switches to PostgreSQL.
import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { build } from 'vite';

console.log('wayflow: building the demo and the server…');
await build({ configFile: 'demo/vite.config.ts', logLevel: 'warn' });
execFileSync('npm', ['run', '--silent', 'build:server'], { stdio: 'inherit' });
execFileSync('npm', ['run', '--silent', 'build:demo-automations'], { stdio: 'inherit' });

const args = ['dist/server/cli.js', 'serve', '--static', 'demo/dist', '--data', '.wayflow/data', '--automations', 'dist/demo/automations.js', '--port', process.env.PORT ?? '8787', '--log-level', 'warn'];
const server = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => server.kill(signal));
server.once('exit', (code) => process.exit(code ?? 0));
for await (const line of createInterface({ input: server.stdout })) {
  let entry = null;
  try {
    entry = JSON.parse(line);
  } catch {
    console.log(line);
    continue;
  }
  if (entry.msg === 'wayflow serve started') console.log(`\nwayflow demo: ${entry.url}/  (tasks on ${entry.storage}; back office at ${entry.url}/backoffice; Ctrl+C stops)\n`);
  else console.log(line);
}
