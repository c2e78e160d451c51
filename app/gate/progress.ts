/** How far each requirement is, from the votes as recorded (each vote says which requirements it counts for). */
import { activeRequirements } from '../../policies/approval.js';
import { describeApprovers } from '../../policies/approvers.js';
import type { Requirement } from '../../policies/decision.js';
import type { GateRequest } from './request.js';

export interface RequirementProgress {
  rule: string | null;
  approvals: number;
  approvedBy: string[];
  awaiting: number;
  awaitingFrom: string;
}

/** The decision's requirements with the time escalations that are due applied. */
export function currentRequirements(request: GateRequest, now: Date = new Date()): Requirement[] {
  const elapsedSeconds = (now.getTime() - Date.parse(request.createdAt)) / 1000;
  return activeRequirements(request.decision?.requirements ?? [], elapsedSeconds);
}

export function requirementProgress(request: GateRequest, now: Date = new Date()): RequirementProgress[] {
  return currentRequirements(request, now).map((requirement, index) => {
    const approvedBy = [
      ...new Map(
        request.votes.filter((v) => v.choice === 'approve' && v.eligibleFor.includes(index)).map((v) => [v.login.toLowerCase(), v.login]),
      ).values(),
    ];
    return {
      rule: requirement.rule,
      approvals: requirement.approvals,
      approvedBy,
      awaiting: Math.max(0, requirement.approvals - approvedBy.length),
      awaitingFrom: describeApprovers(requirement.approvers),
    };
  });
}
