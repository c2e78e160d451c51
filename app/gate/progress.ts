/** How far each requirement is: the policy library's tally over the votes as recorded, with the voters as last looked up. */
import { activeRequirements, tallyVotes, type RequirementTally } from '../../policies/approval.js';
import type { Requirement } from '../../policies/decision.js';
import { countedVotes, type GateRequest } from './request.js';

export type RequirementProgress = RequirementTally;

/** The decision's requirements with the time escalations that are due applied. */
export function currentRequirements(request: GateRequest, now: Date = new Date()): Requirement[] {
  return activeRequirements(request.decision?.requirements ?? [], elapsedSeconds(request, now));
}

export function requirementProgress(request: GateRequest, now: Date = new Date()): RequirementProgress[] {
  if (!request.decision || request.decision.outcome !== 'approval_required') return [];
  const votes = countedVotes(request.votes);
  const requesters = request.requesters ?? [{ login: request.requester, role: 'started the run' as const }];
  return tallyVotes(request.decision, votes, { requesters, elapsedSeconds: elapsedSeconds(request, now) }).requirements;
}

/** How long the request has waited for people: since it was opened, or released by a window that held it. */
function elapsedSeconds(request: GateRequest, now: Date): number {
  return Math.max(0, (now.getTime() - Date.parse(request.waitingSince ?? request.createdAt)) / 1000);
}

