/**
 * lookUpVoter against a GitHub whose collaborator-permission answer leaves the account out, as its
 * schema allows (`user` is nullable there) and the GitHub double never does.
 */
import { expect, test } from '@jest/globals';
import { LoginNamesAnotherAccount, lookUpVoter } from '../../app/gate/voters.js';
import type { GitHubClient, GitHubUser, RepositoryAccess } from '../../app/github/github.js';
import type { Decision } from '../../policies/decision.js';

const REPO = { owner: 'acme', repo: 'web' };
const NO_TEAMS = { requirements: [] } as unknown as Decision;

/** The three reads lookUpVoter makes; anything else it asked for would throw. */
function github(access: RepositoryAccess, accounts: Record<string, GitHubUser>): GitHubClient & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    permission: async () => access,
    user: async (login: string) => {
      asked.push(login);
      const account = accounts[login];
      if (!account) throw Object.assign(new Error('Not Found'), { status: 404 });
      return account;
    },
    isTeamMember: async () => false,
  } as unknown as GitHubClient & { asked: string[] };
}

const carol = { login: 'bob', id: '3', type: 'User' };

test('without the account in the permission answer, the login is looked up before its access counts for another id', async () => {
  const client = github({ permission: 'write' }, { bob: carol });
  await expect(lookUpVoter(client, REPO, { login: 'bob', id: '2', type: 'User' }, NO_TEAMS)).rejects.toBeInstanceOf(LoginNamesAnotherAccount);
  expect(client.asked).toEqual(['bob']);
});

test('the same account, found either way, is the voter', async () => {
  const asked = github({ permission: 'write' }, { bob: carol });
  expect(await lookUpVoter(asked, REPO, { login: 'bob', id: '3', type: 'User' }, NO_TEAMS)).toMatchObject({ login: 'bob', id: '3', permission: 'write' });
  const answered = github({ permission: 'write', account: carol }, {});
  expect(await lookUpVoter(answered, REPO, { login: 'bob', id: '3', type: 'User' }, NO_TEAMS)).toMatchObject({ id: '3', permission: 'write' });
  expect(answered.asked).toEqual([]);
});

test('a login with no access needs no look-up: it cannot count whoever it names', async () => {
  const client = github({ permission: 'none' }, {});
  expect(await lookUpVoter(client, REPO, { login: 'bob', id: '2', type: 'User' }, NO_TEAMS)).toMatchObject({ permission: 'none' });
  expect(client.asked).toEqual([]);
});
