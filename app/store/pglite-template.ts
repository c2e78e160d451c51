/**
 * A fresh embedded store starts as a copy of one made at build time. Opening an empty directory,
 * PGlite runs initdb (about 10 s of WebAssembly, with a second PostgreSQL instance alive meanwhile:
 * several hundred MB), then the App applies its migrations; both depend only on the PGlite release
 * and the migrations, so `npm run build` does them once (app/store/build-pglite-template.ts), into
 * build/pglite-template/<PGlite version>-m<latest migration>/. Every start still runs the
 * migrations, which find nothing to apply in a copy, and apply what an older copy lacks. Without a
 * template for the installed PGlite (run from source, or PGlite upgraded since the build), PGlite
 * runs initdb itself, as before.
 */
import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { constants, existsSync, type Dirent } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MIGRATIONS } from './migrations.js';

/** Where the template for the installed PGlite and these migrations lives (whether or not it was built). */
export async function pgliteTemplateDir(): Promise<string> {
  const latest = Math.max(...MIGRATIONS.map((migration) => migration.version));
  return join(packageRoot(), 'build', 'pglite-template', `${await pgliteVersion()}-m${latest}`);
}

/**
 * Fills an empty or missing `dataDir` with a copy of the template; returns whether it did. PG_VERSION,
 * which makes a directory a cluster to PostgreSQL, is copied last: a start killed during the copy leaves
 * only the template's own files, which the next start copies again. A directory holding anything else is
 * left to PGlite (it opens a cluster as it is, and its initdb refuses a directory that is not empty).
 */
export async function seedFromTemplate(dataDir: string, template?: string): Promise<boolean> {
  template ??= await pgliteTemplateDir();
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

/**
 * A cluster is about a thousand small files: copied all at once, in a third of the time `fs.cp` takes one
 * by one (and shared until written, on a file system that can clone).
 */
async function copyTree(from: string, to: string, include: (path: string) => boolean): Promise<void> {
  const entries = (await readdir(from, { withFileTypes: true, recursive: true })).filter((entry) => include(relative(from, join(entry.parentPath, entry.name))));
  const target = (entry: Dirent) => join(to, relative(from, entry.parentPath), entry.name);
  await mkdir(to, { recursive: true });
  for (const dir of entries.filter((entry) => entry.isDirectory())) await mkdir(target(dir), { recursive: true });
  await Promise.all(entries.filter((entry) => entry.isFile()).map((file) => copyFile(join(file.parentPath, file.name), target(file), constants.COPYFILE_FICLONE)));
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
