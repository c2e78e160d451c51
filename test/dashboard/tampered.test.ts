/**
 * The Audit page shows the result of verifying the hash chain: an edited row shows as such. The App
 * runs on PostgreSQL here, so the test can edit a row behind its back, as an intruder with the
 * database's credentials would.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import pg from 'pg';
import { randomSchema, POSTGRES_URL } from '../store/harness.js';
import { job, World } from '../app/harness.js';
import { DashboardClient } from './http-client.js';

const schema = randomSchema();
let world: World;
let database: pg.Pool;
/** Moves the App's clock forward, past the 30 seconds a verification is reused for. */
let clockOffsetMs = 0;
beforeAll(async () => {
  world = await World.start({ databaseUrl: POSTGRES_URL, databaseSchema: schema, clock: () => Date.now() + clockOffsetMs }, { dashboard: true });
  database = new pg.Pool({ connectionString: POSTGRES_URL, options: `-c search_path=${schema}`, max: 1 });
}, 60_000);
afterAll(async () => {
  await world?.stop();
  await database?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await database?.end();
});

it('the Audit page says the hash chain does not verify once a row was edited', async () => {
  const run = job();
  const { body } = await world.open(run, { action: 'publish-docs' });
  expect(body.status).toBe('approved');
  const bob = new DashboardClient(world);
  await bob.signIn('bob');
  expect((await bob.get('/dashboard/audit')).text).toContain('The audit trail&#39;s hash chain verifies');

  await database.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only');
  await database.query("UPDATE audit_events SET actor = 'alice' WHERE seq = 1");
  await database.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only');
  // The verification is redone once it is 30 seconds old.
  expect((await bob.get('/dashboard/audit')).text).toContain('hash chain verifies');
  clockOffsetMs += 31_000;
  const page = (await bob.get('/dashboard/audit')).text;
  expect(page).toMatch(/does NOT verify: event #1: [^<]+It may have been tampered with\./);
});
