/**
 * Finds the last rule whose pattern matches a path without testing most rules.
 *
 * Every pattern is filed under a key that all the paths it matches share (see pattern.ts `IndexKey`):
 * a trie node for its literal leading segments and, below that node, optionally a bucket for a
 * later literal segment or extension. A path walks the trie along its own segments and, at each node
 * it reaches, looks up its remaining segments and their extensions; the rules in those buckets are
 * its only candidates. The last matching rule overall is the highest-numbered match over the buckets,
 * so each bucket is scanned from its end and only down to the best match found so far.
 * A key is only a necessary condition: the pattern always decides, so the index skips rules but
 * never changes a result. Patterns are compared by identity: parse.ts compiles each distinct text once.
 */
import type { CompiledPattern } from './pattern.js';

interface TrieNode {
  /** Rule numbers, ascending, of rules filed here without a segment or extension. */
  rules: number[];
  children: Map<string, TrieNode>;
  bySegment?: Map<string, number[]>;
  byExtension?: Map<string, number[]>;
}

const newNode = (): TrieNode => ({ rules: [], children: new Map() });

export class RuleIndex {
  private readonly root = newNode();

  constructor(private readonly patterns: readonly CompiledPattern[]) {
    // A rule whose pattern (the same compiled object) recurs later can never be the last match:
    // the later one matches the same paths. Leaving it out saves testing it.
    const shadowed = new Set<number>();
    const later = new Set<CompiledPattern>();
    for (let rule = patterns.length - 1; rule >= 0; rule--) {
      if (later.has(patterns[rule])) shadowed.add(rule);
      else later.add(patterns[rule]);
    }
    patterns.forEach(({ key }, rule) => {
      if (shadowed.has(rule)) return;
      let node = this.root;
      for (const segment of key.prefix) {
        let child = node.children.get(segment);
        if (!child) node.children.set(segment, (child = newNode()));
        node = child;
      }
      if (key.segment !== undefined) append((node.bySegment ??= new Map()), key.segment, rule);
      else if (key.extension !== undefined) append((node.byExtension ??= new Map()), key.extension, rule);
      else node.rules.push(rule);
    });
  }

  /** The number of the last rule matching `path`, or -1. */
  lastMatch(path: string): number {
    const segments = path.split('/');
    // A path may repeat a segment or an extension: each bucket is worth scanning once.
    const scanned: number[][] = [];
    let best = -1;
    let node: TrieNode | undefined = this.root;
    for (let depth = 0; node; node = node.children.get(segments[depth++])) {
      best = this.scan(node.rules, path, best);
      const { bySegment, byExtension } = node;
      if (!bySegment && !byExtension) continue;
      for (let i = depth; i < segments.length; i++) {
        const segment = segments[i];
        const bucket = bySegment?.get(segment);
        if (bucket && !scanned.includes(bucket)) {
          scanned.push(bucket);
          best = this.scan(bucket, path, best);
        }
        const dot = byExtension ? segment.lastIndexOf('.') : -1;
        const byExt = dot >= 0 ? byExtension?.get(segment.slice(dot)) : undefined;
        if (byExt && !scanned.includes(byExt)) {
          scanned.push(byExt);
          best = this.scan(byExt, path, best);
        }
      }
    }
    return best;
  }

  /** The highest rule in `bucket` above `best` that matches, else `best`. */
  private scan(bucket: readonly number[], path: string, best: number): number {
    for (let i = bucket.length - 1; i >= 0; i--) {
      const rule = bucket[i];
      if (rule <= best) break;
      if (this.patterns[rule].matches(path)) return rule;
    }
    return best;
  }
}

function append(buckets: Map<string, number[]>, key: string, rule: number): void {
  const bucket = buckets.get(key);
  if (bucket) bucket.push(rule);
  else buckets.set(key, [rule]);
}
