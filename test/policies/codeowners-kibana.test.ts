/**
 * Cross-check on a real-world file: elastic/kibana's CODEOWNERS (../shared/fixtures/codeowners, beside
 * the repository as CI clones it) against the `codeowners` npm package, on a sample of paths.
 *
 * Where the two differ, GitHub's documentation decides, and every difference must be one of these:
 *  1. Inline comments. GitHub's documented example has `*.js @js-owner #This is an inline comment.`;
 *     the npm package splits the whole line on whitespace and returns "#This", "is", … as owners.
 *  2. A last segment `*`. GitHub's docs: "`docs/*` will match files like `docs/getting-started.md` but
 *     not further nested files like `docs/build-app/troubleshooting.md`". The npm package gives it
 *     gitignore's meaning (a matched directory takes everything below it), so a later `dir/*` rule
 *     wins for nested paths too. That is also why the fixture README's count of owned paths (9,950)
 *     is 6 more than GitHub's semantics give.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Codeowners from 'codeowners';
import { parseCodeowners, type CodeownersRule } from '../../policies/codeowners.js';

const FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/codeowners/', import.meta.url));
const present = existsSync(join(FIXTURES, 'kibana.CODEOWNERS')) && existsSync(join(FIXTURES, 'kibana.paths'));
const describeWithFixture = present ? describe : describe.skip;
const SAMPLE_EVERY = 40;

/** The npm package's owners up to the first word of an inline comment. */
function withoutComment(owners: readonly string[]): string[] {
  const comment = owners.findIndex((word) => word.startsWith('#'));
  return comment < 0 ? [...owners] : owners.slice(0, comment);
}

/** A later `dir/*` rule that gitignore semantics would apply to this nested path, but GitHub does not. */
function laterStarRuleForNestedPath(rules: readonly CodeownersRule[], winner: CodeownersRule | null, path: string) {
  return rules.findLast((rule) => {
    if ((winner && rule.line <= winner.line) || !rule.pattern.endsWith('/*')) return false;
    const dir = rule.pattern.slice(0, -2).replace(/^\//, '');
    return path.startsWith(`${dir}/`) && path.slice(dir.length + 1).includes('/');
  });
}

describeWithFixture(
  present ? 'kibana CODEOWNERS vs the codeowners npm package' : `kibana fixture not found in ${FIXTURES}: cross-check skipped`,
  () => {
    const text = present ? readFileSync(join(FIXTURES, 'kibana.CODEOWNERS'), 'utf8') : '';
    const paths = present ? readFileSync(join(FIXTURES, 'kibana.paths'), 'utf8').split('\n').filter(Boolean) : [];
    const ours = parseCodeowners(text, '.github/CODEOWNERS');
    let dir = '';
    let npm: { getOwner(path: string): string[] };

    beforeAll(() => {
      // The package reads the file from disk only.
      dir = mkdtempSync(join(tmpdir(), 'codeowners-kibana-'));
      mkdirSync(join(dir, '.github'));
      writeFileSync(join(dir, '.github', 'CODEOWNERS'), text);
      npm = new Codeowners(dir);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    test('the whole file parses cleanly into its 3,443 rules', () => {
      expect(ours.errors).toEqual([]);
      expect(ours.rules).toHaveLength(3443);
    });

    test('9,944 of the 10,000 paths are owned; the README counts 9,950, adding 6 that only a nested `dir/*` match reaches', () => {
      expect(paths).toHaveLength(10000);
      const unowned = paths.filter((path) => ours.ownersOf(path).owners.length === 0);
      expect(unowned).toHaveLength(56);
      const ownedByNpm = unowned.filter((path) => npm.getOwner(path).length > 0);
      expect(ownedByNpm).toHaveLength(6);
      for (const path of ownedByNpm) {
        const starRule = laterStarRuleForNestedPath(ours.rules, ours.ownersOf(path).rule, path);
        expect({ path, owners: starRule?.owners }).toEqual({ path, owners: withoutComment(npm.getOwner(path)) });
      }
    });

    test('agrees with the npm package on a sample, except for the two documented differences', () => {
      const sample = paths.filter((_, i) => i % SAMPLE_EVERY === 0);
      const differences = { inlineComment: 0, lastSegmentStar: 0 };
      let agreeing = 0;
      for (const path of sample) {
        const mine = ours.ownersOf(path);
        const theirs = npm.getOwner(path);
        if (JSON.stringify(mine.owners) === JSON.stringify(theirs)) {
          agreeing++;
          continue;
        }
        const theirsWithoutComment = withoutComment(theirs);
        if (JSON.stringify(mine.owners) === JSON.stringify(theirsWithoutComment)) {
          differences.inlineComment++;
          continue;
        }
        const starRule = laterStarRuleForNestedPath(ours.rules, mine.rule, path);
        // Anything else is a real disagreement and fails here, naming the path.
        expect({ path, starRuleOwners: starRule?.owners }).toEqual({ path, starRuleOwners: theirsWithoutComment });
        differences.lastSegmentStar++;
      }
      expect(sample.length).toBe(250);
      expect(agreeing).toBeGreaterThanOrEqual(sample.length * 0.9);
      // The sample does meet inline comments, so that explanation is exercised, not hypothetical;
      // the test above meets the `dir/*` one.
      expect(differences.inlineComment).toBeGreaterThan(0);
      expect(agreeing + differences.inlineComment + differences.lastSegmentStar).toBe(sample.length);
    });

    test('a concrete case of each difference', () => {
      // Line 2493 ends in "# Assigned per https://github.com/elastic/kibana/pull/39002".
      const commented = 'x-pack/platform/test/functional/page_objects/copy_saved_objects_to_space_page.ts';
      expect(ours.ownersOf(commented)).toMatchObject({ owners: ['@elastic/kibana-security'], rule: { line: 2493 } });
      expect(npm.getOwner(commented).slice(0, 2)).toEqual(['@elastic/kibana-security', '#']);

      // Line 2986 ".../cypress/* @elastic/security-engineering-productivity" does not reach cypress/helpers/x.yml.
      const nested = 'x-pack/solutions/security/test/security_solution_cypress/cypress/helpers/x.yml';
      expect(ours.ownersOf(nested)).toMatchObject({
        owners: ['@elastic/security-detection-engineering', '@elastic/security-investigations'],
        rule: { line: 2929 },
      });
      expect(npm.getOwner(nested)).toEqual(['@elastic/security-engineering-productivity']);
      const direct = 'x-pack/solutions/security/test/security_solution_cypress/cypress/x.yml';
      expect(ours.ownersOf(direct)).toMatchObject({ owners: ['@elastic/security-engineering-productivity'], rule: { line: 2986 } });
    });
  },
);
