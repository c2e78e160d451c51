/**
 * The embedded database is one process's: PGlite has no guard of its own, and two processes writing
 * one directory (two replicas on a shared volume, `audit verify` beside a running App) would corrupt
 * it. A lock file in the directory names the process that holds it.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export const LOCK_FILE = 'mercurial-jit.pid';

/** Takes the directory's lock, or throws naming the process that holds it; resolves to its release. */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return () => releaseLock(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = await lockHolder(path);
      if (holder !== undefined && holder !== process.pid && isRunning(holder)) {
        throw new Error(
          `the embedded database in ${dataDir} is in use by another process (pid ${holder}), and only one may open it: ` +
            `stop that process first, or use DATABASE_URL for more than one replica (if no such process runs, delete ${path})`,
        );
      }
      // Left by a process that is gone, or by this one before a restart in place: taken over.
      await unlink(path).catch(() => undefined);
    }
  }
  throw new Error(`could not take the lock ${path}: another process keeps taking it`);
}

async function lockHolder(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/** Only a lock that still names this process is removed: one taken over since is another's. */
async function releaseLock(path: string): Promise<void> {
  if ((await lockHolder(path)) === process.pid) await unlink(path).catch(() => undefined);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
