/**
 * Schema-valid YAML data (snake_case, strings or lists) → the normalised model of types.ts
 * (camelCase, lists, seconds, parsed approvers). Only ever called on values that passed every check.
 */
import { parseApproverRef } from './approver-ref.js';
import { parseDuration } from './duration.js';
import type { ApproverRef, Conditions, Escalation, PermissionLevel, RequirementSpec, Rule, SeverityCondition, SourceLocation, TimeWindow, WindowMode } from './types.js';

type Patterns = string | string[];

export interface RawConditions {
  action?: Patterns;
  environment?: Patterns;
  branch?: Patterns;
  target_branch?: Patterns;
  severity?: string | string[] | { at_least: string };
  paths?: Patterns;
  only_paths?: Patterns;
  event?: Patterns;
  actor?: Patterns;
  labels?: Patterns;
}

export interface RawRequirement {
  approvals?: number;
  approvers?: string[];
}

export interface RawEscalation {
  if?: RawConditions;
  after?: string;
  require?: RawRequirement;
  also_eligible?: string[];
  allow_self_approval?: boolean;
  notify?: string[];
}

export interface RawRule {
  name: string;
  if?: RawConditions;
  unless?: RawConditions;
  require?: RawRequirement;
  auto_approve?: boolean;
  escalate?: RawEscalation[];
  notify?: string[];
  timeout?: string;
  allow_self_approval?: boolean;
}

export interface RawWindow {
  name: string;
  time_zone: string;
  cron?: { start: string; end: string };
  start?: string;
  end?: string;
  if?: RawConditions;
  message?: string;
  mode?: WindowMode;
  override?: { approvals?: number; approvers: string[] };
}

export interface RawDefaults {
  approvals?: number;
  approvers?: string[];
  timeout?: string;
  allow_self_approval?: boolean;
  allow_bots?: boolean;
  min_permission?: PermissionLevel;
  reminder?: string;
  severity?: string;
}

export interface RawPolicy {
  version: 1;
  _extends?: string;
  severities?: string[];
  defaults?: RawDefaults;
  unmatched?: 'approve' | 'require';
  rules?: RawRule[];
  freezes?: RawWindow[];
  deploy_windows?: RawWindow[];
}

/** The keys of a policy file that hold windows, with the kind each holds. */
export const WINDOW_LISTS = [
  ['freezes', 'freeze'],
  ['deploy_windows', 'deploy_window'],
] as const;

/** A rule that lets its requests through without asking anyone (`auto_approve` and no `require`). */
export const autoApproves = (rule: Rule): boolean => rule.autoApprove && !rule.require;

/** Locates a JSON pointer within the file a rule came from. */
export type Locate = (pointer: string) => SourceLocation;

export function seconds(duration: string): number {
  const parsed = parseDuration(duration);
  if (!parsed.ok) throw new Error(`unchecked duration reached normalisation: ${parsed.message}`);
  return parsed.seconds;
}

export function approverRefs(approvers: readonly string[]): ApproverRef[] {
  return approvers.map((text) => {
    const parsed = parseApproverRef(text);
    if (!parsed.ok) throw new Error(`unchecked approver reached normalisation: ${parsed.message}`);
    return parsed.ref;
  });
}

const list = (value: Patterns | undefined): string[] | undefined => (value === undefined ? undefined : typeof value === 'string' ? [value] : [...value]);

function severityCondition(value: RawConditions['severity']): SeverityCondition | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return { anyOf: [value] };
  if (Array.isArray(value)) return { anyOf: [...value] };
  return { atLeast: value.at_least };
}

export function conditions(raw: RawConditions | undefined): Conditions {
  const out: Conditions = {};
  if (!raw) return out;
  const set = <K extends keyof Conditions>(key: K, value: Conditions[K] | undefined) => {
    if (value !== undefined) out[key] = value;
  };
  set('action', list(raw.action));
  set('environment', list(raw.environment));
  set('branch', list(raw.branch));
  set('targetBranch', list(raw.target_branch));
  set('severity', severityCondition(raw.severity));
  set('paths', list(raw.paths));
  set('onlyPaths', list(raw.only_paths));
  set('event', list(raw.event));
  set('actor', list(raw.actor));
  set('labels', list(raw.labels));
  return out;
}

export function requirement(raw: RawRequirement | undefined): RequirementSpec | undefined {
  if (!raw) return undefined;
  const out: RequirementSpec = {};
  if (raw.approvals !== undefined) out.approvals = raw.approvals;
  if (raw.approvers !== undefined) out.approvers = approverRefs(raw.approvers);
  return out;
}

export function rule(raw: RawRule, pointer: string, locate: Locate): Rule {
  const out: Rule = {
    name: raw.name,
    location: locate(pointer),
    if: conditions(raw.if),
    autoApprove: raw.auto_approve ?? false,
    escalate: (raw.escalate ?? []).map((e, j) => escalation(e, `${pointer}/escalate/${j}`, locate)),
    notify: [...(raw.notify ?? [])],
  };
  if (raw.unless !== undefined) out.unless = conditions(raw.unless);
  const require = requirement(raw.require);
  if (require) out.require = require;
  if (raw.allow_self_approval !== undefined) out.allowSelfApproval = raw.allow_self_approval;
  if (raw.timeout !== undefined) out.timeoutSeconds = seconds(raw.timeout);
  return out;
}

function escalation(raw: RawEscalation, pointer: string, locate: Locate): Escalation {
  const out: Escalation = { location: locate(pointer), notify: [...(raw.notify ?? [])] };
  if (raw.if !== undefined) out.if = conditions(raw.if);
  if (raw.after !== undefined) out.afterSeconds = seconds(raw.after);
  const require = requirement(raw.require);
  if (require) out.require = require;
  if (raw.also_eligible !== undefined) out.alsoEligible = approverRefs(raw.also_eligible);
  // Whether the requesters count towards the requirement it adds (checked: only with `require`).
  if (raw.allow_self_approval !== undefined) out.allowSelfApproval = raw.allow_self_approval;
  return out;
}

export function timeWindow(raw: RawWindow, kind: TimeWindow['kind'], layer: TimeWindow['layer'], pointer: string, locate: Locate): TimeWindow {
  const out: TimeWindow = {
    kind,
    name: raw.name,
    location: locate(pointer),
    layer,
    timeZone: raw.time_zone,
    schedule: raw.cron ? { kind: 'cron', start: raw.cron.start, end: raw.cron.end } : { kind: 'once', start: raw.start ?? '', end: raw.end ?? '' },
    if: conditions(raw.if),
    mode: raw.mode ?? 'wait',
  };
  if (raw.message !== undefined) out.message = raw.message;
  if (raw.override) out.override = { approvals: raw.override.approvals ?? 1, approvers: approverRefs(raw.override.approvers) };
  return out;
}
