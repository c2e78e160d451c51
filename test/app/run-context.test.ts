/** The commits a deploy's branch went through since the last approved one, whose pull requests' authors are its requesters. */
import { describe, expect, it } from '@jest/globals';
import { branchCommitsBefore, EARLIER_COMMITS_LOOKED_UP } from '../../app/gate/run-context.js';

const commit = (sha: string, ...parents: string[]) => ({ sha, parents });
/** A line of `n` commits c1…cn on top of `base`, oldest first, as a comparison lists them. */
const line = (n: number) => Array.from({ length: n }, (_, i) => commit(`c${i + 1}`, i === 0 ? 'base' : `c${i}`));

describe('branchCommitsBefore', () => {
  it.each([
    ['a head straight on the base', [commit('head', 'base')], []],
    ['a bump on top of a merge: the merge stands for the commits it merged', [commit('f1', 'base'), commit('f2', 'f1'), commit('merge', 'base', 'f2'), commit('head', 'merge')], ['merge']],
    ['squashed or rebased pull requests and pushes, newest first', [commit('a', 'base'), commit('b', 'a'), commit('head', 'b')], ['b', 'a']],
    ['a head the page does not list (more commits than a page)', line(3), []],
    ['a first parent the page does not list stops the walk', [commit('b', 'a'), commit('head', 'b')], ['b']],
  ])('%s', (_case, commits, expected) => {
    expect(branchCommitsBefore(commits, 'head', 'base')).toEqual(expected);
  });

  it(`stops after ${EARLIER_COMMITS_LOOKED_UP} commits`, () => {
    const commits = [...line(30), commit('head', 'c30')];
    const chain = branchCommitsBefore(commits, 'head', 'base');
    expect(chain).toHaveLength(EARLIER_COMMITS_LOOKED_UP);
    expect(chain[0]).toBe('c30');
  });
});
