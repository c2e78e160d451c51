/**
 * The dashboard over rows the App never writes, put there by whoever can write its PostgreSQL database
 * (the append-only trigger disabled, NOT NULL dropped): every page still answers, showing the value as
 * it is and never such a row as verified, and exports mark it.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import pg from 'pg';
import { randomSchema, POSTGRES_URL } from '../store/harness.js';
import { job, OTHER_REPO, World } from '../app/harness.js';
import { DashboardClient } from './http-client.js';

const schema = randomSchema();
let world: World;
let database: pg.Pool;
let clockOffsetMs = 0;
let bob: DashboardClient;
let requestId: string;
beforeAll(async () => {
  world = await World.start({ databaseUrl: POSTGRES_URL, databaseSchema: schema, clock: () => Date.now() + clockOffsetMs }, { dashboard: true });
  database = new pg.Pool({ connectionString: POSTGRES_URL, options: `-c search_path=${schema}`, max: 1 });
  const { body } = await world.open(job(), { action: 'publish-docs' });
  expect(body.status).toBe('approved');
  requestId = body.id as string;
  bob = new DashboardClient(world);
  await bob.signIn('bob');
}, 60_000);
afterAll(async () => {
  await world?.stop();
  await database?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await database?.end();
});

/** Edits the request's first event as an intruder would, checks the pages, and undoes the edit. */
async function withEdited(change: string, check: (seq: number) => Promise<void>, { reverify = true } = {}): Promise<void> {
  const { rows: [original] } = await database.query('SELECT seq, at, facts, type, actor FROM audit_events WHERE request_id = $1 ORDER BY seq LIMIT 1', [requestId]);
  await database.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only');
  await database.query('ALTER TABLE audit_events ALTER COLUMN at DROP NOT NULL, ALTER COLUMN facts DROP NOT NULL');
  await database.query(`UPDATE audit_events SET ${change} WHERE seq = $1`, [original.seq]);
  // Past the 30 seconds a verification is reused for, unless the test wants the one from before the edit.
  if (reverify) clockOffsetMs += 31_000;
  try {
    await check(Number(original.seq));
  } finally {
    await database.query('UPDATE audit_events SET at = $2, facts = $3::jsonb, type = $4, actor = $5 WHERE seq = $1', [original.seq, original.at, JSON.stringify(original.facts), original.type, original.actor]);
    await database.query('ALTER TABLE audit_events ALTER COLUMN at SET NOT NULL, ALTER COLUMN facts SET NOT NULL');
    await database.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only');
    clockOffsetMs += 31_000;
  }
}

async function exported(format: 'csv' | 'jsonl'): Promise<string> {
  const answer = await bob.get(`/dashboard/audit/export.${format}`);
  expect(answer.status).toBe(200);
  return answer.text;
}

it.each([
  ['no time', 'at = NULL', /its time \(at\) is missing \(NULL\), which the App never writes/],
  ['an infinite time', "at = 'infinity'", /its time \(at\) is [^,]+, which the App never writes/],
  ['a time out of range', "at = '290000-01-01'", /its time \(at\) is [^,]+, which the App never writes/],
  ['facts that are not an object', "facts = '\"approved\"'::jsonb", /its facts are a string, where the App always writes an object/],
  ['no facts', 'facts = NULL', /its facts are missing \(NULL\), where the App always writes an object/],
  ['a number JSON cannot hold', `facts = '{"note": 1e400}'::jsonb`, /its facts cannot be hashed \(Infinity is not allowed\), which the App never writes/],
])('pages show an event edited to hold %s as it is, not verified, and exports mark it', async (_, change, reason) => {
  await withEdited(change, async (seq) => {
    const audit = await bob.get('/dashboard/audit');
    expect(audit.status).toBe(200);
    expect(audit.text).toMatch(/hash chain does NOT verify: event #\d+: /);
    const row = new RegExp(`<tr><td>${seq}</td>.*?</tr>`).exec(audit.text)?.[0];
    expect(row).toMatch(new RegExp(`This event does not verify: ${reason.source}: it was changed outside the App`));

    const request = await bob.get(`/dashboard/requests/${requestId}`);
    expect(request.status).toBe(200);
    expect(request.text).toMatch(new RegExp(`This event does not verify: ${reason.source}`));

    const csv = (await exported('csv')).split('\n');
    expect(csv[0]).toBe('seq,at,type,actor,request_id,facts,prev_hash,hash,problem');
    expect(csv.find((line) => line.startsWith(`${seq},`))).toMatch(reason);
    const records = (await exported('jsonl')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const record = records.find((r) => r.seq === seq)!;
    expect(record.problem).toMatch(reason);
    expect(records.filter((r) => r.seq !== seq).every((r) => r.problem === undefined)).toBe(true);
  });
});

it('an event edited since the chain was last verified is never shown as verified', async () => {
  clockOffsetMs += 31_000;
  expect((await bob.get('/dashboard/audit')).text).toContain('hash chain verifies');
  await withEdited("actor = 'alice'", async (seq) => {
    // The chain's verification is reused for 30 seconds, but the row itself is checked as it is shown.
    const audit = (await bob.get('/dashboard/audit')).text;
    const row = new RegExp(`<tr><td>${seq}</td>.*?</tr>`).exec(audit)?.[0];
    expect(row).toContain('@alice');
    expect(row).toContain('This event does not verify: its hash does not match what it holds');
    expect((await bob.get(`/dashboard/requests/${requestId}`)).text).toContain('This event does not verify: its hash does not match what it holds');
    expect(JSON.parse((await exported('jsonl')).split('\n')[0]!)).toMatchObject({ seq, actor: 'alice', problem: expect.stringMatching(/its hash does not match/) });
  }, { reverify: false });
});

/** Opens a request of `repository`, edits its row as an intruder would, checks the pages, and restores the row. */
async function withEditedRequest(change: string, check: (id: string) => Promise<void>, repository?: string): Promise<void> {
  const { body } = await world.open(job(repository ? { repository } : {}), { action: 'publish-docs' });
  const id = body.id as string;
  const { rows: [{ row }] } = await database.query('SELECT to_jsonb(r) AS row FROM requests r WHERE id = $1', [id]);
  await database.query('ALTER TABLE requests DISABLE TRIGGER requests_final_is_final');
  await database.query('ALTER TABLE requests ALTER COLUMN created_at DROP NOT NULL, ALTER COLUMN facts DROP NOT NULL');
  await database.query(`UPDATE requests SET ${change} WHERE id = $1`, [id]);
  try {
    await check(id);
  } finally {
    await database.query(
      `UPDATE requests r SET created_at = o.created_at, facts = o.facts, decision = o.decision, deadline = o.deadline, completed_at = o.completed_at
       FROM jsonb_populate_record(NULL::requests, $2) o WHERE r.id = $1`,
      [id, row],
    );
    await database.query('ALTER TABLE requests ALTER COLUMN created_at SET NOT NULL, ALTER COLUMN facts SET NOT NULL');
    await database.query('ALTER TABLE requests ENABLE TRIGGER requests_final_is_final');
  }
}

it.each([
  ['no creation time', 'created_at = NULL', /created_at is missing \(NULL\)/],
  ['an infinite creation time', "created_at = 'infinity'", /created_at is /],
  ['a deadline out of range', "deadline = '290000-01-01'", /deadline is /],
  ['an infinite completion time', "completed_at = 'infinity'", /completed_at is /],
  ['no facts', 'facts = NULL', /facts is missing \(NULL\)/],
  ['facts of another shape', "facts = '[]'::jsonb", /facts is a list/],
  ['a decision of another shape', `decision = '"approved"'::jsonb`, /decision is &quot;approved&quot;/],
])('a request edited to hold %s is listed, and its page names what is wrong, to its readers only', async (_, change, field) => {
  await withEditedRequest(change, async (id) => {
    const list = await bob.get('/dashboard/requests?action=publish-docs');
    expect(list.status).toBe(200);
    expect(list.text).toContain(`/dashboard/requests/${id}`);
    for (const path of ['/dashboard/', '/dashboard/audit', '/dashboard/audit/export.csv']) expect([path, (await bob.get(path)).status]).toEqual([path, 200]);
    const page = await bob.get(`/dashboard/requests/${id}`);
    expect(page.status).toBe(500);
    expect(page.text).toMatch(new RegExp(`Request ${id} of acme/web cannot be shown: its stored record holds what the App never writes \\([^)]*${field.source}`));
    expect(page.text).not.toContain('Something went wrong');
  });
});

it('a damaged request of a repository the viewer cannot read is as absent as one that does not exist', async () => {
  await withEditedRequest('created_at = NULL', async (id) => {
    const hidden = await bob.get(`/dashboard/requests/${id}`);
    const missing = await bob.get('/dashboard/requests/00000000-0000-4000-8000-000000000000');
    expect(hidden.status).toBe(404);
    expect(hidden.text).toBe(missing.text);
  }, OTHER_REPO);
});

it('a request of a repository the viewer cannot read is as absent as one that does not exist, whatever of its records was changed', async () => {
  const { body } = await world.open(job({ repository: OTHER_REPO }), { action: 'publish-docs' });
  const id = body.id as string;
  // A vote the App never writes (a time out of range): reading the request fails on it, not on the request's own row.
  await database.query(`INSERT INTO votes (request_id, login, choice, note, via, facts, at) VALUES ($1, 'mallory', 'approve', '', 'comment', '{}', 'infinity')`, [id]);
  try {
    const hidden = await bob.get(`/dashboard/requests/${id}`);
    const missing = await bob.get('/dashboard/requests/00000000-0000-4000-8000-000000000000');
    expect(hidden.status).toBe(404);
    expect(hidden.text).toBe(missing.text);
  } finally {
    await database.query('DELETE FROM votes WHERE request_id = $1', [id]);
  }
});

it('the request list goes on from the last row of a page with a valid time, when the page ends on one changed to hold none', async () => {
  const { body } = await world.open(job({ actor: 'carol' }), { action: 'publish-docs' });
  // 50 copies of it, each a second older than the one before, as rows written outside the App.
  const { rows: copies } = await database.query<{ id: string }>(
    `INSERT INTO requests SELECT (jsonb_populate_record(NULL::requests, to_jsonb(r) || jsonb_build_object(
       'id', gen_random_uuid(), 'run_id', r.run_id * 1000 + n, 'check_run_id', NULL, 'created_at', r.created_at - make_interval(secs => n)))).*
     FROM requests r, generate_series(1, 50) n WHERE r.id = $1 RETURNING id`,
    [body.id],
  );
  // The two oldest changed to sort last: the first page of 50 ends on one of them.
  const changed = copies.slice(-2).map((c) => c.id);
  await database.query('ALTER TABLE requests DISABLE TRIGGER requests_final_is_final');
  await database.query(`UPDATE requests SET created_at = '-infinity' WHERE id = ANY($1::uuid[])`, [changed]);
  try {
    const page = await bob.get('/dashboard/requests?requester=carol');
    expect(page.status).toBe(200);
    const next = /href="([^"]*\/dashboard\/requests\?[^"]*after=[^"]*)"/.exec(page.text)?.[1]?.replaceAll('&amp;', '&');
    expect(next).toBeDefined();
    const later = await bob.get(next!.slice(next!.indexOf('/dashboard/')));
    expect(later.status).toBe(200);
    for (const id of changed) expect(later.text).toContain(`/dashboard/requests/${id}`);
  } finally {
    await database.query('DELETE FROM requests WHERE id = ANY($1::uuid[])', [copies.map((c) => c.id)]);
    await database.query('ALTER TABLE requests ENABLE TRIGGER requests_final_is_final');
  }
});
