/**
 * PGlite runs initdb the first time it opens an empty directory: about 10 s of WebAssembly, with a
 * second PostgreSQL instance alive meanwhile (several hundred MB). The result depends only on the
 * PGlite release, so `npm run build` runs it once, into build/pglite-initdb/<PGlite version>/, and an
 * empty data directory starts as a copy of that cluster. The copy holds no table of ours: the
 * migrations still run at every start, as they do on PostgreSQL. Without a template for the
 * installed PGlite (run from source, or PGlite upgraded since the build), PGlite runs initdb itself.
 *
 * `node build/app/store/pglite-initdb.js` builds the template (the `build` script runs it).
 */
import { copyFile, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { existsSync, type Dirent } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PGlite } from '@electric-sql/pglite';

/** Where the template for the installed PGlite lives (whether or not it was built). */
export async function initdbTemplateDir(): Promise<string> {
  return join(packageRoot(), 'build', 'pglite-initdb', await pgliteVersion());
}

/**
 * Fills an empty or missing `dataDir` with a copy of the template; returns whether it did. PG_VERSION,
 * which makes a directory a cluster to PostgreSQL, is copied last: a start killed during the copy leaves
 * only the template's own files, which the next start copies again. A directory holding anything else is
 * left to PGlite (it opens a cluster as it is, and its initdb refuses a directory that is not empty).
 */
export async function seedFromInitdbTemplate(dataDir: string, template?: string): Promise<boolean> {
  template ??= await initdbTemplateDir();
  if (!existsSync(join(template, 'PG_VERSION'))) return false;
  const entries = await readdir(dataDir).catch((err: NodeJS.ErrnoException): string[] => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  if (entries.includes('PG_VERSION')) return false;
  const ours = new Set(await readdir(template));
  if (!entries.every((entry) => ours.has(entry))) return false;
  // Copied into place rather than renamed: the data directory may be a mounted volume.
  await copyTree(template, dataDir, (path) => path !== 'PG_VERSION');
  await copyFile(join(template, 'PG_VERSION'), join(dataDir, 'PG_VERSION'));
  return true;
}

/** A cluster is about a thousand small files: copied all at once, in a third of the time `fs.cp` takes one by one. */
async function copyTree(from: string, to: string, include: (path: string) => boolean): Promise<void> {
  const entries = (await readdir(from, { withFileTypes: true, recursive: true })).filter((entry) => include(relative(from, join(entry.parentPath, entry.name))));
  const target = (entry: Dirent) => join(to, relative(from, entry.parentPath), entry.name);
  await mkdir(to, { recursive: true });
  for (const dir of entries.filter((entry) => entry.isDirectory())) await mkdir(target(dir), { recursive: true });
  await Promise.all(entries.filter((entry) => entry.isFile()).map((file) => copyFile(join(file.parentPath, file.name), target(file))));
}

/** Runs PGlite's own initdb into the template directory (replacing an older one for the same release). */
export async function buildInitdbTemplate(template?: string): Promise<string> {
  template ??= await initdbTemplateDir();
  const staging = `${template}.building-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(dirname(staging), { recursive: true });
  const db = await PGlite.create(staging);
  await db.close();
  await rm(template, { recursive: true, force: true });
  await rename(staging, template);
  return template;
}

/** The directory holding package.json: the repository, or the installed App (build/ sits beside it). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

async function pgliteVersion(): Promise<string> {
  // PGlite's exports leave out its package.json; it sits above the resolved entry point's dist/.
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const manifest = JSON.parse(await readFile(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version?: unknown };
  if (typeof manifest.version !== 'string' || !/^[0-9A-Za-z.+-]+$/.test(manifest.version)) throw new Error(`@electric-sql/pglite: unreadable version in ${entry}/../package.json`);
  return manifest.version;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const template = await initdbTemplateDir();
  if (existsSync(join(template, 'PG_VERSION'))) process.stdout.write(`PGlite initdb template: ${template} (already built)\n`);
  else process.stdout.write(`PGlite initdb template: ${await buildInitdbTemplate(template)}\n`);
}
