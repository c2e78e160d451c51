/**
 * The decision record on the check run: enough to audit the decision without the App's database.
 * It is JSON in a ```json block, which the Action reads back when the App is unreachable, so it
 * stays valid JSON with its identifying fields whole even when it must be shortened to fit.
 */
import { requirementProgress } from '../gate/progress.js';
import type { GateRequest } from '../gate/request.js';
import { ELLIPSIS, limitText, shorten, type Limit } from './limits.js';

export function decisionRecord(request: GateRequest) {
  return {
    request: request.id,
    repository: `${request.owner}/${request.repo}`,
    run: { id: request.runId, attempt: request.runAttempt, event: request.eventName, ref: request.ref, sha: request.headSha },
    action: request.action,
    environment: request.environment ?? null,
    severity: request.severity ?? null,
    requester: request.requester,
    status: request.status,
    reason: request.reason,
    created_at: request.createdAt,
    deadline: request.deadline,
    completed_at: request.completedAt ?? null,
    // Who voted and how; not what the App looked up about them (permission, teams), which is theirs.
    votes: request.votes.map(({ login, choice, note, via, at, eligibleFor }) => ({ login, choice, note, via, at, eligibleFor })),
    // Whose approvals count, as the App's API gives them, reckoned when the request completed: not every approve vote does (its voter may no longer be eligible).
    approved_by: [...new Set(requirementProgress(request, request.completedAt ? new Date(request.completedAt) : undefined).flatMap((r) => r.approvedBy))],
    problems: request.problems,
    decision: request.decision ?? null,
  };
}

/** The fields that can grow without bound (notes, reasons, changed files); the rest are small and identify the run. */
const BULKY = ['reason', 'votes', 'approved_by', 'problems', 'decision'] as const;

/** Ever stronger shortenings, tried in turn: the longest text and the longest list kept. */
const SHORTENINGS: ReadonlyArray<{ text: number; items: number }> = [
  { text: 4_096, items: 1_000 },
  { text: 1_024, items: 100 },
  { text: 256, items: 20 },
  { text: 64, items: 5 },
  { text: 64, items: 0 },
];

export function decisionRecordText(request: GateRequest, limit: Limit): string {
  const record = decisionRecord(request);
  const whole = render(record);
  if (limit.measure(whole) <= limit.max) return whole;
  for (const shortening of SHORTENINGS) {
    const bulky = Object.fromEntries(BULKY.map((key) => [key, shortenJson(record[key], shortening)]));
    const note = `to fit GitHub's limit of ${limitText(limit)}, texts are cut to ${shortening.text} characters (ending in ${ELLIPSIS}) and lists to ${shortening.items} items`;
    const text = render({ ...record, ...bulky, shortened: note });
    if (limit.measure(text) <= limit.max) return text;
  }
  throw new Error(`the decision record does not fit GitHub's limit of ${limitText(limit)}`);
}

/** Characters JSON may hold raw that would make the record read differently from what it says: bidirectional controls, line separators. */
const MISLEADING = /[\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function render(record: object): string {
  // JSON.stringify escapes line breaks, so no line of it can close the fence early; the escapes below parse back to the same text.
  const json = JSON.stringify(record, null, 2).replace(MISLEADING, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return ['## Decision record', '', '```json', json, '```'].join('\n');
}

function shortenJson(value: unknown, limits: { text: number; items: number }): unknown {
  if (typeof value === 'string') return shorten(value, limits.text);
  if (Array.isArray(value)) return value.slice(0, limits.items).map((item) => shortenJson(item, limits));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, shortenJson(item, limits)]));
  return value;
}
