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

export async function lookUpVoter(github: GitHubClient, repo: RepoCoordinates, login: string, senderType: string | undefined, decision: Decision): Promise<Voter> {
  const [permission, user, teams] = await Promise.all([
    github.permission(repo, login),
    // The webhook's sender type is GitHub's word too; only ask when it is missing.
    senderType ? Promise.resolve({ login, type: senderType }) : github.user(login),
    Promise.all(
      listedTeams(decision).map(async (team) => {
        const [org, slug] = team.split('/');
        return (await github.isTeamMember(org, slug, login)) ? team : undefined;
      }),
    ),
  ]);
  return { login, isBot: user.type === 'Bot', permission, teams: teams.filter((t): t is string => t !== undefined) };
}
