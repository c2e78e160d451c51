import { describe, expect, test } from '@jest/globals';
import { conditionsContradict, conditionsImply } from '../../policies/implication.js';
import { formatDiagnostic, loadPolicy } from '../../policies/loader.js';
import type { Conditions } from '../../policies/types.js';

const FILE = '.github/jit-approval.yml';
const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

function warningsOf(text: string): string[] {
  const result = loadPolicy(text, FILE);
  if (!result.ok) throw new Error(result.diagnostics.map(formatDiagnostic).join('\n'));
  return result.warnings.map(formatDiagnostic);
}

describe('warnings for a valid policy that probably does not say what was meant', () => {
  const rows: [string, string, string[]][] = [
    [
      'CODEOWNERS-style directories in paths',
      yaml('version: 1', 'rules:', '  - name: infra', '    if: { paths: ["/infra/", "infra/", "infra", "infra/**", "Makefile", "*.tf"] }'),
      [
        `${FILE}:4:19: \`/infra/\` never matches: changed files are written without a leading "/" (paths are globs over file paths, not CODEOWNERS patterns); for everything under that directory write \`infra/**\``,
        `${FILE}:4:30: \`infra/\` never matches: a changed file's path never ends in "/"; for everything under that directory write \`infra/**\``,
        `${FILE}:4:40: \`infra\` matches only a file named exactly that, not what is inside a directory of that name; for the directory write \`infra/**\``,
        `${FILE}:4:73: \`*.tf\` matches only files at the repository's root ("*" never crosses "/"); for every directory write \`**/*.tf\``,
      ],
    ],
    [
      'a path that no changed file can have: a leading "/" on a glob or a file, an empty, "." or ".." segment',
      yaml('version: 1', 'rules:', '  - name: infra', '    if: { paths: ["/infra/**", "/Dockerfile", ".//infra/**", "../infra/**", "infra//*.tf", "infra/./main.tf", "./infra/**"] }'),
      [
        `${FILE}:4:19: \`/infra/**\` never matches: changed files are written without a leading "/" (paths are globs over file paths, not CODEOWNERS patterns); write \`infra/**\``,
        `${FILE}:4:32: \`/Dockerfile\` never matches: changed files are written without a leading "/" (paths are globs over file paths, not CODEOWNERS patterns); write \`Dockerfile\``,
        `${FILE}:4:47: \`.//infra/**\` never matches: changed files are written without a leading "/" (paths are globs over file paths, not CODEOWNERS patterns); write \`infra/**\``,
        `${FILE}:4:62: \`../infra/**\` never matches: a changed file's path has no empty, "." or ".." segment (it is relative to the repository's root); write \`infra/**\``,
        `${FILE}:4:77: \`infra//*.tf\` never matches: a changed file's path has no empty, "." or ".." segment (it is relative to the repository's root); write \`infra/*.tf\``,
        `${FILE}:4:92: \`infra/./main.tf\` never matches: a changed file's path has no empty, "." or ".." segment (it is relative to the repository's root); write \`infra/main.tf\``,
      ],
    ],
    [
      '`**` within a segment, as GitHub Actions writes every .tf file',
      yaml('version: 1', 'rules:', '  - name: infra', '    if: { paths: ["**.tf", "infra/**.tfvars", "src/a**", "**/*.tf", "a/**/b", "{**,x}/c"] }'),
      [
        `${FILE}:4:19: \`**.tf\` matches only files at the repository's root (\`**\` within a segment is \`*\`); for every directory write \`**/*.tf\``,
        `${FILE}:4:28: \`infra/**.tfvars\` matches only files directly in \`infra\` (\`**\` within a segment is \`*\`); for every directory write \`infra/**/*.tfvars\``,
        `${FILE}:4:47: \`src/a**\` matches only files in one directory (\`**\` within a segment is \`*\`); for every directory write \`**\` as a segment of its own, as in \`**/*.tf\``,
      ],
    ],
    [
      'a list written as one string where a value could hold the comma',
      yaml(
        'version: 1',
        'unmatched: require',
        'rules:',
        '  - name: production',
        '    if:',
        '      environment: production, staging',
        '      paths: infra/**, **/*.tf',
        '      branch: main,release/*',
        '      labels: [security, "needs review,sre"]',
        '    unless: { only_paths: ["data/a,b.csv", "{a, b}/**"] }',
        '    require: { approvers: ["@acme/sre"] }',
      ),
      [
        `${FILE}:6:20: \`production, staging\` is one pattern, not a list, so it matches only environment names holding that comma; did you mean a list \`[production, staging]\`?`,
        `${FILE}:7:14: \`infra/**, **/*.tf\` is one pattern, not a list, so it matches only file paths holding that comma; did you mean a list \`[infra/**, "**/*.tf"]\`?`,
        `${FILE}:8:15: \`main,release/*\` is one pattern, not a list, so it matches only branch names holding that comma; did you mean a list \`[main, release/*]\`?`,
        `${FILE}:9:26: \`needs review,sre\` is one pattern, not a list, so it matches only labels holding that comma; did you mean a list \`[needs review, sre]\`?`,
      ],
    ],
    [
      'regular-expression syntax in a glob, which matches only itself',
      yaml(
        'version: 1',
        'rules:',
        '  - name: production',
        '    if:',
        '      environment: ["^production$", "production|staging", "prod.*", "release-{a,b}", "a\\\\|b"]',
        '      paths: ["**/.*", "infra/.+/main.tf"]',
        '    require: { approvers: ["@acme/sre"] }',
      ),
      [
        `${FILE}:5:21: \`^production$\` reads like a regular expression, but conditions are globs: \`^\` and \`$\` are characters, not anchors, so it matches only values that hold them; as a glob, perhaps \`production\``,
        `${FILE}:5:37: \`production|staging\` reads like a regular expression, but conditions are globs: \`|\` is a character, not an alternative, so it matches only values that hold them; as a glob, perhaps \`{production,staging}\``,
        `${FILE}:5:59: \`prod.*\` reads like a regular expression, but conditions are globs: \`.\` is a dot, not any character, so it matches only values that hold them; as a glob, perhaps \`prod*\``,
        `${FILE}:6:24: \`infra/.+/main.tf\` reads like a regular expression, but conditions are globs: \`.\` is a dot, not any character, so it matches only values that hold them; as a glob, perhaps \`infra/?*/main.tf\``,
      ],
    ],
    [
      'a regular expression written over paths: an escaped dot, an anchored directory',
      yaml(
        'version: 1',
        'rules:',
        '  - name: infra',
        "    if: { paths: ['infra/.*\\.tf', '.*\\.sql', 'modules/[a-z]+\\.tf', '^infra/', '**/.*', '**/\\.env'] }",
        '    require: { approvers: ["@acme/sre"] }',
      ),
      [
        `${FILE}:4:19: \`infra/.*\\.tf\` reads like a regular expression, but conditions are globs: \`.\` is a dot, not any character, so it matches only values that hold them; as a glob, perhaps \`infra/**/*.tf\``,
        `${FILE}:4:35: \`.*\\.sql\` reads like a regular expression, but conditions are globs: \`.\` is a dot, not any character, so it matches only values that hold them; as a glob, perhaps \`**/*.sql\``,
        `${FILE}:4:46: \`modules/[a-z]+\\.tf\` reads like a regular expression, but conditions are globs: \`+\` is a character, not a repetition, so it matches only values that hold them; as a glob, perhaps \`modules/[a-z]*.tf\``,
        `${FILE}:4:68: \`^infra/\` reads like a regular expression, but conditions are globs: \`^\` is a character, not an anchor, so it matches only values that hold them; as a glob, perhaps \`infra/**\``,
      ],
    ],
    [
      'a near miss of codeowners among the approvers',
      yaml('version: 1', 'defaults: { approvers: [codeowner] }', 'rules:', '  - name: r', '    require: { approvers: ["code-owners", codeowners, alice] }'),
      [
        `${FILE}:2:25: "codeowner" is read as the GitHub user @codeowner; did you mean \`codeowners\`?`,
        `${FILE}:5:28: "code-owners" is read as the GitHub user @code-owners; did you mean \`codeowners\`?`,
      ],
    ],
    [
      'an auto-approve rule on any changed file',
      yaml('version: 1', 'rules:', '  - name: docs', '    if: { paths: "docs/**" }', '    auto_approve: true'),
      [`${FILE}:4:18: \`paths\` holds when *any* changed file matches, so this rule also auto-approves a change that touches other files as well (one docs file in an infra change); to auto-approve only changes made entirely of these files, write \`only_paths\``],
    ],
    [
      'an auto-approve rule that a requiring rule always overrides',
      yaml(
        'version: 1',
        'rules:',
        '  - name: production',
        '    if: { environment: production }',
        '  - name: docs',
        '    if: { environment: [production], only_paths: ["docs/**"] }',
        '    auto_approve: true',
      ),
      [`${FILE}:5:5: rule "docs" never has an effect: every request it matches also matches rule "production" (${FILE}:3), which requires approval, and a requirement wins over auto_approve; narrow "production" or remove this rule`],
    ],
    [
      'a docs carve-out that a rule requiring approval whatever changed overrides',
      yaml(
        'version: 1',
        'rules:',
        '  - name: production',
        '    if: { environment: production }',
        '    require: { approvers: ["@acme/leads"] }',
        '  - name: docs',
        '    if: { only_paths: ["docs/**"] }',
        '    auto_approve: true',
      ),
      [`${FILE}:6:5: where a request also matches rule "production" (${FILE}:3), that rule still requires approval whatever changed, and a requirement wins over auto_approve; to let it pass such changes, give "production" unless: { only_paths: ["docs/**"] }`],
    ],
    [
      'no warning once the requiring rule carves the change out itself, or cannot meet the auto-approve rule',
      yaml(
        'version: 1',
        'rules:',
        '  - name: production',
        '    if: { environment: production }',
        '    unless: { only_paths: ["docs/**"] }',
        '  - name: migrations',
        '    if: { action: migrate }',
        '  - name: docs',
        '    if: { action: deploy, only_paths: ["docs/**"] }',
        '    auto_approve: true',
      ),
      [],
    ],
    [
      'an event GitHub never sends, a branch written as a ref, an actor with "@"',
      yaml(
        'version: 1',
        'rules:',
        '  - name: production',
        '    if: { event: [psh, push, "pull_*"], branch: refs/heads/main, target_branch: [main, refs/heads/release] }',
        '    unless: { actor: "@dependabot[bot]", event: deploy }',
        'freezes:',
        '  - { name: f, time_zone: UTC, start: 2026-12-24, end: 2026-12-25T00:00, if: { event: schedul } }',
      ),
      [
        `${FILE}:3:5: rule "production" requires approval only where branch \`refs/heads/main\` and target branch \`main\` or \`refs/heads/release\` and event \`psh\` or \`push\` or \`pull_*\`; with unmatched: approve, the same requests from anywhere else (another branch, a tag, another event) match no rule and need no approval; if they should need it too, add a rule without branch and target branch and event, or set unmatched: require`,
        `${FILE}:4:19: \`psh\` is not an event that starts a workflow run, so this never matches; did you mean \`push\`?`,
        `${FILE}:4:49: \`refs/heads/main\` never matches: branches are compared by name, without \`refs/heads/\`; write \`main\``,
        `${FILE}:4:88: \`refs/heads/release\` never matches: branches are compared by name, without \`refs/heads/\`; write \`release\``,
        `${FILE}:5:22: \`@dependabot[bot]\` never matches: logins are compared without "@"; write \`dependabot[bot]\``,
        `${FILE}:5:49: \`deploy\` is not an event that starts a workflow run, so this never matches; write the event as \`github.event_name\` names it, such as \`push\`, \`pull_request\` or \`workflow_dispatch\``,
        `${FILE}:7:87: \`schedul\` is not an event that starts a workflow run, so this never matches; did you mean \`schedule\`?`,
      ],
    ],
    [
      'a requirement that names fewer people than the approvals it asks for',
      yaml(
        'version: 1',
        'defaults: { approvals: 2, approvers: [alice] }',
        'rules:',
        '  - name: production',
        '    require: { approvals: 3, approvers: [alice, "@Bob", bob] }',
        '  - name: staging',
        '    require: { approvals: 2, approvers: [alice, "@acme/leads"] }',
        '  - name: widened',
        '    require: { approvals: 2, approvers: [alice] }',
        '    escalate:',
        '      - { after: 1h, also_eligible: [carol] }',
        '      - { if: { severity: critical }, require: { approvers: [dave] } }',
        'freezes:',
        '  - { name: f, time_zone: UTC, start: 2026-12-24, end: 2026-12-25T00:00, mode: require, override: { approvals: 2, approvers: [erin] } }',
      ),
      [
        `${FILE}:2:24: the default requirement asks for 2 approvals but names only 1 person (alice), so no request under it can ever be approved; name more people, a team or a role, or ask for fewer approvals`,
        `${FILE}:5:27: rule "production" asks for 3 approvals but names only 2 people (alice, bob), so no request under it can ever be approved; name more people, a team or a role, or ask for fewer approvals`,
        `${FILE}:12:48: an escalation of rule "widened" asks for 2 approvals but names only 1 person (dave), so no request under it can ever be approved; name more people, a team or a role, or ask for fewer approvals`,
        `${FILE}:14:99: the override of "f" asks for 2 approvals but names only 1 person (erin), so no request under it can ever be approved; name more people, a team or a role, or ask for fewer approvals`,
      ],
    ],
    [
      'a path condition that lets a requiring rule go where any other file is in the change',
      yaml(
        'version: 1',
        'rules:',
        '  - name: production',
        '    if: { environment: production }',
        '    unless: { paths: ["docs/**"] }',
        '  - name: infra',
        '    if: { only_paths: ["infra/**"] }',
        '    require: { approvers: ["@acme/sre"] }',
      ),
      [
        `${FILE}:5:22: \`unless: { paths }\` takes the rule away when *any* changed file matches, so one such file added to any change (a docs file in an infra change) lifts the requirement; to lift it only for changes made entirely of these files, write \`unless: { only_paths }\``,
        `${FILE}:7:23: \`only_paths\` holds only when *every* changed file matches, so a change that touches these files and any other file (one docs file in an infra change) escapes this rule; for any change that touches these files, write \`paths\``,
      ],
    ],
    [
      'a path condition that lets a change past an escalation, a window or an auto-approving rule\'s unless where any other file is in it',
      yaml(
        'version: 1',
        'rules:',
        '  - name: bots',
        '    if: { actor: "dependabot[bot]" }',
        '    auto_approve: true',
        '    unless: { only_paths: [".github/workflows/**"] }',
        '  - name: production',
        '    if: { environment: production }',
        '    require: { approvers: ["@acme/leads"] }',
        '    escalate:',
        '      - if: { only_paths: ["infra/**"] }',
        '        require: { approvers: ["@acme/sre"] }',
        '      - after: 1h',
        '        if: { paths: ["docs/**"] }',
        '        also_eligible: ["@acme/writers"]',
        '      - after: 2h',
        '        if: { only_paths: ["docs/**"] }',
        '        also_eligible: ["@acme/writers"]',
        'freezes:',
        '  - name: infra-freeze',
        '    time_zone: UTC',
        '    start: 2026-12-20T00:00',
        '    end: 2027-01-02T00:00',
        '    if: { only_paths: ["infra/**"] }',
        'deploy_windows:',
        '  - name: db-hours',
        '    time_zone: UTC',
        '    cron: { start: "0 9 * * 1-5", end: "0 17 * * 1-5" }',
        '    if: { only_paths: ["db/**"] }',
      ),
      [
        `${FILE}:6:27: \`unless: { only_paths }\` takes the auto-approving rule away only when *every* changed file matches, so a change that touches these files and any other file (a workflow file beside a dependency bump) is still auto-approved; to keep any change that touches these files from being auto-approved, write \`unless: { paths }\``,
        `${FILE}:11:27: \`only_paths\` holds only when *every* changed file matches, so a change that touches these files and any other file (one docs file in an infra change) escapes this escalation; for any change that touches these files, write \`paths\``,
        `${FILE}:14:22: \`paths\` holds when *any* changed file matches, so this escalation also widens who may approve a change that touches other files as well (one docs file in an infra change); to widen it only for changes made entirely of these files, write \`only_paths\``,
        `${FILE}:24:23: \`only_paths\` holds only when *every* changed file matches, so a change that touches these files and any other file (one docs file in an infra change) escapes this freeze; for any change that touches these files, write \`paths\``,
        `${FILE}:29:23: \`only_paths\` holds only when *every* changed file matches, so a change that touches these files and any other file (one docs file in an infra change) escapes this deploy window; for any change that touches these files, write \`paths\``,
      ],
    ],
    [
      'an `unless` that matches every request takes the rule away from all of them',
      yaml(
        'version: 1',
        'rules:',
        '  - name: production',
        '    if: { environment: production }',
        '    unless: { actor: "*" }',
        '  - name: staging',
        '    if: { environment: staging }',
        '    unless: { actor: "*", branch: "release/*" }',
        '  - name: any-branch',
        '    if: { environment: qa }',
        '    unless: { event: "*", branch: "**" }',
      ),
      [
        `${FILE}:5:13: \`unless\` matches any \`actor\`, so rule "production" never applies where it is known (every run has an action, an event and an actor); narrow the \`unless\` to the requests it should let through`,
        `${FILE}:11:13: \`unless\` matches any \`event\` and any \`branch\`, so rule "any-branch" never applies where they are known (every run has an action, an event and an actor); narrow the \`unless\` to the requests it should let through`,
      ],
    ],
    [
      'a rule that requires approval only from some branches or events, with nothing for the rest',
      yaml(
        'version: 1',
        'rules:',
        '  - name: production',
        '    if: { environment: production, branch: [main, "release/**"], event: push }',
        '  - name: migrations',
        '    if: { action: migrate, target_branch: main }',
        '  - name: migrations-elsewhere',
        '    if: { action: migrate }',
        '    unless: { target_branch: main }',
        '  - name: previews',
        '    if: { environment: "preview-*", event: pull_request }',
        '    auto_approve: true',
        '  - name: tags',
        '    if: { branch: refs/tags/v* }',
      ),
      [
        `${FILE}:3:5: rule "production" requires approval only where branch \`main\` or \`release/**\` and event \`push\`; with unmatched: approve, the same requests from anywhere else (another branch, a tag, another event) match no rule and need no approval; if they should need it too, add a rule without branch and event, or set unmatched: require`,
        `${FILE}:13:5: rule "tags" requires approval only where branch \`refs/tags/v*\`; with unmatched: approve, the same requests from anywhere else (another branch, a tag, another event) match no rule and need no approval; if they should need it too, add a rule without branch, or set unmatched: require`,
        `${FILE}:14:19: \`refs/tags/v*\` never matches: a run of a tag has no branch, so no \`branch\` condition holds for it`,
      ],
    ],
    [
      'a rule that requires approval only for some labels, which only a pull request has',
      yaml('version: 1', 'rules:', '  - name: security', '    if: { action: deploy, labels: [security] }'),
      [
        `${FILE}:3:5: rule "security" requires approval only where label \`security\`; with unmatched: approve, the same requests from anywhere else (another branch, a tag, another event, a run without such a label: any but a pull request's, such as the deploy after the merge) match no rule and need no approval; if they should need it too, add a rule without label, or set unmatched: require`,
      ],
    ],
    [
      'nothing to say about a narrowed rule once another covers the rest, or unmatched requests need approval anyway',
      yaml('version: 1', 'unmatched: require', 'rules:', '  - name: production', '    if: { environment: production, branch: main }'),
      [],
    ],
    [
      'a requiring rule on exact severities that leaves out a more severe one no other rule requires approval for',
      yaml(
        'version: 1',
        'rules:',
        '  - name: high-risk',
        '    if: { severity: [high] }',
        '    require: { approvals: 2, approvers: ["@acme/sre"] }',
        '  - name: medium',
        '    if: { environment: production, severity: medium }',
        '  - name: critical',
        '    if: { environment: production, severity: critical }',
      ),
      [
        `${FILE}:3:5: rule "high-risk" requires approval for severity \`high\` but not for the more severe \`critical\`, and no other rule requires it there, so a step that states \`critical\` escapes it; if more severe requests should need it too, write \`severity: { at_least: high }\``,
      ],
    ],
    [
      'a condition escalation or an auto-approving rule\'s unless on exact severities that leaves out a more severe one',
      yaml(
        'version: 1',
        'rules:',
        '  - name: production',
        '    if: { environment: production }',
        '    require: { approvers: ["@acme/leads"] }',
        '    escalate:',
        '      - if: { severity: [high] }',
        '        require: { approvers: ["@acme/security"] }',
        '      - if: { severity: medium }',
        '        notify: [pager]',
        '  - name: staging',
        '    if: { environment: staging }',
        '    auto_approve: true',
        '    unless: { severity: high }',
        '  - name: preview',
        '    if: { environment: preview }',
        '    auto_approve: true',
        '    unless: { severity: medium }',
        '  - name: preview-critical',
        '    if: { environment: preview, severity: { at_least: high } }',
        '  - name: covered',
        '    if: { environment: qa }',
        '    escalate:',
        '      - if: { severity: high }',
        '        require: { approvers: ["@acme/security"] }',
        '      - if: { severity: critical }',
        '        require: { approvers: ["@acme/security"] }',
      ),
      [
        `${FILE}:7:25: an escalation of rule "production" adds a requirement for severity \`high\` but not for the more severe \`critical\`, and no other escalation of the rule adds one there, so a step that states \`critical\` escapes it; if more severe requests should need it too, write \`severity: { at_least: high }\``,
        `${FILE}:14:25: rule "staging" is taken away for severity \`high\` but not for the more severe \`critical\`, and no rule requires approval there, so a step that states \`critical\` is auto-approved; if more severe requests should need approval too, write \`unless: { severity: { at_least: high } }\``,
      ],
    ],
    [
      "a freeze's or deploy window's scope on exact severities that leaves out a more severe one no other window of its kind holds",
      yaml(
        'version: 1',
        'freezes:',
        '  - name: end-of-year',
        '    time_zone: Europe/Berlin',
        '    start: 2026-12-21',
        '    end: 2027-01-04T08:00',
        '    if: { environment: production, severity: [medium, high] }',
        'deploy_windows:',
        '  - name: office-hours',
        '    time_zone: Europe/London',
        '    cron: { start: "0 9 * * 1-5", end: "0 17 * * 1-5" }',
        '    if: { environment: production, severity: high }',
        '  - name: staging-hours',
        '    time_zone: Europe/London',
        '    cron: { start: "0 9 * * 1-5", end: "0 17 * * 1-5" }',
        '    if: { environment: staging, severity: high }',
        '  - name: staging-critical',
        '    time_zone: Europe/London',
        '    cron: { start: "0 9 * * 1-5", end: "0 17 * * 1-5" }',
        '    if: { environment: staging, severity: critical }',
      ),
      [
        `${FILE}:7:46: freeze "end-of-year" holds requests of severity \`medium\`, \`high\` but not of the more severe \`critical\`, and no other freeze holds them there, so a step that states \`critical\` escapes it; if more severe requests should be held too, write \`severity: { at_least: medium }\``,
        `${FILE}:12:46: deploy window "office-hours" holds requests of severity \`high\` but not of the more severe \`critical\`, and no other deploy window holds them there, so a step that states \`critical\` escapes it; if more severe requests should be held too, write \`severity: { at_least: high }\``,
      ],
    ],
    [
      'nothing to say about severities up to the highest, at_least, or an auto-approving rule on the lowest',
      yaml(
        'version: 1',
        'rules:',
        '  - name: high',
        '    if: { severity: [high, critical] }',
        '  - name: medium',
        '    if: { environment: production, severity: { at_least: medium } }',
        '  - name: low',
        '    if: { severity: low }',
        '    auto_approve: true',
      ),
      [],
    ],
    [
      'defaults.severity below a severity condition that requires approval: a step that states none gets past it',
      yaml(
        'version: 1',
        'defaults: { severity: low }',
        'freezes:',
        '  - name: hot',
        '    time_zone: UTC',
        '    start: 2099-01-01',
        '    end: 2099-01-02T00:00',
        '    if: { severity: critical }',
        'rules:',
        '  - name: risky',
        '    if: { environment: production, severity: { at_least: high } }',
        '    require: { approvals: 2, approvers: ["@acme/sre"] }',
        '    escalate:',
        '      - if: { severity: { at_least: medium } }',
        '        require: { approvers: ["@acme/security"] }',
        '  - name: low',
        '    if: { severity: low }',
        '    auto_approve: true',
      ),
      [
        `${FILE}:2:23: defaults.severity \`low\` is the severity of every step that states none: without it such a step would meet the severity condition of rule "risky", an escalation of rule "risky" (line 14) and freeze "hot", with it, it does not, so such a step gets through a looser gate; if steps that state no severity should be gated as the most severe, remove defaults.severity or have every step state its severity`,
      ],
    ],
    [
      'nothing to say about defaults.severity at the highest, or one every severity condition holds for',
      yaml('version: 1', 'defaults: { severity: medium }', 'rules:', '  - name: risky', '    if: { severity: { at_least: medium } }', '  - name: low', '    if: { severity: low }', '    auto_approve: true'),
      [],
    ],
    [
      'severities written most severe first',
      yaml('version: 1', 'severities: [critical, high, medium, low]'),
      [`${FILE}:2:13: \`severities\` lists a more severe name before a milder one; it runs from the lowest to the highest, so \`low\` is taken as the most severe, and \`at_least\` counts upwards from there; if \`critical\` is the most severe, reverse the list`],
    ],
    [
      'severities numbered upwards, as incidents are numbered from the worst',
      yaml('version: 1', 'severities: [sev1, sev2, sev3]'),
      [`${FILE}:2:13: \`severities\` numbers its names upwards (sev1, sev2, sev3), while a lower number usually names a worse incident; it runs from the lowest to the highest, so \`sev3\` is taken as the most severe, and \`at_least\` counts upwards from there; if \`sev1\` is the most severe, reverse the list`],
    ],
    [
      'nothing to say about severities from the mildest up, known names or not',
      yaml('version: 1', 'severities: [P3, P2, P1, P0]', 'rules:', '  - name: r', '    if: { severity: { at_least: P1 } }'),
      [],
    ],
    [
      'nothing to say about a policy that means what it says',
      yaml(
        'version: 1',
        'rules:',
        '  - name: production',
        '    if: { environment: production, paths: ["infra/**"] }',
        '    require: { approvers: [codeowners, "@acme/leads"] }',
        '  - name: docs',
        '    if: { environment: production, only_paths: ["docs/**", "**/*.md"] }',
        '    auto_approve: true',
      ),
      [],
    ],
  ];
  test.each(rows)('%s', (_case, text, expected) => {
    expect(warningsOf(text)).toEqual(expected);
  });

  test("a rule that never has an effect is pointed at in its own file, the org's or the repository's", () => {
    const org = { file: 'acme/.github:.github/jit-approval.yml', text: yaml('version: 1', 'rules:', '  - name: org-docs', '    if: { only_paths: ["docs/**"] }', '    auto_approve: true') };
    const repo = yaml('version: 1', '_extends: .github', 'rules:', '  - name: first', '    if: { environment: staging }', '    require: { approvals: 1 }', '  - name: everything', '    require: { approvals: 1 }', '  - name: docs', '    if: { only_paths: ["docs/**"] }', '    auto_approve: true');
    const result = loadPolicy(repo, FILE, { base: { file: org.file, text: org.text } });
    if (!result.ok) throw new Error(result.diagnostics.map(formatDiagnostic).join('\n'));
    const shadowed = result.warnings.filter((w) => w.message.includes('never has an effect'));
    expect(shadowed.map(({ file, pointer, line }) => ({ file, pointer, line }))).toEqual([
      { file: FILE, pointer: '/rules/2', line: 9 },
      { file: org.file, pointer: '/rules/0', line: 3 },
    ]);
  });
});

describe('conditionsImply: certain only from how the conditions are written', () => {
  const SEVERITIES = ['low', 'medium', 'high', 'critical'];
  const rows: [string, Conditions, Conditions, boolean][] = [
    ['anything implies no conditions', { environment: ['staging'] }, {}, true],
    ['the same environment, ignoring case', { environment: ['Production'] }, { environment: ['production'] }, true],
    ['a narrower list of branches', { branch: ['main'] }, { branch: ['main', 'release/**'] }, true],
    ['a wider list is not implied', { branch: ['main', 'dev'] }, { branch: ['main'] }, false],
    ['a missing fact is not implied', {}, { environment: ['production'] }, false],
    ['** takes anything', { branch: ['feature/x'] }, { branch: ['**'] }, true],
    ['globs are not reasoned about', { branch: ['release/1'] }, { branch: ['release/*'] }, false],
    ['narrower severities', { severity: { atLeast: 'high' } }, { severity: { anyOf: ['high', 'critical'] } }, true],
    ['wider severities', { severity: { atLeast: 'medium' } }, { severity: { atLeast: 'high' } }, false],
    ['every file under docs means some file under docs', { onlyPaths: ['docs/**'] }, { paths: ['docs/**', 'infra/**'] }, true],
    ['some file under docs is not every file', { paths: ['docs/**'] }, { onlyPaths: ['docs/**'] }, false],
  ];
  test.each(rows)('%s', (_case, a, b, expected) => {
    expect(conditionsImply(a, b, SEVERITIES)).toBe(expected);
  });
});

describe('conditionsContradict: no request can match both', () => {
  const SEVERITIES = ['low', 'medium', 'high', 'critical'];
  const rows: [string, Conditions, Conditions, boolean][] = [
    ['different literal actions', { action: ['deploy'] }, { action: ['migrate'] }, true],
    ['environments differ only in case', { environment: ['Production'] }, { environment: ['production'] }, false],
    ['a glob may match', { branch: ['release/*'] }, { branch: ['release/1'] }, false],
    ['facts only one names', { action: ['deploy'] }, { environment: ['production'] }, false],
    ['disjoint severities', { severity: { atLeast: 'high' } }, { severity: { anyOf: ['low'] } }, true],
  ];
  test.each(rows)('%s', (_case, a, b, expected) => {
    expect(conditionsContradict(a, b, SEVERITIES)).toBe(expected);
  });
});

describe('defaults.severity that meets a condition loosening the gate, which a step that states none never would', () => {
  const rows: [string, string, RegExp][] = [
    ['the unless of a rule that requires approval', yaml('version: 1', 'defaults: { severity: low }', 'rules:', '  - name: routine', '    unless: { severity: low }', '    require: { approvals: 1, approvers: ["@acme/leads"] }'), /the `unless` of rule "routine"/],
    ['an auto-approving rule under unmatched: require', yaml('version: 1', 'unmatched: require', 'defaults: { severity: low, approvers: ["@acme/leads"] }', 'rules:', '  - name: low', '    if: { severity: low }', '    auto_approve: true'), /auto-approving rule "low"/],
    ['a time escalation', yaml('version: 1', 'defaults: { severity: low }', 'rules:', '  - name: prod', '    if: { environment: production }', '    require: { approvals: 1, approvers: ["@acme/leads"] }', '    escalate:', '      - if: { severity: low }', '        after: 1m', '        also_eligible: ["role:write"]'), /a time escalation of rule "prod"/],
    ['a deploy window beside another', yaml('version: 1', 'defaults: { severity: low }', 'deploy_windows:', '  - name: office', '    time_zone: UTC', '    cron: { start: "0 9 * * 1-5", end: "0 17 * * 1-5" }', '    if: { environment: production }', '  - name: low-any-time', '    time_zone: UTC', '    cron: { start: "0 0 * * *", end: "59 23 * * *" }', '    if: { environment: production, severity: low }'), /deploy window "low-any-time"/],
  ];
  test.each(rows)('%s', (_case, text, expected) => {
    const warnings = warningsOf(text).filter((w) => w.includes('defaults.severity'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(expected);
  });
});

describe('checks between rules stay bounded however large the policy', () => {
  // Each rule requires approval for the lowest severity by name: every more severe name is a gap,
  // and each gap is looked for in every other rule, so the checks grow with rules² × severities.
  const policy = (rules: number, severities: number) =>
    `version: 1\nseverities: [${Array.from({ length: severities }, (_, i) => `s${i}`).join(', ')}]\nrules:\n` +
    Array.from({ length: rules }, (_, i) => `  - { name: r${i}, if: { action: a${i}, severity: [s0] }, require: { approvals: 1, approvers: ["@o"] } }\n`).join('');

  test('a policy with too many rules and severities to compare is loaded with one warning naming its rules, without comparing them', () => {
    const loaded = loadPolicy(policy(400, 40), 'p.yml');
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    // Compared, each of the 400 rules would be warned about the 39 severities above `s0`.
    expect(loaded.warnings.map(formatDiagnostic)).toEqual([
      expect.stringMatching(/^p\.yml:3:1: the policy has 400 rules and 40 severities: too many to check against each other .*not checked/),
    ]);
  });

  test('long lists of names in the conditions count towards the bound: a few rules cannot make each comparison slow', () => {
    // 20 rules and 1,000 severities are few comparisons, but each rule lists 500 severities by name and
    // every comparison reads them all: compared, this takes seconds, and a few more rules make it minutes.
    const names = Array.from({ length: 1_000 }, (_, i) => `s${i}`);
    const text =
      `version: 1\nseverities: [${names.join(', ')}]\nrules:\n` +
      Array.from({ length: 20 }, (_, i) => `  - { name: r${i}, if: { severity: [${names.slice(0, 500).join(', ')}] }, require: { approvals: 1, approvers: ["@o"] } }\n`).join('');
    const loaded = loadPolicy(text, 'p.yml');
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    expect(loaded.warnings.map(formatDiagnostic)).toEqual([
      expect.stringMatching(/^p\.yml:3:1: the policy has 20 rules and 1000 severities: too many to check against each other .*shorter lists of names$/),
    ]);
  });

  test('a large policy within the bound still gets the warnings that compare its rules', () => {
    const loaded = loadPolicy(policy(300, 4), 'p.yml');
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    expect(loaded.warnings).toHaveLength(300);
    expect(loaded.warnings[0].message).toMatch(/^rule "r0" requires approval for severity `s0` but not for the more severe/);
  });
});
