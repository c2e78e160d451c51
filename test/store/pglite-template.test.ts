import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { openStore } from '../../app/store/index.js';
import { openPgliteDatabase } from '../../app/store/pglite-database.js';
import { buildPgliteTemplate } from '../../app/store/build-pglite-template.js';
import { MIGRATIONS } from '../../app/store/migrations.js';
import { seedFromTemplate } from '../../app/store/pglite-template.js';
import { newRequest } from './store-behaviour.js';

describe('a fresh embedded store made from the template built with the App', () => {
  let scratch: string;
  let template: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'jit-initdb-'));
    template = await buildPgliteTemplate(join(scratch, 'template'));
  }, 120_000);

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  test('a missing directory becomes a copy of the migrated store, and nothing is left beside it', async () => {
    expect(await readFile(join(template, 'PG_VERSION'), 'utf8')).toMatch(/^\d+\n$/);
    const dataDir = join(scratch, 'missing', 'store');
    expect(await seedFromTemplate(dataDir, template)).toBe(true);
    const db = await openPgliteDatabase(dataDir);
    try {
      const applied = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      expect(applied.map((row) => Number(row.version))).toEqual(MIGRATIONS.map((migration) => migration.version));
    } finally {
      await db.close();
    }
    expect((await readdir(join(scratch, 'missing'))).sort()).toEqual(['store']);
  }, 60_000);

  test('an empty directory becomes a store that migrates, keeps requests and reopens', async () => {
    const dataDir = await mkdtemp(join(scratch, 'empty-'));
    expect(await seedFromTemplate(dataDir, template)).toBe(true);
    const start = new Date('2030-01-01T00:00:00Z');
    const first = await openStore({ dataDir, clock: () => start });
    const { request } = await first.createRequest(newRequest({ deadline: new Date(start.getTime() + 3600_000) }));
    await first.close();
    expect(await seedFromTemplate(dataDir, template)).toBe(false);
    const reopened = await openStore({ dataDir, clock: () => start });
    try {
      expect(await reopened.getRequest(request.id)).toEqual(request);
      expect(await reopened.verifyAudit()).toMatchObject({ ok: true, count: 1 });
    } finally {
      await reopened.close();
    }
  }, 60_000);

  test('a directory holding anything is never overwritten', async () => {
    const dataDir = join(scratch, 'occupied');
    await mkdir(dataDir);
    await writeFile(join(dataDir, 'notes.txt'), 'mine');
    expect(await seedFromTemplate(dataDir, template)).toBe(false);
    expect(await readdir(dataDir)).toEqual(['notes.txt']);
  });

  test('a copy cut short is copied again; PG_VERSION, copied last, marks a complete one', async () => {
    const dataDir = join(scratch, 'interrupted');
    await mkdir(join(dataDir, 'base'), { recursive: true });
    await writeFile(join(dataDir, 'postgresql.conf'), '');
    expect(await seedFromTemplate(dataDir, template)).toBe(true);
    expect((await readdir(dataDir)).sort()).toEqual((await readdir(template)).sort());
    expect(await readFile(join(dataDir, 'postgresql.conf'), 'utf8')).toBe(await readFile(join(template, 'postgresql.conf'), 'utf8'));
  });

  test('without a template for the installed PGlite, nothing is seeded', async () => {
    const dataDir = join(scratch, 'untemplated');
    expect(await seedFromTemplate(dataDir, join(scratch, 'no-such-template'))).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
  });
});
