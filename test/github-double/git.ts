/** Git-like object model: real blob SHAs, deterministic commit SHAs, tree diffs and ancestry. */
import { createHash } from 'node:crypto';
import type { Commit } from './types.js';

export function blobSha(content: string): string {
  const bytes = Buffer.from(content, 'utf8');
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

export function commitSha(parts: { parents: string[]; message: string; author: string; files: Map<string, string>; salt: string }): string {
  const tree = [...parts.files.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([p, c]) => `${p}\0${blobSha(c)}`);
  return createHash('sha1')
    .update(JSON.stringify([parts.salt, parts.parents, parts.message, parts.author, tree]))
    .digest('hex');
}

export interface FileChange {
  filename: string;
  status: 'added' | 'removed' | 'modified';
  sha: string;
  additions: number;
  deletions: number;
  patch: string;
}

function lines(text: string): string[] {
  return text === '' ? [] : text.replace(/\n$/, '').split('\n');
}

/** Whole-file patch: every old line removed, every new line added (GitHub computes a minimal diff). */
function wholeFilePatch(before: string[], after: string[]): string {
  const header = `@@ -${before.length ? 1 : 0},${before.length} +${after.length ? 1 : 0},${after.length} @@`;
  return [header, ...before.map((l) => `-${l}`), ...after.map((l) => `+${l}`)].join('\n');
}

export function diffTrees(base: Map<string, string>, head: Map<string, string>): FileChange[] {
  const paths = new Set([...base.keys(), ...head.keys()]);
  const changes: FileChange[] = [];
  for (const filename of [...paths].sort()) {
    const before = base.get(filename);
    const after = head.get(filename);
    if (before === after) continue;
    const oldLines = before === undefined ? [] : lines(before);
    const newLines = after === undefined ? [] : lines(after);
    changes.push({
      filename,
      status: before === undefined ? 'added' : after === undefined ? 'removed' : 'modified',
      sha: blobSha(after ?? before ?? ''),
      additions: newLines.length,
      deletions: oldLines.length,
      patch: wholeFilePatch(oldLines, newLines),
    });
  }
  return changes;
}

/** Commits reachable from `head` (head first, parents breadth-first). */
export function ancestry(commits: Map<string, Commit>, head: string): Commit[] {
  const seen = new Set<string>();
  const order: Commit[] = [];
  const queue = [head];
  while (queue.length) {
    const sha = queue.shift() as string;
    if (seen.has(sha)) continue;
    seen.add(sha);
    const commit = commits.get(sha);
    if (!commit) continue;
    order.push(commit);
    queue.push(...commit.parents);
  }
  return order;
}
