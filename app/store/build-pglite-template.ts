/**
 * `node build/app/store/build-pglite-template.js` (the `build` script runs it): the store a fresh data
 * directory starts as (see pglite-template.ts), made the way the App makes one: PGlite's initdb, then
 * the migrations.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { migrate } from './migrations.js';
import { openPgliteDatabase } from './pglite-database.js';
import { pgliteTemplateDir } from './pglite-template.js';

/** Builds the template into `template` (default: where the App looks for it), replacing what is there. */
export async function buildPgliteTemplate(template?: string): Promise<string> {
  template ??= await pgliteTemplateDir();
  const staging = `${template}.building-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(dirname(staging), { recursive: true });
  // No template exists yet for this directory, so PGlite runs its own initdb here.
  const db = await openPgliteDatabase(staging);
  try {
    await migrate(db, undefined);
  } finally {
    await db.close();
  }
  await rm(template, { recursive: true, force: true });
  await rename(staging, template);
  return template;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const template = await pgliteTemplateDir();
  if (existsSync(join(template, 'PG_VERSION'))) process.stdout.write(`PGlite store template: ${template} (already built)\n`);
  else process.stdout.write(`PGlite store template: ${await buildPgliteTemplate(template)}\n`);
}
