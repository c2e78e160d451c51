/** Looks up what the approval arithmetic needs to know about a voter: bot or not, permission, teams. */
import { isTeamOwner } from '../../policies/approvers.js';
import type { Voter } from '../../policies/approval.js';
import type { Decision } from '../../policies/decision.js';
import type { GitHubClient, RepoCoordinates } from '../github/github.js';

/** Only the teams the decision lists are checked: that is all eligibility can depend on. */
export function listedTeams(decision: Decision): string[] {
  const teams = new Set<string>();
  for (const requirement of decision.requirements) {
    const sets = [requirement.approvers, ...requirement.scheduled.map((s) => s.approvers)];
    for (const set of sets) {
      for (const team of set.teams) teams.add(team.replace(/^@/, '').toLowerCase());
      for (const owner of set.owners) if (isTeamOwner(owner)) teams.add(owner.replace(/^@/, '').toLowerCase());
    }
  }
  return [...teams];
}

/** Who voted, as the webhook said: the login, and GitHub's account id and type when it carried them. */
export interface VoterIdentity {
  login: string;
  id?: string;
  type?: string;
}

/**
 * The login now names another account than the one that voted or signed in: renamed, and the old
 * name taken by someone else. Whatever GitHub says about that login is the other person's.
 */
export class LoginNamesAnotherAccount extends Error {
  constructor(readonly login: string) {
    super(`@${login} now names another GitHub account (an account was renamed)`);
    this.name = 'LoginNamesAnotherAccount';
  }
}

/** Throws `LoginNamesAnotherAccount` when `who.id` is known and the login GitHub looked up is another account's now. */
export async function lookUpVoter(github: GitHubClient, repo: RepoCoordinates, who: VoterIdentity, decision: Decision): Promise<Voter> {
  const { login } = who;
  const [access, user, teams] = await Promise.all([
    github.permission(repo, login),
    // The webhook's sender is GitHub's word too; only ask when it is missing something.
    who.type !== undefined && who.id !== undefined ? Promise.resolve({ login, id: who.id, type: who.type }) : github.user(login),
    Promise.all(
      listedTeams(decision).map(async (team) => {
        const [org, slug] = team.split('/');
        return (await github.isTeamMember(org, slug, login)) ? team : undefined;
      }),
    ),
  ]);
  // Permission and teams are read by login; the permission answer says whose account that was. GitHub's
  // schema lets it leave the account out: then it is asked, unless the login has no access to count.
  if (who.id !== undefined && access.permission !== 'none') {
    const account = access.account ?? (await github.user(login));
    if (account.id !== who.id) throw new LoginNamesAnotherAccount(login);
  }
  return { login, id: user.id, isBot: user.type === 'Bot', permission: access.permission, teams: teams.filter((t): t is string => t !== undefined) };
}
