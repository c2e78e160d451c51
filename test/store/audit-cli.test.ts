import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import pg from 'pg';
import { auditCommand } from '../../app/cli/audit.js';
import { openStore } from '../../app/store/index.js';
import { openPgliteDatabase } from '../../app/store/pglite-database.js';
import { dropSchema, POSTGRES_URL, randomSchema } from './harness.js';

async function run(argv: string[], cwd = process.cwd()): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await auditCommand(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), cwd });
  return { code, stdout, stderr };
}

async function appendEvents(options: Parameters<typeof openStore>[0], count: number): Promise<void> {
  const store = await openStore(options);
  try {
    for (let i = 0; i < count; i++) await store.appendAudit({ type: 'notification_attempt', actor: 'app', facts: { i } });
  } finally {
    await store.close();
  }
}

describe('mercurial-jit audit: usage', () => {
  test.each([[[]], [['frobnicate']], [['verify', 'extra']], [['verify', '--bogus']]])('%j is a usage error (exit 2)', async (argv) => {
    const result = await run(argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Usage: mercurial-jit audit verify');
    expect(result.stdout).toBe('');
  });

  test('--help prints usage and exits 0', async () => {
    const result = await run(['--help']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain('--data-dir DIR');
  });

  test('a data directory without a store is not reported intact', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'jit-empty-'));
    try {
      const result = await run(['verify', '--data-dir', empty]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`no store in ${empty}`);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('mercurial-jit audit verify on the embedded store', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'jit-audit-'));
    await appendEvents({ dataDir }, 3);
  }, 60_000);
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  test('an intact trail exits 0; an edited row exits 1 naming it', async () => {
    const intact = await run(['verify', '--data-dir', basename(dataDir)], dirname(dataDir));
    expect(intact).toMatchObject({ code: 0, stderr: '' });
    expect(intact.stdout).toMatch(/^audit trail intact: 3 events, head sha256 [0-9a-f]{64}\n$/);

    const db = await openPgliteDatabase(dataDir);
    await db.exec('ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only');
    await db.query(`UPDATE audit_events SET actor = 'mallory' WHERE seq = 2`);
    await db.close();

    const tampered = await run(['verify', '--data-dir', dataDir]);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain('audit trail TAMPERED: first bad row is seq 2: hash mismatch');
    expect(tampered.stdout).toContain('(1 events before it verified)');
  }, 60_000);
});

describe('mercurial-jit audit verify on PostgreSQL', () => {
  const schema = randomSchema();
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, options: `-c search_path=${schema}`, max: 1 });
  beforeAll(async () => {
    await appendEvents({ databaseUrl: POSTGRES_URL, schema }, 4);
  });
  afterAll(async () => {
    await dropSchema(pool, schema);
    await pool.end();
  });

  test('an intact trail exits 0, with the URL from --database-url or DATABASE_URL', async () => {
    const flagged = await run(['verify', '--database-url', POSTGRES_URL, '--schema', schema]);
    expect(flagged.code).toBe(0);
    expect(flagged.stdout).toContain('audit trail intact: 4 events');

    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = POSTGRES_URL;
    try {
      expect(await run(['verify', '--schema', schema])).toMatchObject({ code: 0, stdout: flagged.stdout });
    } finally {
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
    }
  });

  test('a trail rewritten with its head passes alone, and fails against a head kept from before', async () => {
    const before = await run(['verify', '--database-url', POSTGRES_URL, '--schema', schema]);
    const hash = /head sha256 ([0-9a-f]{64})/.exec(before.stdout)![1];
    // Whoever can write the database deletes the last event and sets the head back to the one before it.
    await pool.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only');
    const { rows } = await pool.query<{ seq: string; hash: string; payload: unknown }>('DELETE FROM audit_events WHERE seq = 4 RETURNING *');
    await pool.query('UPDATE audit_head SET seq = 3, hash = (SELECT hash FROM audit_events WHERE seq = 3)');
    expect((await run(['verify', '--database-url', POSTGRES_URL, '--schema', schema])).code).toBe(0);
    const cut = await run(['verify', '--database-url', POSTGRES_URL, '--schema', schema, '--expect-head', `4:${hash}`]);
    expect(cut.code).toBe(1);
    expect(cut.stdout).toMatch(/first bad row is seq 4: the chain ends at seq 3, before seq 4 of the head expected/);
    // Put back as it was (the row and the head), it holds the head again; a head of another hash at seq 3 does not.
    await pool.query('INSERT INTO audit_events SELECT * FROM json_populate_record(NULL::audit_events, $1)', [JSON.stringify(rows[0])]);
    await pool.query('UPDATE audit_head SET seq = 4, hash = $1', [hash]);
    expect((await run(['verify', '--database-url', POSTGRES_URL, '--schema', schema, '--expect-head', `4:${hash}`])).code).toBe(0);
    const other = await run(['verify', '--database-url', POSTGRES_URL, '--schema', schema, '--expect-head', `3:${'0'.repeat(64)}`]);
    expect(other.code).toBe(1);
    expect(other.stdout).toMatch(/first bad row is seq 3: hash [0-9a-f]{64} is not the 0{64} expected of seq 3: the trail up to it was rewritten/);
  });

  test.each(['4', '4:abc', 'x:' + 'a'.repeat(64), '0:' + 'a'.repeat(64)])('--expect-head %s is a usage error (exit 2)', async (head) => {
    const result = await run(['verify', '--database-url', POSTGRES_URL, '--schema', schema, '--expect-head', head]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--expect-head: expected N:HASH');
  });

  test('a row edited to hold what the App never writes exits 1 naming the row and the field', async () => {
    await pool.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only');
    const { rows } = await pool.query<{ at: Date }>(`UPDATE audit_events a SET at = 'infinity' FROM audit_events b WHERE a.seq = 2 AND b.seq = 2 RETURNING b.at`);
    try {
      const result = await run(['verify', '--database-url', POSTGRES_URL, '--schema', schema]);
      expect(result).toMatchObject({ code: 1, stderr: '' });
      expect(result.stdout).toMatch(/^audit trail TAMPERED: first bad row is seq 2: its time \(at\) is .*, which the App never writes: the row was edited/);
      expect(result.stdout).toContain('(1 events before it verified)');
    } finally {
      await pool.query('UPDATE audit_events SET at = $1 WHERE seq = 2', [rows[0].at]);
      await pool.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only');
    }
    expect((await run(['verify', '--database-url', POSTGRES_URL, '--schema', schema])).code).toBe(0);
  });

  test('a row deleted from the end exits 1', async () => {
    await pool.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only');
    await pool.query('DELETE FROM audit_events WHERE seq = 4');
    const result = await run(['verify', '--database-url', POSTGRES_URL, '--schema', schema]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/first bad row is seq 4: .*deleted from the end/);
  });

  test('a database without a store cannot be verified (exit 1), and is left untouched', async () => {
    const missing = randomSchema();
    const result = await run(['verify', '--database-url', POSTGRES_URL, '--schema', missing]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot verify the audit trail');
    const { rows } = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [missing]);
    expect(rows).toEqual([]);
  });
});
