/**
 * The glob engine against the matchers it replaced, on random ordinary patterns and paths:
 *  - policy globs against picomatch with the options the policy dialect used;
 *  - CODEOWNERS patterns against the regular expressions pattern.ts used to build (a copy below).
 * Ordinary means inside what each dialect documents. The generators stay out of picomatch's own
 * corners, which the policy dialect does not keep: a `*` also matching a trailing `/`, wildcards
 * never matching a `.` or `..` segment, `.` inside braces changing the `*` after it, `**` inside
 * braces, a middle `**` matching the directory above it when what follows may be empty, and
 * `*.*` not matching `a.` (see policies/glob.ts for what the dialect means by each).
 */
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import picomatch from 'picomatch';
import { compilePattern } from '../../policies/codeowners/pattern.js';
import { compileGlob } from '../../policies/glob.js';

/** What compileGlob did before the glob engine, for a valid pattern. */
function previousPolicyGlob(pattern: string, options: { literalBrackets?: boolean } = {}): (value: string) => boolean {
  const glob = options.literalBrackets ? pattern.replace(/\\.|[[\]]/g, (c) => (c.length === 1 ? `\\${c}` : c)) : pattern;
  // A leading `./` on a pattern without wildcards is ignored now, as picomatch ignores it on the others.
  if (!/[*?[{]/.test(glob)) return (value) => value === pattern.replace(/^(?:\.\/)+/, '');
  const re = picomatch.makeRe(glob, { dot: true, nonegate: true, noextglob: true, strictBrackets: true });
  return (value) => re.test(value);
}

/** Joins atoms, never putting two `*` side by side (that would be `**`, generated on its own). */
const joinAtoms = (atoms: string[]): string =>
  atoms.reduce((joined, atom) => (joined.endsWith('*') && atom.startsWith('*') ? joined : joined + atom), '');

describe('policy globs agree with picomatch', () => {
  const letter = fc.constantFrom('a', 'b', 'c', '-', '.');
  const literal = fc.oneof(letter, fc.constantFrom('ab', 'a.b', 'ba-', '\\*', '\\?', '\\[', ','));
  const bracket = fc.constantFrom('[ab]', '[a-c]', '[^a]', '[^.-]', '[b.]', '[]a]', '[a-]', '[-c]');
  const simpleAtom = fc.oneof({ weight: 4, arbitrary: literal }, fc.constant('*'), fc.constant('?'), bracket);
  /** In braces picomatch treats a `.` followed by `*` or `.` its own way. */
  const braces = (atom: fc.Arbitrary<string>) =>
    fc
      .array(fc.array(fc.oneof(atom, fc.constant('/')), { maxLength: 3 }).map(joinAtoms), { minLength: 1, maxLength: 3 })
      .map((branches) => `{${branches.join(',')}}`)
      .filter((group) => !/\.[*.]/.test(group));
  const atom = fc.oneof({ weight: 5, arbitrary: simpleAtom }, braces(fc.oneof(simpleAtom, braces(simpleAtom))));
  const segmentPattern = fc.oneof(
    { weight: 1, arbitrary: fc.constant('**') },
    { weight: 5, arbitrary: fc.array(atom, { minLength: 1, maxLength: 3 }).map(joinAtoms) },
  );
  const pattern = fc
    .tuple(fc.constantFrom('', '', '', './'), fc.array(segmentPattern, { minLength: 1, maxLength: 4 }))
    .map(([prefix, segments]) => prefix + segments.join('/'))
    // picomatch lets `a/**/{,b}` match `a` itself: what follows `**/` may be empty there.
    .filter((glob) => !glob.includes('**/{'));

  // Normalised like the values a policy sees: no empty, `.` or `..` segments, no trailing slash.
  // And no name ending in `.`: picomatch's `*.*` and `**/*.*` (but not `docs/*.*`) want a character after it.
  const isNormalised = (value: string): boolean => value.split('/').every((s) => s !== '' && s !== '.' && s !== '..' && !s.endsWith('.'));
  const pathSegment = fc
    .array(fc.oneof({ weight: 6, arbitrary: letter }, fc.constantFrom('[ab]', '{a}', '*', '?', ',', '}', ']')), { minLength: 1, maxLength: 4 })
    .map((units) => units.join(''));
  const path = fc.array(pathSegment, { minLength: 1, maxLength: 5 }).map((segments) => segments.join('/')).filter(isNormalised);

  const bothOn = (glob: string) => {
    const ours = compileGlob(glob);
    if (!ours.ok) throw new Error(ours.message);
    const theirs = previousPolicyGlob(glob);
    return (value: string) => expect([glob, value, ours.match(value)]).toEqual([glob, value, theirs(value)]);
  };

  test('on random patterns and paths', () => {
    fc.assert(
      fc.property(pattern, fc.array(path, { minLength: 1, maxLength: 8 }), (glob, paths) => {
        paths.forEach(bothOn(glob));
      }),
      { numRuns: 4000 },
    );
  });

  /** A value the pattern probably matches: each wildcard, bracket and brace replaced by a pick. */
  function instantiate(glob: string, picks: number[]): string {
    let i = /^(\.\/)*/.exec(glob)?.[0].length ?? 0;
    let n = 0;
    const pick = (options: string[]): string => options[(picks[n++ % picks.length] ?? 0) % options.length];
    const sequence = (inBraces: boolean): string => {
      let out = '';
      while (i < glob.length && !(inBraces && (glob[i] === ',' || glob[i] === '}'))) {
        const c = glob[i];
        if (c === '\\') {
          out += glob[i + 1];
          i += 2;
        } else if (c === '*') {
          const double = glob[i + 1] === '*';
          i += double ? 2 : 1;
          out += pick(double ? ['a', 'a/b.c', 'b-'] : ['', 'ab', 'c.']);
        } else if (c === '?') {
          out += pick(['a', '-']);
          i++;
        } else if (c === '[') {
          const end = glob.indexOf(']', i + 2);
          out += pick(['a', 'b', 'c', glob.slice(i, end + 1)]);
          i = end + 1;
        } else if (c === '{') {
          i++;
          const branches = [sequence(true)];
          while (glob[i] === ',') {
            i++;
            branches.push(sequence(true));
          }
          i++;
          out += pick(branches);
        } else {
          out += c;
          i++;
        }
      }
      return out;
    };
    return sequence(false);
  }

  test('where the automaton would need exponentially many states: cache restarts and the NFA fallback', () => {
    // One compiled pattern over many long values, so its transition table fills up and starts over.
    const value = fc
      .tuple(fc.constantFrom('', 'x/'), fc.array(fc.constantFrom('a', 'b', '-'), { minLength: 100, maxLength: 400 }))
      .map(([prefix, chars]) => prefix + chars.join(''));
    for (const glob of ['*a??????????????', '{*a,*b-}?????????[ab]??{a,b-}*', 'x/**/*a????????????b']) {
      const ours = compileGlob(glob);
      if (!ours.ok) throw new Error(ours.message);
      const theirs = previousPolicyGlob(glob);
      fc.assert(
        fc.property(value, (v) => {
          expect([glob, v, ours.match(v)]).toEqual([glob, v, theirs(v)]);
        }),
        { numRuns: 600 },
      );
    }
  });

  test('on values built from the pattern, which it mostly matches', () => {
    let matched = 0;
    fc.assert(
      fc.property(pattern, fc.array(fc.nat(), { minLength: 1, maxLength: 12 }), (glob, picks) => {
        const value = instantiate(glob, picks);
        fc.pre(isNormalised(value));
        bothOn(glob)(value);
        if (previousPolicyGlob(glob)(value)) matched++;
      }),
      { numRuns: 4000 },
    );
    // Otherwise this test would only ever compare misses.
    expect(matched).toBeGreaterThan(1000);
  });
});

/**
 * The regular expressions pattern.ts built before the glob engine, for valid patterns (validity is
 * decided by the lexer, which did not change): the oracle for the CODEOWNERS dialect.
 */
function previousCodeownersRegExp(raw: string): RegExp {
  type Piece = { kind: 'text'; text: string } | { kind: 'star' } | { kind: 'one' };
  const GLOBSTAR = 'globstar';
  const lexed: Piece[][] = [[]];
  for (let i = 0; i < raw.length; i++) {
    let c = raw[i];
    const current = lexed[lexed.length - 1];
    if (c === '\\') {
      c = raw[++i];
      if (c !== '/') {
        current.push({ kind: 'text', text: c });
        continue;
      }
    }
    if (c === '/') lexed.push([]);
    else if (c === '*') {
      const double = raw[i + 1] === '*';
      current.push(double ? { kind: 'text', text: '\u0000**' } : { kind: 'star' });
      if (double) i++;
    } else if (c === '?') current.push({ kind: 'one' });
    else current.push({ kind: 'text', text: c });
  }
  const isGlobstar = (pieces: Piece[]) => pieces.length === 1 && pieces[0].kind === 'text' && pieces[0].text === '\u0000**';
  const rooted = lexed[0].length === 0;
  const directoryOnly = lexed.length > 1 && lexed[lexed.length - 1].length === 0;
  const pieces = lexed.slice(rooted ? 1 : 0, directoryOnly ? lexed.length - 1 : lexed.length);
  const segments: (Piece[] | typeof GLOBSTAR)[] = [];
  const push = (segment: Piece[] | typeof GLOBSTAR) => {
    if (segment === GLOBSTAR && segments[segments.length - 1] === GLOBSTAR) return;
    segments.push(segment);
  };
  if (!(rooted || pieces.length > 1)) push(GLOBSTAR);
  for (const p of pieces) push(isGlobstar(p) ? GLOBSTAR : p.map((piece) => (piece.kind === 'text' && piece.text === '\u0000**' ? { kind: 'star' } : piece)));
  if (directoryOnly) push(GLOBSTAR);

  const last = segments.length - 1;
  let source = segments[0] === GLOBSTAR && last > 0 ? '(?:^|/)' : '^';
  segments.forEach((segment, i) => {
    if (segment === GLOBSTAR) {
      if (last === 0) source += '.';
      else if (i === last) source += '/.';
      else if (i > 0) source += '/(?:.+/)?';
      return;
    }
    if (i > 0 && segments[i - 1] !== GLOBSTAR) source += '/';
    for (const piece of segment) {
      if (piece.kind === 'star') source += '[^/]*';
      else if (piece.kind === 'one') source += '[^/]';
      else source += piece.text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
    }
    if (i === last) source += segment.length === 1 && segment[0].kind === 'star' ? '$' : '(?:/|$)';
  });
  return new RegExp(source, 'us');
}

describe('CODEOWNERS patterns agree with the regular expressions they replaced', () => {
  const NAMES = ['a', 'b', 'src', 'docs', 'x.js', 'y.ts', '.github', 'a.b.c', 'é', '#h', 'sp ace', '😀'];
  const segmentPattern = fc.oneof(
    fc.constantFrom(...NAMES.map((name) => name.replace(/[ #]/g, '\\$&'))),
    fc.constantFrom('*', '**', '?', '*.js', 'a*', '*b*', 'x?js', '\\*', '?*', 'a?', '*.*', 's*c', '*😀'),
  );
  const pattern = fc
    .tuple(fc.boolean(), fc.array(segmentPattern, { minLength: 1, maxLength: 4 }), fc.boolean())
    .map(([leading, segments, trailing]) => `${leading ? '/' : ''}${segments.join('/')}${trailing ? '/' : ''}`)
    // GitHub does not support escaping a leading "#": such a pattern is an error (codeowners.test.ts).
    .filter((raw) => !raw.startsWith('\\#'));
  const path = fc.array(fc.constantFrom(...NAMES, '*', 'xjs', 'sc'), { minLength: 1, maxLength: 5 }).map((s) => s.join('/'));

  test('on random patterns and paths', () => {
    fc.assert(
      fc.property(pattern, fc.array(path, { minLength: 1, maxLength: 10 }), (raw, paths) => {
        const compiled = compilePattern(raw);
        if (!compiled.ok) throw new Error(`${raw}: ${compiled.message}`);
        const oracle = previousCodeownersRegExp(raw);
        for (const value of paths) expect([raw, value, compiled.pattern.matches(value)]).toEqual([raw, value, oracle.test(value)]);
      }),
      { numRuns: 5000 },
    );
  });
});
