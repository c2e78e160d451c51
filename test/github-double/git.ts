/** Git-like object model: real blob SHAs, deterministic commit SHAs, tree diffs and ancestry. */
import { createHash } from 'node:crypto';
import type { Commit } from './types.js';

/**
 * A file's bytes: its text in UTF-8, except that a lone surrogate from U+DC80 to U+DCFF stands for
 * one byte from 0x80 to 0xFF (Python's "surrogateescape"). That is how a test, over JSON, gives a
 * file that is not UTF-8 text, as a repository may hold.
 */
export function fileBytes(content: string): Buffer {
  if (!/[\uDC80-\uDCFF]/.test(content)) return Buffer.from(content, 'utf8');
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < content.length; i++) {
    const code = content.charCodeAt(i);
    const pairedWithPrevious = i > 0 && content.charCodeAt(i - 1) >= 0xd800 && content.charCodeAt(i - 1) <= 0xdbff;
    if (code < 0xdc80 || code > 0xdcff || pairedWithPrevious) continue;
    parts.push(Buffer.from(content.slice(start, i), 'utf8'), Buffer.of(code - 0xdc00));
    start = i + 1;
  }
  parts.push(Buffer.from(content.slice(start), 'utf8'));
  return Buffer.concat(parts);
}

export function blobSha(content: string): string {
  const bytes = fileBytes(content);
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
  status: 'added' | 'removed' | 'modified' | 'renamed';
  /** Set when `status` is `renamed`. */
  previousFilename?: string;
  sha: string;
  additions: number;
  deletions: number;
  /** Absent for a rename that kept the content, as on GitHub. */
  patch?: string;
}

function lines(text: string): string[] {
  return text === '' ? [] : text.replace(/\n$/, '').split('\n');
}

/** Whole-file patch: every old line removed, every new line added (GitHub computes a minimal diff). */
function wholeFilePatch(before: string[], after: string[]): string {
  const header = `@@ -${before.length ? 1 : 0},${before.length} +${after.length ? 1 : 0},${after.length} @@`;
  return [header, ...before.map((l) => `-${l}`), ...after.map((l) => `+${l}`)].join('\n');
}

/** Git's default rename threshold: at least half of the content carried over. */
const RENAME_SIMILARITY = 0.5;
/** Git skips inexact rename detection past this many candidate files (`diff.renameLimit`). */
const RENAME_LIMIT = 1000;

/** Share of `before`'s and `after`'s bytes in lines they have in common (git scores similarity by copied content). */
function similarity(before: string, after: string): number {
  const size = Math.max(Buffer.byteLength(before), Buffer.byteLength(after));
  const remaining = new Map<string, number>();
  for (const line of before.split(/(?<=\n)/)) remaining.set(line, (remaining.get(line) ?? 0) + 1);
  let shared = 0;
  for (const line of after.split(/(?<=\n)/)) {
    const left = remaining.get(line) ?? 0;
    if (left > 0) {
      remaining.set(line, left - 1);
      shared += Buffer.byteLength(line);
    }
  }
  return shared / size;
}

/** Pairs removed and added paths into renames (new path → old path): identical content first, then the most similar. */
function detectRenames(base: Map<string, string>, head: Map<string, string>, removed: string[], added: string[]): Map<string, string> {
  const renames = new Map<string, string>();
  const used = new Set<string>();
  // Empty files carry nothing over, so git never pairs them.
  const removedByContent = new Map<string, string[]>();
  for (const path of removed) {
    const content = base.get(path) as string;
    if (content !== '') removedByContent.set(content, [...(removedByContent.get(content) ?? []), path]);
  }
  for (const to of added) {
    const from = removedByContent.get(head.get(to) as string)?.shift();
    if (from === undefined) continue;
    renames.set(to, from);
    used.add(from);
  }
  const sources = removed.filter((path) => !used.has(path) && base.get(path) !== '');
  const targets = added.filter((path) => !renames.has(path) && head.get(path) !== '');
  if (Math.max(sources.length, targets.length) > RENAME_LIMIT) return renames;
  const scored = targets.flatMap((to) => sources.map((from) => ({ from, to, score: similarity(base.get(from) as string, head.get(to) as string) })))
    .filter((pair) => pair.score >= RENAME_SIMILARITY)
    .sort((a, b) => b.score - a.score || (a.to < b.to ? -1 : 1));
  for (const { from, to } of scored) {
    if (used.has(from) || renames.has(to)) continue;
    renames.set(to, from);
    used.add(from);
  }
  return renames;
}

/** The changes from `base` to `head`, sorted by path, with renames detected as git does by default. */
export function diffTrees(base: Map<string, string>, head: Map<string, string>): FileChange[] {
  const removed = [...base.keys()].filter((path) => !head.has(path)).sort();
  const added = [...head.keys()].filter((path) => !base.has(path)).sort();
  const renames = detectRenames(base, head, removed, added);
  const renamedFrom = new Set(renames.values());
  const changes: FileChange[] = [];
  for (const filename of [...new Set([...base.keys(), ...head.keys()])].sort()) {
    if (renamedFrom.has(filename)) continue;
    const previousFilename = renames.get(filename);
    const before = previousFilename === undefined ? base.get(filename) : base.get(previousFilename);
    const after = head.get(filename);
    if (before === after && previousFilename === undefined) continue;
    const oldLines = before === undefined ? [] : lines(before);
    const newLines = after === undefined ? [] : lines(after);
    const same = before === after;
    changes.push({
      filename,
      status: previousFilename !== undefined ? 'renamed' : before === undefined ? 'added' : after === undefined ? 'removed' : 'modified',
      ...(previousFilename !== undefined ? { previousFilename } : {}),
      sha: blobSha(after ?? before ?? ''),
      additions: same ? 0 : newLines.length,
      deletions: same ? 0 : oldLines.length,
      ...(same ? {} : { patch: wholeFilePatch(oldLines, newLines) }),
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
