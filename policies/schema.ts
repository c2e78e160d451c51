/**
 * The JSON Schema (draft 2020-12) of `.github/jit-approval.yml`, version 1.
 *
 * Authored here so `policies/` needs no filesystem at runtime; `npm run schema` writes the same
 * object to `policies/jit-approval.schema.json` for editors, and a test fails when the two drift.
 * `patternErrorMessage` is the message VS Code / yaml-language-server show for a `pattern`
 * mismatch; the loader shows it too. Cross-field rules (an escalation needs `if` or `after`, …)
 * are checked by the loader, which is the authority.
 */

export const DEFAULT_SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;

/** A GitHub login: alphanumerics and single inner hyphens, at most 39 characters. */
const LOGIN = '[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}';
const TEAM_SLUG = '[A-Za-z0-9][A-Za-z0-9_.-]*';
export const APPROVER_PATTERN = `^(?:codeowners(?::any)?|role:(?:admin|maintain|write)|@${LOGIN}/${TEAM_SLUG}|@?${LOGIN}(?:\\[bot\\])?)$`;
export const DURATION_PATTERN = '^(?:\\d+[smhdw])+$';
const NAME_PATTERN = '^\\S(?:.*\\S)?$';
const LOCAL_DATE_TIME_PATTERN = '^\\d{4}-\\d{2}-\\d{2}(?:T\\d{2}:\\d{2}(?::\\d{2})?)?$';
const LOCAL_DATE_TIME_MESSAGE = 'expected a wall-clock date-time without an offset, YYYY-MM-DD or YYYY-MM-DDTHH:MM';

const duration = (description: string) => ({
  description: `${description} Written like 90s, 30m, 1h, 1h30m, 2d or 1w.`,
  type: 'string',
  pattern: DURATION_PATTERN,
  patternErrorMessage: 'expected a duration such as 90s, 30m, 1h, 1h30m, 2d or 1w',
});

const patterns = (description: string) => ({
  description: `${description} A single glob or a list of globs; the condition holds when any of them matches.`,
  type: ['string', 'array'],
  minLength: 1,
  minItems: 1,
  items: { type: 'string', minLength: 1, description: 'A glob: * ? ** {a,b} [abc]; no "!" negation.' },
});

const approvers = (description: string) => ({
  description,
  type: 'array',
  minItems: 1,
  items: { $ref: '#/$defs/approver' },
});

const notify = {
  description: 'Names of notifiers configured on the App (for example slack-deploys, pager). Secrets never live here.',
  type: 'array',
  items: { type: 'string', minLength: 1, description: 'A notifier name from the App configuration.' },
};

export const policySchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'Mercurial JIT Action Approval policy',
  description: 'Which workflow steps need approval, by whom. Lives in .github/jit-approval.yml on the default branch.',
  type: 'object',
  required: ['version'],
  additionalProperties: false,
  properties: {
    version: { description: 'Policy file format version. Always 1.', const: 1 },
    _extends: {
      description:
        'Inherit an org policy: ".github" (the org\'s .github repository, same path), "repo", "repo:path/file.yml" or "owner/repo:path/file.yml". Org rules are kept; see docs/POLICY.md for precedence.',
      type: 'string',
      minLength: 1,
    },
    severities: {
      description: 'Severity levels, ordered from lowest to highest. Used by if.severity and at_least.',
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', minLength: 1, pattern: NAME_PATTERN, patternErrorMessage: 'expected a severity name without surrounding spaces' },
      default: [...DEFAULT_SEVERITIES],
    },
    defaults: {
      description: 'Values used by rules (and by unmatched: require) that do not set their own.',
      type: 'object',
      additionalProperties: false,
      properties: {
        approvals: { description: 'How many distinct eligible people must approve.', type: 'integer', minimum: 1, default: 1 },
        approvers: approvers('Who may approve when a rule does not say. Default: [codeowners].'),
        timeout: duration('How long a request waits for a decision before it times out. Default: 1h.'),
        allow_self_approval: {
          description: 'Whether the requesters may approve their own request: who started or re-ran the run, for a pull request run who opened the pull request, and for any other run who opened the merged pull requests it ships. Default: false.',
          type: 'boolean',
          default: false,
        },
        allow_bots: { description: 'Whether a bot account\'s vote may count. No bot can vote today: the App takes no command from a bot\'s comment, and check run buttons and the dashboard are used by people. Default: false.', type: 'boolean', default: false },
        min_permission: {
          description: 'The lowest repository permission an approver must have. Default: write.',
          enum: ['write', 'maintain', 'admin'],
          default: 'write',
        },
        reminder: duration('Re-notify approvers of a pending request at this interval. Default: no reminders.'),
        severity: {
          description: 'The severity of a request whose step states none. Without it, such a request meets every severity condition that tightens the gate and none that loosens it, so leaving it out never dodges a severity rule.',
          type: 'string',
          minLength: 1,
        },
      },
    },
    unmatched: {
      description: 'When no rule matches: approve (no approval needed) or require (the defaults apply). Default: approve.',
      enum: ['approve', 'require'],
      default: 'approve',
    },
    rules: {
      description: 'Every matching rule\'s requirement must be met; a requirement wins over auto_approve.',
      type: 'array',
      items: { $ref: '#/$defs/rule' },
    },
    freezes: {
      description: 'Periods in which requests in scope may not go ahead (end of year, Friday evenings, a launch day). Org freezes from _extends always apply.',
      type: 'array',
      items: { $ref: '#/$defs/window' },
    },
    deploy_windows: {
      description: 'Periods in which requests in scope may go ahead (business hours); outside all of a file\'s windows they may not.',
      type: 'array',
      items: { $ref: '#/$defs/window' },
    },
  },
  $defs: {
    approver: {
      description:
        'Who may approve: codeowners (each group of changed files with code owners needs one of its owners, as GitHub\'s code-owner review), codeowners:any (any owner of any changed file), @org/team, a user login (with or without @), or role:admin, role:maintain, role:write.',
      type: 'string',
      pattern: APPROVER_PATTERN,
      patternErrorMessage: 'expected codeowners, codeowners:any, @org/team, a user login, or role:admin|maintain|write',
    },
    conditions: {
      description: 'Every key present must hold; a list means any of its entries.',
      type: 'object',
      additionalProperties: false,
      properties: {
        action: patterns('The action input of the step (for example deploy).'),
        environment: patterns('The environment of the job or step.'),
        branch: patterns("The run's branch (for a pull request, its head branch)."),
        target_branch: patterns("A pull request's base branch."),
        severity: {
          description: 'A severity, a list of severities, or {at_least: X} using the order of severities.',
          type: ['string', 'array', 'object'],
          minLength: 1,
          minItems: 1,
          items: { type: 'string', minLength: 1 },
          required: ['at_least'],
          additionalProperties: false,
          properties: { at_least: { description: 'The lowest matching severity.', type: 'string', minLength: 1 } },
        },
        paths: patterns('Changed files, repository-relative; holds when any changed file matches. For "only these files changed" (what auto-approve rules want) use only_paths.'),
        only_paths: patterns('Changed files, repository-relative; holds when there is at least one changed file and every changed file matches one of the globs ("docs only").'),
        event: patterns('The event that started the run (push, pull_request, workflow_dispatch, …).'),
        actor: patterns('The login that started the run, ignoring case. Brackets are literal: `dependabot[bot]` is that bot, `*[bot]` any bot.'),
        labels: patterns("A pull request's labels; holds when any label matches."),
      },
    },
    requirement: {
      description:
        'How many approvals, from whom. On a rule, keys left out come from defaults; on a condition escalation it is an additional requirement, and keys left out come from the rule\'s own requirement.',
      type: 'object',
      additionalProperties: false,
      properties: {
        approvals: { description: 'How many distinct eligible people must approve.', type: 'integer', minimum: 1 },
        approvers: approvers('Who may approve.'),
      },
    },
    escalation: {
      description:
        'By condition (if + require: an additional requirement that must also be met when the condition holds) or by time (after: while still pending, notify and let more people approve with also_eligible).',
      type: 'object',
      additionalProperties: false,
      properties: {
        if: { $ref: '#/$defs/conditions' },
        after: duration('Escalate when the request is still pending after this long.'),
        require: { $ref: '#/$defs/requirement' },
        also_eligible: approvers("Time escalations only: people who may also approve for the rule's own requirement once it fires, never for one a condition escalation added. They widen who counts; the number of approvals stays. Code owners are written codeowners:any here."),
        allow_self_approval: {
          description: "Condition escalations only: whether the requesters may count towards the requirement it adds. Default false, whatever the rule's own allow_self_approval: an escalation asks for someone else's scrutiny.",
          type: 'boolean',
        },
        notify,
      },
    },
    window: {
      description:
        'A freeze or deploy window: wall-clock times in time_zone, either a recurrence (cron: { start, end }) or one period (start and end date-times); if limits it to some requests.',
      type: 'object',
      required: ['name', 'time_zone'],
      additionalProperties: false,
      properties: {
        name: {
          description: 'A unique name among freezes and deploy windows, shown to people.',
          type: 'string',
          maxLength: 100,
          pattern: NAME_PATTERN,
          patternErrorMessage: 'expected a name without leading or trailing spaces',
        },
        time_zone: { description: 'An IANA time zone, for example Europe/Berlin or America/New_York. Times are wall-clock times there.', type: 'string', minLength: 1 },
        cron: {
          description: 'A recurrence: it starts at each time of start and lasts until the next time of end (as GitLab deploy freezes).',
          type: 'object',
          required: ['start', 'end'],
          additionalProperties: false,
          properties: {
            start: { description: 'A cron expression, for example "0 17 * * 5" (Fridays 17:00).', type: 'string', minLength: 1 },
            end: { description: 'A cron expression, for example "0 8 * * 1" (Mondays 08:00).', type: 'string', minLength: 1 },
          },
        },
        start: { description: 'One period: its first moment, YYYY-MM-DD or YYYY-MM-DDTHH:MM in time_zone.', type: 'string', pattern: LOCAL_DATE_TIME_PATTERN, patternErrorMessage: LOCAL_DATE_TIME_MESSAGE },
        end: { description: 'One period: the moment it is over, YYYY-MM-DD or YYYY-MM-DDTHH:MM in time_zone.', type: 'string', pattern: LOCAL_DATE_TIME_PATTERN, patternErrorMessage: LOCAL_DATE_TIME_MESSAGE },
        if: { $ref: '#/$defs/conditions' },
        message: { description: 'Shown to people on the check run, the thread and notifications.', type: 'string', minLength: 1, maxLength: 1000 },
        mode: {
          description: 'What happens to a request in scope while a freeze is on or outside a deploy window: wait (held until it opens, then decided again), reject (at once, with the message) or require (an override by named people, with a reason). Default: wait.',
          enum: ['wait', 'reject', 'require'],
          default: 'wait',
        },
        override: {
          description: 'With mode: require: who may override, and how many of them (default 1). An override must give a reason.',
          type: 'object',
          required: ['approvers'],
          additionalProperties: false,
          properties: {
            approvals: { description: 'How many distinct people must override.', type: 'integer', minimum: 1, default: 1 },
            approvers: approvers('Who may override.'),
          },
        },
      },
    },
    rule: {
      description: 'A rule: when its if holds, its requirement applies (or auto_approve).',
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: {
        name: {
          description: 'A unique name, shown in decisions and on the check run.',
          type: 'string',
          maxLength: 100,
          pattern: NAME_PATTERN,
          patternErrorMessage: 'expected a name without leading or trailing spaces',
        },
        if: { $ref: '#/$defs/conditions' },
        unless: {
          $ref: '#/$defs/conditions',
          description: 'The rule does not apply when every key here holds, e.g. unless: { only_paths: ["docs/**"] } on a rule that requires approval.',
        },
        require: { $ref: '#/$defs/requirement' },
        auto_approve: {
          description: 'No approval needed when this rule matches (unless another matching rule requires one).',
          type: 'boolean',
          default: false,
        },
        escalate: { description: 'Escalations, by condition or by time.', type: 'array', items: { $ref: '#/$defs/escalation' } },
        notify,
        timeout: duration('How long a request under this rule waits for a decision.'),
        allow_self_approval: { description: 'Whether the requesters (who started or re-ran the run; who opened the pull request it runs for, or the merged ones it ships) may approve under this rule.', type: 'boolean' },
      },
    },
  },
} as const;

/** The committed `jit-approval.schema.json`, byte for byte. */
export function policySchemaJson(): string {
  return `${JSON.stringify(policySchema, null, 2)}\n`;
}
