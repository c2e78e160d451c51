import { expect, test } from '@jest/globals';
import fc from 'fast-check';
import { matchPaths, PredicateContext } from '../../policies/predicates.js';

// Small alphabets make collisions between paths and patterns likely, which is where bugs hide.
const segment = fc.stringMatching(/^[ab.]{1,3}$/);
const path = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));
const token = fc.constantFrom('a', 'b', '.', '/', '*', '**', '?', '{a,b}', '[ab]', 'a/', '/**', '**/', './', '../', '//', '\\*', '\\a');
const pattern = fc.array(token, { minLength: 1, maxLength: 5 }).map((t) => t.join(''));

test('the indexed search for a matching file agrees with a plain scan of every file', () => {
  fc.assert(
    fc.property(fc.array(path, { maxLength: 12 }), pattern, (files, glob) => {
      const ctx = new PredicateContext({ action: 'x', changedFiles: files }, []);
      const compiled = ctx.glob(glob);
      fc.pre(compiled.ok);
      if (!compiled.ok) return;
      expect(matchPaths([glob], ctx).matched).toBe(files.some(compiled.match));
    }),
    { numRuns: 5000 },
  );
});
