/**
 * Matching without backtracking. A pattern's literal start and end (a directory, an extension) are
 * compared as strings; what lies between becomes a Thompson automaton (NFA: one state per literal
 * character or wildcard, plus one split per alternative), run as a DFA built lazily: a DFA state is
 * the set of NFA states the value so far can be in, and each transition is computed once, the first
 * time it is needed, then read from a table.
 *
 * Cost of one match, whatever the pattern and value: each character of the value is one table
 * lookup, or, when that transition is new, one pass over at most every NFA state (each is visited
 * once per pass) plus one table row. So a match takes O(|value| × |pattern|) steps in the worst case
 * and O(|value|) once the transitions it uses are known. Memory stays bounded too: one match adds at
 * most NEW_STATES_PER_MATCH DFA states and then carries on as a plain NFA simulation (same bound, no
 * table), a full table starts over, and at most DFAS_KEPT DFAs are kept. Only patterns whose DFA
 * would be exponential, such as `*a??????????`, get near those limits.
 * `matchingSteps` counts the steps, so tests can check the bound.
 */
import { contains, text, type CharSet, type GlobNode } from './nodes.js';

const CONSUME = 0;
const SPLIT = 1;
const MATCH = 2;

/** Reserved DFA states: the value can no longer match, or it matches whatever follows. */
const DEAD = 0;
const MATCHES_REST = 1;
const FIRST_STATE = 2;
const UNKNOWN = -1;

/** What a closure found besides CONSUME states. */
const FOUND_MATCH = 1;
const FOUND_MATCHES_REST = 2;

/** Cached transitions, and NFA states listed by DFA states, per DFA before its table starts over. */
const TABLE_BUDGET = 1 << 13;
const MEMBERS_BUDGET = 1 << 14;
/** DFA states one match may add before it carries on as a plain NFA simulation. */
const NEW_STATES_PER_MATCH = 64;
const ASCII = 128;

let steps = 0;
/** Steps taken by every match so far: characters read, NFA states visited, bitset words and table cells written. */
export const matchingSteps = (): number => steps;

// Scratch space for computing a transition, shared by all automata: matching never runs two at once.
let marks = new Int32Array(64);
let stack = new Int32Array(64);
/** The NFA states a closure found, as a bitset; always left cleared. */
let bits = new Int32Array(2);
let generation = 0;

/** A fresh mark for one closure computation over `size` NFA states. */
function nextGeneration(size: number): number {
  if (marks.length < size) {
    const length = Math.max(size, marks.length * 2);
    marks = new Int32Array(length);
    stack = new Int32Array(length);
    bits = new Int32Array(Math.ceil(length / 32));
    generation = 0;
  }
  if (generation === 0x7fffffff) {
    marks.fill(0);
    generation = 0;
  }
  return ++generation;
}

/**
 * The NFA, in parallel arrays indexed by state. States are numbered as they are built, back to
 * front, so every SPLIT leads to lower-numbered states, except to the CONSUME state of its own loop.
 */
interface Nfa {
  kind: number[];
  /** CONSUME: the next state; SPLIT: the first choice. */
  out1: number[];
  /** SPLIT: the second choice. */
  out2: number[];
  /** CONSUME: index into `sets`. */
  set: number[];
  /** CONSUME: a loop over every character from which the pattern can end: once there, it matches. */
  matchesRest: boolean[];
  sets: CharSet[];
  /** Keys of the sets that are not a single character, in order. */
  otherSetKeys: string[];
  start: number;
}

function buildNfa(nodes: readonly GlobNode[]): Nfa {
  const kind: number[] = [];
  const out1: number[] = [];
  const out2: number[] = [];
  const set: number[] = [];
  const sets: CharSet[] = [];
  const singleIds = new Map<number, number>();
  const otherIds = new Map<string, number>();
  const anyLoops: number[] = [];

  const add = (stateKind: number, first: number, second: number, setId: number): number => {
    kind.push(stateKind);
    out1.push(first);
    out2.push(second);
    set.push(setId);
    return kind.length - 1;
  };
  const single = (codePoint: number): number => {
    let id = singleIds.get(codePoint);
    if (id === undefined) singleIds.set(codePoint, (id = sets.push({ ranges: [codePoint, codePoint], negated: false }) - 1));
    return id;
  };
  const setId = (charSet: CharSet): number => {
    const { ranges, negated } = charSet;
    if (!negated && ranges.length === 2 && ranges[0] === ranges[1]) return single(ranges[0]);
    const key = `${negated ? '^' : ''}${ranges.join(',')}`;
    let id = otherIds.get(key);
    if (id === undefined) otherIds.set(key, (id = sets.push(charSet) - 1));
    return id;
  };
  /** Built back to front: each node is given the state that follows it. */
  const sequence = (sequenceNodes: readonly GlobNode[], next: number): number => {
    for (let i = sequenceNodes.length - 1; i >= 0; i--) next = node(sequenceNodes[i], next);
    return next;
  };
  const node = (current: GlobNode, next: number): number => {
    switch (current.kind) {
      case 'text': {
        const { text } = current;
        for (let i = text.length - 1; i >= 0; i--) {
          let codePoint = text.charCodeAt(i);
          if (codePoint >= 0xdc00 && codePoint <= 0xdfff && i > 0) {
            const high = text.charCodeAt(i - 1);
            if (high >= 0xd800 && high <= 0xdbff) {
              codePoint = ((high - 0xd800) << 10) + (codePoint - 0xdc00) + 0x10000;
              i--;
            }
          }
          next = add(CONSUME, next, -1, single(codePoint));
        }
        return next;
      }
      case 'one':
        return add(CONSUME, next, -1, setId(current.set));
      case 'many': {
        const split = add(SPLIT, -1, next, -1);
        const loop = add(CONSUME, split, -1, setId(current.set));
        out1[split] = loop;
        if (current.set.negated && current.set.ranges.length === 0) anyLoops.push(loop);
        return split;
      }
      case 'either': {
        const starts = current.branches.map((branch) => sequence(branch, next));
        let start = starts[starts.length - 1] ?? next;
        for (let i = starts.length - 2; i >= 0; i--) start = add(SPLIT, starts[i], start, -1);
        return start;
      }
    }
  };

  const match = add(MATCH, -1, -1, -1);
  const start = sequence(nodes, match);
  // Which states reach MATCH without reading a character: in numbering order, since a SPLIT only
  // leads to lower-numbered states or to a CONSUME state (which never does).
  const canEnd = kind.map((stateKind) => stateKind === MATCH);
  for (let state = 0; state < kind.length; state++) {
    if (kind[state] === SPLIT) canEnd[state] = canEnd[out1[state]] || canEnd[out2[state]];
  }
  const matchesRest = kind.map(() => false);
  for (const loop of anyLoops) matchesRest[loop] = canEnd[out1[loop]];
  return { kind, out1, out2, set, matchesRest, sets, otherSetKeys: [...otherIds.keys()], start };
}

/**
 * The groups that the sets other than single characters make, by their keys: most patterns use the
 * same few (`*` and `?`, a trailing `**`), so each is worked out once. Bounded: it starts over when full.
 */
const groupsBySets = new Map<string, number[]>();
const GROUPINGS_KEPT = 256;

/** Groups the ASCII characters by how every set of the NFA treats them: one table column per group. */
function groupAscii(nfa: Nfa): { groupOf: number[]; samples: number[] } {
  const singles: number[] = [];
  const others: CharSet[] = [];
  for (const set of nfa.sets) {
    const { ranges, negated } = set;
    if (!negated && ranges.length === 2 && ranges[0] === ranges[1]) {
      if (ranges[0] < ASCII) singles.push(ranges[0]);
    } else {
      others.push(set);
    }
  }
  const key = nfa.otherSetKeys.join(' ');
  let shared = groupsBySets.get(key);
  if (!shared) {
    shared = splitBy(others);
    if (groupsBySets.size >= GROUPINGS_KEPT) groupsBySets.clear();
    groupsBySets.set(key, shared);
  }
  const groupOf = [...shared];
  // A literal character is a group of its own.
  let groups = 0;
  for (const group of groupOf) groups = Math.max(groups, group + 1);
  const sizes = new Array<number>(groups).fill(0);
  for (const group of groupOf) sizes[group]++;
  for (const code of singles) {
    if (sizes[groupOf[code]] === 1) continue;
    sizes[groupOf[code]]--;
    groupOf[code] = groups++;
    sizes.push(1);
  }
  const samples: number[] = [];
  for (let code = ASCII - 1; code >= 0; code--) samples[groupOf[code]] = code;
  return { groupOf, samples };
}

/** Per ASCII character, its group: characters are together when each set has all or none of them. */
function splitBy(sets: readonly CharSet[]): number[] {
  let groupOf: number[] = new Array<number>(ASCII).fill(0);
  let groups = 1;
  for (const set of sets) {
    const renumbered = new Array<number>(groups * 2).fill(-1);
    const next: number[] = [];
    let count = 0;
    for (let code = 0; code < ASCII; code++) {
      const key = groupOf[code] * 2 + (contains(set, code) ? 1 : 0);
      if (renumbered[key] < 0) renumbered[key] = count++;
      next.push(renumbered[key]);
    }
    groupOf = next;
    groups = count;
  }
  return groupOf;
}

/**
 * The DFAs of what lies between literal prefix and suffix, shared by every pattern with the same
 * middle (`apps/billing/**` + `/*.ts` and `apps/search/**` + `/*.ts`) and kept from one compilation
 * of a file to the next. Bounded: at most DFAS_KEPT of them, each of a small pattern (a longer one
 * gets a DFA of its own, freed with it), each with a bounded table.
 */
const sharedDfas = new Map<string, LazyDfa>();
const DFAS_KEPT = 256;
const SHARED_KEY_LIMIT = 2000;

function dfaFor(nodes: readonly GlobNode[]): LazyDfa {
  const key = JSON.stringify(nodes);
  if (key.length > SHARED_KEY_LIMIT) return new LazyDfa(nodes);
  let dfa = sharedDfas.get(key);
  if (!dfa) {
    dfa = new LazyDfa(nodes);
    if (sharedDfas.size >= DFAS_KEPT) sharedDfas.clear();
    sharedDfas.set(key, dfa);
  }
  return dfa;
}

/** A compiled pattern. */
export class Automaton {
  /** Literal text every match starts and ends with, compared as strings. */
  private readonly prefix: string;
  private readonly suffix: string;
  /** The longest literal text every match has between them (`migrations` in `a/**` + `/migrations/*`), or ''. */
  private readonly inner: string;
  /** What lies between them. */
  private readonly dfa: LazyDfa;

  constructor(nodes: readonly GlobNode[]) {
    const { prefix, middle, suffix } = splitLiterals(nodes);
    this.prefix = prefix;
    this.suffix = suffix;
    this.inner = middle.reduce((longest, node) => (node.kind === 'text' && node.text.length > longest.length ? node.text : longest), '');
    this.dfa = dfaFor(middle);
  }

  matches(value: string): boolean {
    const { prefix, suffix, inner } = this;
    const end = value.length - suffix.length;
    steps += prefix.length + suffix.length;
    if (end < prefix.length || !value.startsWith(prefix) || !value.endsWith(suffix)) return false;
    // A search for the literal is much cheaper than the automaton and rules most values out.
    if (inner) {
      const at = value.indexOf(inner, prefix.length);
      steps += end - prefix.length;
      if (at < 0 || at + inner.length > end) return false;
    }
    return this.dfa.matches(value, prefix.length, end);
  }
}

/** An NFA run as a DFA built lazily (see the top of this file). */
class LazyDfa {
  private readonly nfa: Nfa;
  /** Per ASCII character, its group: the column of the transition table. */
  private readonly groupOf: number[];
  /** One character of each group, to compute that group's transitions with. */
  private readonly samples: number[];
  private readonly width: number;
  private readonly maxStates: number;
  private readonly words: number;

  /** Row per DFA state, cell per group: the next state, or UNKNOWN until first needed. */
  private readonly table: number[] = [];
  /** Per DFA state: its NFA CONSUME states, ascending. */
  private members: number[][] = [];
  private accepting: boolean[] = [];
  /** The length of all `members` together. */
  private memberCount = 0;
  private readonly byKey = new Map<string, number>();
  private start = UNKNOWN;
  /** Bumped when the table starts over, which invalidates every DFA state number. */
  private epoch = 0;
  /** DFA states added by the match under way. */
  private added = 0;

  constructor(nodes: readonly GlobNode[]) {
    this.nfa = buildNfa(nodes);
    const { groupOf, samples } = groupAscii(this.nfa);
    this.groupOf = groupOf;
    this.samples = samples;
    this.width = samples.length;
    this.maxStates = Math.max(FIRST_STATE + NEW_STATES_PER_MATCH, Math.floor(TABLE_BUDGET / this.width));
    this.words = Math.ceil(this.nfa.kind.length / 32);
    // Rows for the reserved states, never read: they keep the table a dense array.
    for (let cell = 0; cell < FIRST_STATE * this.width; cell++) this.table.push(UNKNOWN);
    this.restart();
  }

  /** Whether `value`, from offset `i` up to `end`, matches. */
  matches(value: string, i: number, end: number): boolean {
    this.added = 0;
    let state = this.start === UNKNOWN ? this.startState() : this.start;
    const { table, groupOf, width } = this;
    const from = i;
    while (i < end && state >= FIRST_STATE) {
      const code = value.charCodeAt(i);
      if (code < ASCII) {
        const cached = table[state * width + groupOf[code]];
        if (cached !== UNKNOWN) {
          state = cached;
          i++;
          continue;
        }
      }
      // Past this many new states the DFA is not paying for itself on this value.
      if (this.added > NEW_STATES_PER_MATCH) return this.simulate(value, i, end, this.members[state], this.accepting[state]);
      const codePoint = value.codePointAt(i) as number;
      // Characters outside ASCII (rare in paths) get no table cells: computed each time.
      state = code < ASCII ? this.follow(state, groupOf[code]) : this.step(state, codePoint);
      i += codePoint > 0xffff ? 2 : 1;
    }
    steps += i - from + 1;
    return state === MATCHES_REST || (state >= FIRST_STATE && this.accepting[state]);
  }

  private restart(): void {
    this.byKey.clear();
    this.members = [[], []];
    this.memberCount = 0;
    this.accepting = [false, true];
    this.start = UNKNOWN;
    this.epoch++;
  }

  private startState(): number {
    const found = this.close(this.nfa.start, nextGeneration(this.nfa.kind.length));
    this.start = this.intern(found);
    return this.start;
  }

  private follow(state: number, group: number): number {
    const epoch = this.epoch;
    const next = this.step(state, this.samples[group]);
    if (this.epoch === epoch) this.table[state * this.width + group] = next;
    return next;
  }

  /** The DFA state after reading `codePoint` in `state`. */
  private step(state: number, codePoint: number): number {
    return this.intern(this.advance(this.members[state], codePoint));
  }

  /** Reads `codePoint` in each of the `from` states: what can follow goes into `bits`. Returns FOUND_* flags. */
  private advance(from: readonly number[], codePoint: number): number {
    const { kind, out1, set, sets } = this.nfa;
    const generationNow = nextGeneration(kind.length);
    let found = 0;
    steps += from.length;
    for (let i = 0; i < from.length; i++) {
      const consume = from[i];
      if (contains(sets[set[consume]], codePoint)) found |= this.close(out1[consume], generationNow);
    }
    return found;
  }

  /**
   * Adds the states reachable from `entry` without reading a character: CONSUME states into `bits`.
   * Each state is visited at most once per generation. Returns FOUND_* flags.
   */
  private close(entry: number, generationNow: number): number {
    const { kind, out1, out2, matchesRest } = this.nfa;
    let found = 0;
    if (marks[entry] === generationNow) return found;
    marks[entry] = generationNow;
    let top = 0;
    stack[top++] = entry;
    while (top > 0) {
      const state = stack[--top];
      steps++;
      const stateKind = kind[state];
      if (stateKind === CONSUME) {
        bits[state >>> 5] |= 1 << (state & 31);
        if (matchesRest[state]) found |= FOUND_MATCHES_REST;
      } else if (stateKind === MATCH) {
        found |= FOUND_MATCH;
      } else {
        const second = out2[state];
        if (marks[second] !== generationNow) {
          marks[second] = generationNow;
          stack[top++] = second;
        }
        const first = out1[state];
        if (marks[first] !== generationNow) {
          marks[first] = generationNow;
          stack[top++] = first;
        }
      }
    }
    return found;
  }

  /** Moves the states in `bits` into `into`, ascending, clearing `bits`. */
  private takeBits(into: number[]): void {
    const { words } = this;
    steps += words;
    for (let w = 0; w < words; w++) {
      for (let word = bits[w]; word !== 0; word &= word - 1) into.push(w * 32 + 31 - Math.clz32(word & -word));
      bits[w] = 0;
    }
  }

  private clearBits(): void {
    bits.fill(0, 0, this.words);
  }

  /** The DFA state for the NFA states in `bits` (which it clears) and the flags found with them. */
  private intern(found: number): number {
    const { words } = this;
    steps += words;
    if (found & FOUND_MATCHES_REST) {
      this.clearBits();
      return MATCHES_REST;
    }
    let key = found & FOUND_MATCH ? '+' : '-';
    let empty = true;
    for (let w = 0; w < words; w++) {
      const word = bits[w];
      if (word !== 0) empty = false;
      key += String.fromCharCode(word & 0xffff, word >>> 16);
    }
    if (empty && !(found & FOUND_MATCH)) return DEAD;
    const known = this.byKey.get(key);
    if (known !== undefined) {
      this.clearBits();
      return known;
    }
    const members: number[] = [];
    this.takeBits(members);
    if (this.members.length >= this.maxStates || this.memberCount + members.length > MEMBERS_BUDGET) this.restart();
    const state = this.members.length;
    this.members.push(members);
    this.memberCount += members.length;
    this.accepting.push((found & FOUND_MATCH) !== 0);
    this.byKey.set(key, state);
    this.added++;
    // Rows are written in state order, so the array stays dense.
    const { table, width } = this;
    for (let cell = state * width, end = cell + width; cell < end; cell++) table[cell] = UNKNOWN;
    steps += width;
    return state;
  }

  /** The rest of a match, from offset `i` to `end` in the NFA states `from`, without building DFA states. */
  private simulate(value: string, i: number, end: number, from: readonly number[], accepting: boolean): boolean {
    let current = [...from];
    let next: number[] = [];
    const start = i;
    while (i < end) {
      const codePoint = value.codePointAt(i) as number;
      i += codePoint > 0xffff ? 2 : 1;
      const found = this.advance(current, codePoint);
      next.length = 0;
      this.takeBits(next);
      if (found & FOUND_MATCHES_REST) return true;
      accepting = (found & FOUND_MATCH) !== 0;
      if (next.length === 0) break;
      [current, next] = [next, current];
    }
    steps += i - start + 1;
    return accepting && i === end;
  }
}

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;

/**
 * The literal text a pattern starts and ends with, compared as strings, and the nodes between them
 * for the automaton: many patterns start with a directory (`apps/billing/**`) or end with an
 * extension (`*.ts`), which would otherwise cost a DFA state per character. Neither may split a
 * surrogate pair, so that the automaton reads the same characters as it would from the start.
 */
function splitLiterals(nodes: readonly GlobNode[]): { prefix: string; middle: GlobNode[]; suffix: string } {
  let first = 0;
  let last = nodes.length;
  let prefix = '';
  let suffix = '';
  for (let node = nodes[first]; first < last && node.kind === 'text'; node = nodes[++first]) prefix += node.text;
  for (let node = nodes[last - 1]; last > first && node.kind === 'text'; node = nodes[--last - 1]) suffix = node.text + suffix;
  const middle = nodes.slice(first, last);
  if (isHighSurrogate(prefix.charCodeAt(prefix.length - 1))) {
    middle.unshift(text(prefix.slice(-1)));
    prefix = prefix.slice(0, -1);
  }
  if (isLowSurrogate(suffix.charCodeAt(0))) {
    middle.push(text(suffix.slice(0, 1)));
    suffix = suffix.slice(1);
  }
  return { prefix, middle, suffix };
}
