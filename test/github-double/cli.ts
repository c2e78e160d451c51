/** `npm run github-double -- --port N --seed seed.json`: runs the double until interrupted. */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { startGitHubDouble } from './index.js';
import type { Seed } from './types.js';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' }, seed: { type: 'string' } },
});
const seed = values.seed ? (JSON.parse(await readFile(values.seed, 'utf8')) as Seed) : {};
const running = await startGitHubDouble({ port: Number(values.port), host: values.host, seed });
console.log(JSON.stringify({ url: running.url, apiUrl: running.apiUrl, oidcIssuer: running.oidcIssuer, control: `${running.url}/_control` }));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void running.close().then(() => process.exit(0));
  });
}
