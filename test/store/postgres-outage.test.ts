/**
 * The PostgreSQL driver when the server's connections break: through a relay the test cuts, so only
 * this file's connections are touched.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { startTcpRelay, type TcpRelay } from '../action/tcp-relay.js';
import type { Database } from '../../app/store/database.js';
import { CONNECT_TIMEOUT_MS, openPostgresDatabase } from '../../app/store/postgres-database.js';
import { POSTGRES_URL } from './harness.js';

let relay: TcpRelay;
let db: Database;
beforeAll(async () => {
  const target = new URL(POSTGRES_URL);
  relay = await startTcpRelay({ host: target.hostname, port: Number(target.port || 5432) });
  const through = new URL(POSTGRES_URL);
  through.port = new URL(relay.url).port;
  db = openPostgresDatabase(through.toString());
});
afterAll(async () => {
  await db?.close();
  await relay?.close();
});

test('a transaction whose connection breaks between its statements fails, the process keeps running, and the next one reconnects', async () => {
  const during = db.transaction(async (tx) => {
    await tx.query('SELECT 1');
    // The connection breaks while the App does something else (reads GitHub, evaluates the policy).
    await relay.cut();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await tx.query('SELECT 2');
  });
  await expect(during).rejects.toThrow(/connection/i);
  await relay.mend();
  expect(await db.transaction((tx) => tx.query('SELECT 1 AS one'))).toEqual([{ one: 1 }]);
});

test('a server that accepts the connection and never answers fails the call once connecting times out, instead of holding it for good', async () => {
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => void sockets.add(socket.on('error', () => {})));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const unanswered = openPostgresDatabase(`postgres://jit@127.0.0.1:${(silent.address() as AddressInfo).port}/test`);
  try {
    await expect(unanswered.query('SELECT 1')).rejects.toThrow(/timeout/i);
  } finally {
    for (const socket of sockets) socket.destroy();
    await unanswered.close().catch(() => undefined);
    await new Promise((resolve) => silent.close(resolve));
  }
}, CONNECT_TIMEOUT_MS + 20_000);
