/**
 * Numbered schema migrations, applied in order, each exactly once, tracked in `schema_migrations`.
 * They live in TypeScript rather than .sql files so that a build or bundle always carries them.
 * Never edit a migration that has shipped: add the next number.
 */
import type { Database } from './database.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'requests, votes, deliveries, timers, audit trail',
    sql: `
CREATE TABLE requests (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  repository_id bigint NOT NULL,
  run_id bigint NOT NULL,
  run_attempt integer NOT NULL,
  action text NOT NULL,
  repository text NOT NULL,
  requester text NOT NULL,
  status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'approved', 'rejected', 'timed_out', 'cancelled', 'failed')),
  reason text,
  completed_by text,
  facts jsonb NOT NULL,
  decision jsonb,
  pr_number integer,
  check_run_id bigint,
  check_run_url text,
  comment_id bigint,
  comment_url text,
  issue_number integer,
  issue_url text,
  deadline timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  completed_at timestamptz,
  CONSTRAINT requests_key UNIQUE (repository_id, run_id, run_attempt, action),
  CONSTRAINT requests_final_is_complete CHECK ((status = 'pending') = (completed_at IS NULL))
);
CREATE UNIQUE INDEX requests_check_run ON requests (check_run_id) WHERE check_run_id IS NOT NULL;
CREATE INDEX requests_pr ON requests (repository_id, pr_number) WHERE pr_number IS NOT NULL;
CREATE INDEX requests_issue ON requests (repository_id, issue_number) WHERE issue_number IS NOT NULL;
CREATE INDEX requests_status ON requests (status, created_at);

-- A final request never changes status again, whatever code or person issues the UPDATE.
CREATE FUNCTION requests_final_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status <> 'pending' AND NEW.status IS DISTINCT FROM OLD.status THEN
    RAISE EXCEPTION 'request % is already %', OLD.id, OLD.status;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER requests_final_is_final BEFORE UPDATE ON requests
  FOR EACH ROW EXECUTE FUNCTION requests_final_is_final();

CREATE TABLE votes (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  request_id uuid NOT NULL REFERENCES requests (id),
  login text NOT NULL,
  choice text NOT NULL CHECK (choice IN ('approve', 'reject')),
  note text NOT NULL,
  via text NOT NULL,
  facts jsonb NOT NULL,
  at timestamptz NOT NULL
);
-- One vote per person: GitHub logins are case-insensitive.
CREATE UNIQUE INDEX votes_one_per_person ON votes (request_id, lower(login));

CREATE TABLE webhook_deliveries (
  delivery_id text PRIMARY KEY,
  event text NOT NULL,
  state text NOT NULL CHECK (state IN ('processing', 'done')),
  received_at timestamptz NOT NULL,
  lease_until timestamptz NOT NULL,
  attempts integer NOT NULL
);

CREATE TABLE timers (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind text NOT NULL,
  request_id uuid REFERENCES requests (id),
  key text UNIQUE,
  due_at timestamptz NOT NULL,
  payload jsonb NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  claim_token uuid,
  lease_until timestamptz,
  created_at timestamptz NOT NULL
);
CREATE INDEX timers_due ON timers (due_at);
CREATE INDEX timers_request ON timers (request_id) WHERE request_id IS NOT NULL;

CREATE TABLE audit_events (
  seq bigint PRIMARY KEY CHECK (seq > 0),
  request_id uuid,
  type text NOT NULL,
  actor text NOT NULL,
  at timestamptz NOT NULL,
  facts jsonb NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL
);
CREATE INDEX audit_events_request ON audit_events (request_id, seq);

-- The chain's last seq and hash, updated with every append: deleting rows at the end shows.
CREATE TABLE audit_head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  seq bigint NOT NULL,
  hash text NOT NULL
);
INSERT INTO audit_head (seq, hash) VALUES (0, repeat('0', 64));

-- Append-only: the App never edits or deletes audit rows; the hash chain catches whoever bypasses this.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only';
END $$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
`,
  },
  {
    version: 2,
    name: 'requests belong to one job; approved bases; comment claims; withdrawn votes',
    sql: `
-- A request belongs to one job of one run attempt: two jobs of a run with the same action never share one.
ALTER TABLE requests ADD COLUMN job_key text NOT NULL DEFAULT '';
ALTER TABLE requests DROP CONSTRAINT requests_key;
ALTER TABLE requests ADD CONSTRAINT requests_key UNIQUE (repository_id, run_id, run_attempt, action, job_key);
-- The environment, compared ignoring case as GitHub does; '' for none.
ALTER TABLE requests ADD COLUMN environment_key text NOT NULL DEFAULT '';
-- The commit the request approves: what a later request of the same action and environment is compared with.
ALTER TABLE requests ADD COLUMN commit_sha text;
CREATE INDEX requests_last_approved ON requests (repository_id, action, environment_key, completed_at DESC)
  WHERE status = 'approved';
-- The pending caps count a repository's and a run's waiting requests on every open.
CREATE INDEX requests_pending ON requests (repository_id, run_id, run_attempt) WHERE status = 'pending';

-- A command comment counts at most once, whatever delivery carries it.
CREATE TABLE command_comments (
  repository_id bigint NOT NULL,
  comment_id bigint NOT NULL,
  state text NOT NULL CHECK (state IN ('processing', 'done')),
  received_at timestamptz NOT NULL,
  lease_until timestamptz NOT NULL,
  PRIMARY KEY (repository_id, comment_id)
);

-- A vote made by a comment that is later deleted is withdrawn (while the request is pending).
ALTER TABLE votes ADD COLUMN comment_id bigint;
ALTER TABLE votes ADD COLUMN withdrawn_at timestamptz;
DROP INDEX votes_one_per_person;
CREATE UNIQUE INDEX votes_one_per_person ON votes (request_id, lower(login)) WHERE withdrawn_at IS NULL;
CREATE INDEX votes_comment ON votes (comment_id) WHERE comment_id IS NOT NULL;
`,
  },
  {
    version: 3,
    name: 'the outbox: when the publication of a request on GitHub first started',
    sql: `
-- Set before the first write to GitHub for a request: once set, a publication that finds no check
-- run, comment or issue id in the store looks on GitHub for what an earlier attempt created.
ALTER TABLE requests ADD COLUMN publish_started_at timestamptz;
-- Jobs of the outbox are claimed by kind.
CREATE INDEX timers_kind_due ON timers (kind, due_at);
`,
  },
  {
    version: 4,
    name: 'the dashboard: sessions, and indexes for its filters',
    sql: `
-- A signed-in dashboard user. The cookie holds the session id; only its SHA-256 is kept here, so a
-- copy of the database does not let anyone take over a session.
CREATE TABLE dashboard_sessions (
  id_hash text PRIMARY KEY,
  login text NOT NULL,
  user_id bigint NOT NULL,
  access_token text NOT NULL,
  csrf_token text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX dashboard_sessions_expiry ON dashboard_sessions (expires_at);

-- Pages list requests newest first, within the repositories the viewer can read, by these filters.
CREATE INDEX requests_created ON requests (created_at DESC, id DESC);
CREATE INDEX requests_repository_created ON requests (lower(repository), created_at DESC, id DESC);
CREATE INDEX requests_requester ON requests (lower(requester), created_at DESC);
CREATE INDEX votes_login ON votes (lower(login), request_id);
CREATE INDEX audit_events_at ON audit_events (at);
`,
  },
  {
    version: 5,
    name: 'an index of repository names, for the dashboard\'s list of them',
    sql: `
-- Every dashboard page (and vote) lists the repositories that have requests; with this index that is
-- one index probe per repository rather than a scan of every request.
CREATE INDEX requests_repository ON requests (repository);
`,
  },
  {
    version: 6,
    name: 'statements that travel with the COMMIT: the turn on the cap on pending requests, the audit append\'s refusal',
    sql: `
-- Takes the turn of a creation in its repository on the caps on pending requests, then counts the
-- pending ones (each count stopping one past its cap, and including the new request when
-- itself is 1), and refuses with SQLSTATE MJ001 at a cap. One statement, so that it can travel
-- with the COMMIT and the turn lasts no round trip. A VOLATILE function takes a fresh snapshot for
-- each query in it: the counts, made after the lock, see what the turn's previous holder committed.
CREATE FUNCTION take_pending_turn(of_repository bigint, of_run bigint, of_attempt integer,
                                  repository_cap integer, run_attempt_cap integer, itself integer)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  pending integer;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('pending-requests:' || of_repository::text, 0));
  SELECT count(*) - itself INTO pending FROM (
    SELECT FROM requests r
    WHERE r.repository_id = of_repository AND r.run_id = of_run AND r.run_attempt = of_attempt AND r.status = 'pending'
    LIMIT run_attempt_cap + 1) counted;
  IF pending >= run_attempt_cap THEN
    RAISE EXCEPTION USING ERRCODE = 'MJ001', MESSAGE = 'pending requests at the cap of a run attempt',
      DETAIL = json_build_object('scope', 'run_attempt', 'pending', pending)::text;
  END IF;
  SELECT count(*) - itself INTO pending FROM (
    SELECT FROM requests r WHERE r.repository_id = of_repository AND r.status = 'pending' LIMIT repository_cap + 1) counted;
  IF pending >= repository_cap THEN
    RAISE EXCEPTION USING ERRCODE = 'MJ001', MESSAGE = 'pending requests at the cap of a repository',
      DETAIL = json_build_object('scope', 'repository', 'pending', pending)::text;
  END IF;
END
$$;

-- The audit append's answer when the chain's head is missing: an error, so that the transaction it
-- ends is not committed past a tampered trail.
CREATE FUNCTION refuse_audit_append(message text) RETURNS json LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'MJ002', MESSAGE = message;
END
$$;
`,
  },
  {
    version: 7,
    name: 'pending requests counted per repository as they change, for the cap',
    sql: `
-- The cap on a repository's pending requests reads this count instead of counting them: a
-- repository may hold thousands, and every new request would count them all.
CREATE TABLE pending_request_counts (
  repository_id bigint PRIMARY KEY,
  pending integer NOT NULL CHECK (pending >= 0)
);
INSERT INTO pending_request_counts (repository_id, pending)
  SELECT repository_id, count(*) FROM requests WHERE status = 'pending' GROUP BY repository_id;

CREATE FUNCTION count_pending_request_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.status = 'pending' THEN
    UPDATE pending_request_counts SET pending = pending - 1 WHERE repository_id = OLD.repository_id;
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.status = 'pending' THEN
    INSERT INTO pending_request_counts AS c (repository_id, pending) VALUES (NEW.repository_id, 1)
      ON CONFLICT (repository_id) DO UPDATE SET pending = c.pending + 1;
  END IF;
  RETURN NULL;
END
$$;

-- Deferred to the COMMIT, so that the count's row is locked only while the transaction commits (it
-- travels with the COMMIT, after the audit append, whose lock every change of status takes first),
-- never across a round trip to the App. Each event carries its own row images, so a transaction's
-- changes add up however many there are. Until then a transaction's own changes are not in the count.
CREATE CONSTRAINT TRIGGER requests_count_pending
  AFTER INSERT OR DELETE OR UPDATE OF status, repository_id ON requests
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION count_pending_request_change();

-- As before, but the repository's count is read, not made; a transaction's own new request is not
-- in it yet (the count changes at the COMMIT), so it is not taken off.
CREATE OR REPLACE FUNCTION take_pending_turn(of_repository bigint, of_run bigint, of_attempt integer,
                                             repository_cap integer, run_attempt_cap integer, itself integer)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  pending integer;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('pending-requests:' || of_repository::text, 0));
  SELECT count(*) - itself INTO pending FROM (
    SELECT FROM requests r
    WHERE r.repository_id = of_repository AND r.run_id = of_run AND r.run_attempt = of_attempt AND r.status = 'pending'
    LIMIT run_attempt_cap + 1) counted;
  IF pending >= run_attempt_cap THEN
    RAISE EXCEPTION USING ERRCODE = 'MJ001', MESSAGE = 'pending requests at the cap of a run attempt',
      DETAIL = json_build_object('scope', 'run_attempt', 'pending', pending)::text;
  END IF;
  SELECT COALESCE((SELECT c.pending FROM pending_request_counts c WHERE c.repository_id = of_repository), 0) INTO pending;
  IF pending >= repository_cap THEN
    RAISE EXCEPTION USING ERRCODE = 'MJ001', MESSAGE = 'pending requests at the cap of a repository',
      DETAIL = json_build_object('scope', 'repository', 'pending', pending)::text;
  END IF;
END
$$;
`,
  },
  {
    version: 8,
    name: 'comments edited into a command',
    sql: `
-- GitHub's timestamps have whole seconds, so a comment edited in the second it was written lists as
-- never edited: the edit's webhook is what tells the reconciler not to count it.
CREATE TABLE edited_comments (
  repository_id bigint NOT NULL,
  comment_id bigint NOT NULL,
  edited_at timestamptz NOT NULL,
  PRIMARY KEY (repository_id, comment_id)
);
`,
  },
  {
    version: 9,
    name: 'handled marks forgotten by age',
    sql: `
-- Handled marks are forgotten once old (see pruneHandledMarks); the requests that ended lately are read each reconcile round.
CREATE INDEX webhook_deliveries_received ON webhook_deliveries (received_at);
CREATE INDEX command_comments_received ON command_comments (received_at);
CREATE INDEX edited_comments_edited ON edited_comments (edited_at);
CREATE INDEX requests_completed ON requests (completed_at) WHERE completed_at IS NOT NULL;
`,
  },
  {
    version: 10,
    name: 'the dashboard\'s lists by repository id',
    sql: `
-- The dashboard's lists are cut to the repositories a viewer can read by their ids, not their names
-- (an old name may since be another repository's): the index by name is no longer read.
CREATE INDEX requests_repository_id_created ON requests (repository_id, created_at DESC, id DESC);
DROP INDEX requests_repository_created;
`,
  },
  {
    version: 11,
    name: 'deleted command comments',
    // A comment deleted before its creation was handled: its creation may then still reject, never approve.
    sql: `
ALTER TABLE command_comments DROP CONSTRAINT command_comments_state_check;
ALTER TABLE command_comments ADD CONSTRAINT command_comments_state_check CHECK (state IN ('processing', 'done', 'deleted'));
`,
  },
  {
    version: 12,
    name: 'check runs created twice',
    // Two publications racing (two replicas) may each create a check run: the one not stored as the request's is shown the same.
    sql: `
ALTER TABLE requests ADD COLUMN other_check_run_ids bigint[] NOT NULL DEFAULT '{}';
`,
  },
];

/** Schema names become part of identifiers and of the notification channel, so keep them plain. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,39}$/;

export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid schema name "${schema}": use 1-40 lower-case letters, digits or _, not starting with a digit`);
  }
}

/** The store's schema will not do for this release; the database is left as it was. */
export class SchemaRefused extends Error {}

/**
 * Applies the missing migrations in one transaction under an advisory lock, so several replicas
 * starting at once apply each migration exactly once and none starts on a half-migrated schema.
 * Returns the versions it applied.
 */
export async function migrate(db: Database, schema: string | undefined): Promise<number[]> {
  if (schema) assertSchemaName(schema);
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`mercurial-jit migrate ${schema ?? ''}`]);
    if (schema) await tx.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const rows = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((row) => Number(row.version)));
    // A newer release migrated this database: this one's idea of the schema is out of date, and
    // writing with it could lose or corrupt what the newer one keeps. Refused before anything changes.
    const known = new Set(MIGRATIONS.map((migration) => migration.version));
    const unknown = [...applied].filter((version) => !known.has(version));
    if (unknown.length > 0) {
      const latest = Math.max(...known);
      throw new SchemaRefused(
        `the database's schema is at migration ${Math.max(...unknown)}, newer than this release of the App knows (${latest}): ` +
          'run the release that migrated it, or a newer one',
      );
    }
    const missing = MIGRATIONS.filter((migration) => !applied.has(migration.version));
    for (const migration of missing) {
      try {
        await tx.exec(migration.sql);
        await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      } catch (err) {
        // Rolled back with the transaction: no migration of this start is kept.
        throw new SchemaRefused(
          `migration ${migration.version} (${migration.name}) failed, and the database was left as it was: ${(err as Error).message}`,
          { cause: err },
        );
      }
    }
    return missing.map((migration) => migration.version);
  });
}
