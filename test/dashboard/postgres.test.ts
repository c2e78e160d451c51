/**
 * The dashboard with the App on PostgreSQL, where the test can write rows behind the App's back: many
 * requests to page through, and an audit row edited as an intruder with the database's credentials would.
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

it('pages through all requests, newest first, each once', async () => {
  // The lists take a repository's requests by its id: these are acme/web's.
  const { id } = world.github.double.state.repoByFullName('acme/web');
  await database.query(`INSERT INTO requests (repository_id, run_id, run_attempt, action, job_key, repository, requester, facts, status, created_at, updated_at, completed_at)
    SELECT $1, 9000000 + n, 1, 'bulk', 'environment:', 'acme/web', 'mallory', '{"environment": "staging"}'::jsonb, 'approved',
           now() - n * interval '1 second', now(), now()
    FROM generate_series(1, 120) AS n`, [id]);
  const bob = new DashboardClient(world);
  await bob.signIn('bob');
  const seen: string[] = [];
  let next: string | undefined = '/dashboard/requests?action=bulk';
  for (let pages = 0; next && pages < 10; pages++) {
    const page = await bob.get(next);
    seen.push(...[...page.text.matchAll(/href="\/dashboard\/requests\/([0-9a-f-]{36})"/g)].map((m) => m[1]!));
    next = /<a rel="next" href="([^"]+)"/.exec(page.text)?.[1]?.replaceAll('&amp;', '&');
  }
  const stored = (await database.query("SELECT id FROM requests WHERE action = 'bulk' ORDER BY created_at DESC, id DESC")).rows.map((r: { id: string }) => r.id);
  expect(seen).toEqual(stored);
  expect(seen).toHaveLength(120);
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
