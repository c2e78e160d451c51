/**
 * What both glob dialects compile to: a sequence of nodes that must match the whole value. Each
 * dialect (policies/glob.ts for policy conditions, policies/codeowners/pattern.ts for CODEOWNERS)
 * decides what its wildcards mean in these terms; automaton.ts matches them without backtracking.
 * Characters are Unicode code points, so `?` takes a whole emoji, not half of one.
 */

/** Code points: `ranges` holds inclusive low/high pairs, one after the other; `negated` takes the rest. */
export interface CharSet {
  readonly ranges: readonly number[];
  readonly negated: boolean;
}

export type GlobNode =
  /** These characters, literally. */
  | { readonly kind: 'text'; readonly text: string }
  /** One character of the set. */
  | { readonly kind: 'one'; readonly set: CharSet }
  /** Any number of characters of the set, none included. */
  | { readonly kind: 'many'; readonly set: CharSet }
  /** Any one of the branches (an empty branch matches the empty string: it makes the others optional). */
  | { readonly kind: 'either'; readonly branches: readonly (readonly GlobNode[])[] };

const SLASH = 0x2f;
export const ANY: CharSet = Object.freeze({ ranges: [], negated: true });
export const NOT_SLASH: CharSet = Object.freeze({ ranges: [SLASH, SLASH], negated: true });

export const text = (value: string): GlobNode => ({ kind: 'text', text: value });
export const one = (set: CharSet): GlobNode => ({ kind: 'one', set });
export const many = (set: CharSet): GlobNode => ({ kind: 'many', set });
export const either = (branches: readonly (readonly GlobNode[])[]): GlobNode => ({ kind: 'either', branches });
export const optional = (nodes: readonly GlobNode[]): GlobNode => either([[], nodes]);

export function contains(set: CharSet, codePoint: number): boolean {
  const { ranges } = set;
  for (let i = 0; i < ranges.length; i += 2) {
    if (codePoint >= ranges[i] && codePoint <= ranges[i + 1]) return !set.negated;
  }
  return set.negated;
}
