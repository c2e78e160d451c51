/**
 * Warnings for a valid policy that probably does not say what its author meant: each names the place
 * and the fix. They never change what the policy does; `mercurial-jit validate --strict` makes them
 * fail, and the policy preview on a pull request shows them at their line.
 */
import { closest, distance } from 'fastest-levenshtein';
import { compileGlob, hasWildcard } from './glob.js';
import { conditionsContradict, conditionsImply } from './implication.js';
import { severityMeets } from './predicates.js';
import { commaList } from './policy-checks.js';
import { joinPointer } from './yaml-source.js';
import { autoApproves, WINDOW_LISTS, type RawConditions, type RawPolicy } from './normalise.js';
import type { Conditions, Policy, Rule, SeverityCondition, TimeWindow, WindowSchedule } from './types.js';
import { abbreviatedZone, compileCron, compileSchedule, everInForce } from './windows.js';

export interface LintWarning {
  pointer: string;
  message: string;
}

const KEYWORDS = ['codeowners', 'codeowners:any'];
/**
 * The events that start a workflow run, as `github.event_name` names them (GitHub's "Events that
 * trigger workflows"; `dynamic` for the runs GitHub starts itself, such as Dependabot's).
 */
const WORKFLOW_EVENTS = [
  'branch_protection_rule', 'check_run', 'check_suite', 'create', 'delete', 'deployment', 'deployment_status', 'discussion', 'discussion_comment',
  'dynamic', 'fork', 'gollum', 'image_version', 'issue_comment', 'issues', 'label', 'merge_group', 'milestone', 'page_build', 'project', 'project_card',
  'project_column', 'public', 'pull_request', 'pull_request_review', 'pull_request_review_comment', 'pull_request_target', 'push', 'registry_package',
  'release', 'repository_dispatch', 'schedule', 'status', 'watch', 'workflow_call', 'workflow_dispatch', 'workflow_run',
];
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** Warnings about one file's own values (patterns, approvers), located by JSON pointer. */
export function lintFile(raw: RawPolicy): LintWarning[] {
  const warnings: LintWarning[] = [];
  const approvers = (value: unknown, at: string) =>
    list(value).forEach((approver, k) => {
      const warning = typeof approver === 'string' ? approverWarning(approver) : undefined;
      if (warning) warnings.push({ pointer: joinPointer(at, k), message: warning });
    });
  const conditions = (value: RawConditions | undefined, at: string) => {
    if (!isRecord(value)) return;
    for (const key of ['action', 'environment', 'event', 'branch', 'target_branch', 'actor', 'labels'] as const) {
      const patterns = value[key];
      list(patterns).forEach((pattern, k) => {
        const warning = typeof pattern === 'string' ? conditionWarning(key, pattern) : undefined;
        if (warning) warnings.push({ pointer: Array.isArray(patterns) ? joinPointer(`${at}/${key}`, k) : `${at}/${key}`, message: warning });
      });
    }
    for (const key of ['paths', 'only_paths'] as const) {
      const patterns = value[key];
      list(patterns).forEach((pattern, k) => {
        const warning = typeof pattern === 'string' ? pathWarning(key, pattern) : undefined;
        if (warning) warnings.push({ pointer: Array.isArray(patterns) ? joinPointer(`${at}/${key}`, k) : `${at}/${key}`, message: warning });
      });
    }
  };
  const severityOrder = severityOrderWarning(raw.severities);
  if (severityOrder) warnings.push({ pointer: '/severities', message: severityOrder });
  approvers(raw.defaults?.approvers, '/defaults/approvers');
  if (raw.defaults?.allow_bots === true) {
    warnings.push({
      pointer: '/defaults/allow_bots',
      message:
        'no bot can approve, whatever `allow_bots` says: the App takes no `/approve` or `/reject` from a bot\'s comment, and a check run\'s buttons and the dashboard are used by people',
    });
  }
  const tooFew = (approvals: unknown, listed: unknown, widenedBy: unknown[], at: string, whose: string) => {
    const warning = tooFewWarning(approvals, listed, widenedBy, whose);
    if (warning) warnings.push({ pointer: at, message: warning });
  };
  const defaultApprovals = raw.defaults?.approvals ?? 1;
  const defaultApprovers = raw.defaults?.approvers;
  if (raw.defaults?.approvers !== undefined) tooFew(defaultApprovals, defaultApprovers, [], raw.defaults.approvals !== undefined ? '/defaults/approvals' : '/defaults/approvers', 'the default requirement');
  (raw.rules ?? []).forEach((rule, i) => {
    const at = `/rules/${i}`;
    conditions(rule.if, `${at}/if`);
    conditions(rule.unless, `${at}/unless`);
    approvers(rule.require?.approvers, `${at}/require/approvers`);
    const approvals = rule.require?.approvals ?? defaultApprovals;
    const listed = rule.require?.approvers ?? defaultApprovers;
    const widenedBy = (rule.escalate ?? []).flatMap((escalation) => (escalation.after !== undefined ? list(escalation.also_eligible) : []));
    if (rule.require?.approvals !== undefined || rule.require?.approvers !== undefined) tooFew(approvals, listed, widenedBy, rule.require.approvals !== undefined ? `${at}/require/approvals` : `${at}/require`, `rule "${rule.name}"`);
    (rule.escalate ?? []).forEach((escalation, j) => {
      if (escalation.require) tooFew(escalation.require.approvals ?? approvals, escalation.require.approvers ?? listed, [], `${at}/escalate/${j}/require`, `an escalation of rule "${rule.name}"`);
    });
    const requires = rule.auto_approve !== true || rule.require !== undefined;
    if (requires && isRecord(rule.if) && rule.if.only_paths !== undefined) {
      warnings.push({ pointer: `${at}/if/only_paths`, message: onlyPathsEscapes('rule') });
    }
    if (!requires && isRecord(rule.unless) && rule.unless.only_paths !== undefined) {
      warnings.push({
        pointer: `${at}/unless/only_paths`,
        message:
          '`unless: { only_paths }` takes the auto-approving rule away only when *every* changed file matches, so a change that touches these files and any other file (a workflow file beside a dependency bump) is still auto-approved; to keep any change that touches these files from being auto-approved, write `unless: { paths }`',
      });
    }
    if (requires && isRecord(rule.unless) && rule.unless.paths !== undefined) {
      warnings.push({
        pointer: `${at}/unless/paths`,
        message:
          '`unless: { paths }` takes the rule away when *any* changed file matches, so one such file added to any change (a docs file in an infra change) lifts the requirement; to lift it only for changes made entirely of these files, write `unless: { only_paths }`',
      });
    }
    if (requires && isRecord(rule.unless) && holdsForEveryone(rule.unless)) {
      warnings.push({
        pointer: `${at}/unless`,
        message: `\`unless\` matches any ${Object.keys(rule.unless).map((key) => `\`${key}\``).join(' and any ')}, so rule "${rule.name}" never applies where ${Object.keys(rule.unless).length === 1 ? 'it is' : 'they are'} known (every run has an action, an event and an actor); narrow the \`unless\` to the requests it should let through`,
      });
    }
    if (rule.auto_approve === true && isRecord(rule.if) && rule.if.paths !== undefined) {
      warnings.push({
        pointer: `${at}/if/paths`,
        message:
          '`paths` holds when *any* changed file matches, so this rule also auto-approves a change that touches other files as well (one docs file in an infra change); to auto-approve only changes made entirely of these files, write `only_paths`',
      });
    }
    (rule.escalate ?? []).forEach((escalation, j) => {
      conditions(escalation.if, `${at}/escalate/${j}/if`);
      // A condition escalation adds a requirement (it tightens); a time escalation widens who may approve (it loosens).
      if (escalation.after === undefined && isRecord(escalation.if) && escalation.if.only_paths !== undefined) {
        warnings.push({ pointer: `${at}/escalate/${j}/if/only_paths`, message: onlyPathsEscapes('escalation') });
      }
      if (escalation.after !== undefined && isRecord(escalation.if) && escalation.if.paths !== undefined) {
        warnings.push({
          pointer: `${at}/escalate/${j}/if/paths`,
          message:
            '`paths` holds when *any* changed file matches, so this escalation also widens who may approve a change that touches other files as well (one docs file in an infra change); to widen it only for changes made entirely of these files, write `only_paths`',
        });
      }
      approvers(escalation.require?.approvers, `${at}/escalate/${j}/require/approvers`);
      approvers(escalation.also_eligible, `${at}/escalate/${j}/also_eligible`);
    });
  });
  for (const [key, kind] of WINDOW_LISTS) {
    (raw[key] ?? []).forEach((window, i) => {
      conditions(window.if, `/${key}/${i}/if`);
      // A window's scope holds a request back: a change that leaves it escapes the window.
      if (isRecord(window.if) && window.if.only_paths !== undefined) {
        warnings.push({ pointer: `/${key}/${i}/if/only_paths`, message: onlyPathsEscapes(kind === 'freeze' ? 'freeze' : 'deploy window') });
      }
      if (window.override) tooFew(window.override.approvals ?? 1, window.override.approvers, [], `/${key}/${i}/override`, `the override of "${window.name}"`);
    });
  }
  return warnings;
}

/** `only_paths` where holding it tightens the gate: one file of another kind in the change takes the change out of it. */
function onlyPathsEscapes(what: string): string {
  return `\`only_paths\` holds only when *every* changed file matches, so a change that touches these files and any other file (one docs file in an infra change) escapes this ${what}; for any change that touches these files, write \`paths\``;
}

/**
 * Conditions that hold for any value of their facts: `**` for any key, `*` for the facts that are never
 * written with a "/" (an action, an event, a login).
 */
function holdsForEveryone(conditions: Record<string, unknown>): boolean {
  const keys = Object.keys(conditions);
  return keys.length > 0 && keys.every((key) => list(conditions[key]).some((pattern) => pattern === '**' || (pattern === '*' && ['action', 'event', 'actor'].includes(key))));
}

/** How severe the usual names are, by convention; a list in another order was most likely written most severe first. */
const CONVENTIONAL_RANK = new Map([
  ['trivial', 0], ['info', 0], ['low', 1], ['minor', 1], ['medium', 2], ['moderate', 2], ['high', 3], ['major', 3], ['critical', 4], ['blocker', 4],
]);

/**
 * `severities` runs from the lowest to the highest. Written the other way round (`[critical, high, …]`,
 * or `[sev1, sev2]` where sev1 is the worst), every `at_least` holds for the wrong ones.
 */
function severityOrderWarning(severities: unknown): string | undefined {
  if (!Array.isArray(severities) || !severities.every((s): s is string => typeof s === 'string')) return undefined;
  const fix = `it runs from the lowest to the highest, so \`${severities.at(-1)}\` is taken as the most severe, and \`at_least\` counts upwards from there; if \`${severities[0]}\` is the most severe, reverse the list`;
  const ranked = severities.map((name) => CONVENTIONAL_RANK.get(name.toLowerCase())).filter((rank) => rank !== undefined);
  if (ranked.some((rank, i) => i > 0 && rank < ranked[i - 1]!)) return `\`severities\` lists a more severe name before a milder one; ${fix}`;
  // sev1 and P0 are the worst of their kind: numbered names should count down.
  const numbers = severities.map((name) => /^(?:sev|p)-?(\d+)$/i.exec(name)?.[1]).filter((n) => n !== undefined).map(Number);
  if (numbers.length >= 2 && numbers.every((n, i) => i === 0 || n > numbers[i - 1]!)) return `\`severities\` numbers its names upwards (${severities.join(', ')}), while a lower number usually names a worse incident; ${fix}`;
  return undefined;
}

/** A value a condition compares with what GitHub sends, written so that it never matches. */
function conditionWarning(key: 'action' | 'environment' | 'event' | 'branch' | 'target_branch' | 'actor' | 'labels', pattern: string): string | undefined {
  const list = commaList(key, pattern);
  if (list) return list.error ? undefined : list.message;
  if (key === 'event' && !hasWildcard(pattern) && !WORKFLOW_EVENTS.includes(pattern)) {
    const nearest = closest(pattern.toLowerCase(), WORKFLOW_EVENTS);
    const hint = distance(pattern.toLowerCase(), nearest) <= 3 ? `did you mean \`${nearest}\`?` : 'write the event as `github.event_name` names it, such as `push`, `pull_request` or `workflow_dispatch`';
    return `\`${pattern}\` is not an event that starts a workflow run, so this never matches; ${hint}`;
  }
  if ((key === 'branch' || key === 'target_branch') && pattern.startsWith('refs/tags/')) {
    return `\`${pattern}\` never matches: a run of a tag has no branch, so no \`${key}\` condition holds for it`;
  }
  if ((key === 'branch' || key === 'target_branch') && pattern.startsWith('refs/')) {
    return `\`${pattern}\` never matches: branches are compared by name, without \`refs/heads/\`; write \`${pattern.replace(/^refs\/heads\//, '')}\``;
  }
  if (key === 'actor' && pattern.startsWith('@')) {
    return `\`${pattern}\` never matches: logins are compared without "@"; write \`${pattern.slice(1)}\``;
  }
  return regexWarning(pattern, { dotStar: true });
}

/**
 * Regular-expression syntax in a glob (`^production$`, `production|staging`, `prod.*`): each of
 * those characters matches only itself, so the condition holds only for a value holding them. In
 * paths `.*` is left alone (it is how a glob names dotfiles, `.*rc`) unless a regex's escaped dot
 * stands beside it (`infra/.*\.tf`); `paths` makes the suggestion a path glob (`infra/**\/*.tf`).
 */
function regexWarning(pattern: string, { dotStar, paths = false }: { dotStar: boolean; paths?: boolean }): string | undefined {
  // Escaped characters and what is inside `{}` or `[]` are the glob's own.
  let bare = '';
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') i++;
    else if (c === '{' || c === '[') depth++;
    else if ((c === '}' || c === ']') && depth > 0) depth--;
    bare += c === '\\' || depth > 0 || c === '}' || c === ']' ? '_' : c;
  }
  // `\.` is how a regular expression writes a dot; a glob's dot is already one, so only a regex needs it.
  const escapedDot = /(?<!\\)(?:\\\\)*\\\./.test(pattern);
  // With `\.` beside it, `.*` is the regex's "anything" too, even in paths (where `.*rc` names dotfiles).
  const anyDotStar = dotStar || escapedDot;
  const anchors = [...(bare.startsWith('^') ? ['`^`'] : []), ...(bare.endsWith('$') ? ['`$`'] : [])];
  const signs = [
    ...(anchors.length > 0 ? [`${anchors.join(' and ')} ${anchors.length > 1 ? 'are characters' : 'is a character'}, not ${anchors.length > 1 ? 'anchors' : 'an anchor'}`] : []),
    ...(bare.includes('|') ? ['`|` is a character, not an alternative'] : []),
    ...(/\.\+/.test(bare) || (anyDotStar && /\.\*/.test(bare)) ? ['`.` is a dot, not any character'] : []),
    ...(/(?<!\\)\]\+/.test(pattern) ? ['`+` is a character, not a repetition'] : []),
  ];
  if (signs.length === 0) return undefined;
  let glob = pattern;
  if (bare.startsWith('^')) glob = glob.slice(1);
  if (bare.endsWith('$')) glob = glob.slice(0, -1);
  glob = glob.replace(/\.\+/g, '?*');
  if (paths && escapedDot) {
    // A regex's `.*` crosses "/": in a path it is `**` where it starts a segment.
    glob = glob.replace(/(^|\/)\.\*\\\./g, '$1**/*.').replace(/(^|\/)\.\*$/, '$1**');
  }
  if (anyDotStar) glob = glob.replace(/\.\*/g, '*');
  glob = glob.replace(/(?<!\\)\]\+/g, ']*');
  if (escapedDot) glob = glob.replace(/\\\./g, '.');
  if (bare.includes('|') && !/[{}]/.test(glob)) glob = `{${glob.split('|').join(',')}}`;
  // A path's directory, as `^infra/` leaves it, is everything under it.
  if (paths) glob = glob.replace(/^\/+/, '').replace(/\/$/, '/**');
  const hint = glob !== pattern && compileGlob(glob).ok ? `; as a glob, perhaps \`${glob}\`` : '';
  return `\`${pattern}\` reads like a regular expression, but conditions are globs: ${signs.join('; ')}, so it matches only values that hold them${hint}`;
}

/**
 * A requirement that only ever names people, fewer than the approvals it asks for: nobody can meet
 * it, so every request under it is blocked. Teams, roles and code owners are counted when requests
 * come, so a requirement that lists any is left alone; people a time escalation adds count too.
 */
function tooFewWarning(approvals: unknown, listed: unknown, widenedBy: unknown[], whose: string): string | undefined {
  if (typeof approvals !== 'number' || !Array.isArray(listed)) return undefined;
  const all = [...listed, ...widenedBy];
  const isPerson = (a: unknown) => typeof a === 'string' && !a.includes('/') && !a.startsWith('role:') && !KEYWORDS.includes(a);
  if (!all.every(isPerson)) return undefined;
  const people = new Set(all.map((a) => (a as string).replace(/^@/, '').toLowerCase()));
  if (people.size >= approvals) return undefined;
  return `${whose} asks for ${approvals} approvals but names only ${people.size} ${people.size === 1 ? 'person' : 'people'} (${[...people].join(', ')}), so no request under it can ever be approved; name more people, a team or a role, or ask for fewer approvals`;
}

/** CODEOWNERS writes directories as `/infra/` or `infra/`; a policy glob matches whole file paths. */
function pathWarning(key: string, pattern: string): string | undefined {
  const fix = (dir: string) => `\`${dir.replace(/^\/+|\/+$/g, '')}/**\``;
  // The glob ignores a leading `./` (see glob.ts), so what follows it is what must match.
  const bare = pattern.replace(/^(?:\.\/)+/, '');
  // First, so that the fix of a regex (`^infra/`) is a glob that matches, not the regex with `**` added.
  const regex = regexWarning(pattern, { dotStar: false, paths: true });
  if (regex) return regex;
  if (bare.startsWith('/')) {
    // `/infra/` is a CODEOWNERS directory; `/infra/**` or `/Dockerfile` only needs its "/" dropped.
    const fixed = bare.endsWith('/') ? `for everything under that directory write ${fix(bare)}` : `write \`${bare.replace(/^\/+/, '')}\``;
    return `\`${pattern}\` never matches: changed files are written without a leading "/" (${key} are globs over file paths, not CODEOWNERS patterns); ${fixed}`;
  }
  if (pattern.endsWith('/')) {
    return `\`${pattern}\` never matches: a changed file's path never ends in "/"; for everything under that directory write ${fix(pattern)}`;
  }
  const segments = bare.split('/');
  const notAName = (segment: string) => segment === '' || segment === '.' || segment === '..';
  if (segments.some(notAName)) {
    return `\`${pattern}\` never matches: a changed file's path has no empty, "." or ".." segment (it is relative to the repository's root); write \`${segments.filter((segment) => !notAName(segment)).join('/')}\``;
  }
  const list = commaList(key, pattern);
  if (list) return list.message;
  // `**.tf` is every .tf file in GitHub Actions' `paths` filters; here `**` within a segment is `*`.
  const partial = /(?<=[^/{,])\*\*|\*\*(?=[^/},])/.exec(pattern.replace(/\\./g, '__'));
  if (partial) {
    const before = pattern.slice(0, partial.index);
    const where = before === '' ? "at the repository's root" : before.endsWith('/') ? `directly in \`${before.slice(0, -1)}\`` : 'in one directory';
    const fix = before === '' || before.endsWith('/') ? `write \`${before}**/*${pattern.slice(partial.index + 2)}\`` : 'write `**` as a segment of its own, as in `**/*.tf`';
    return `\`${pattern}\` matches only files ${where} (\`**\` within a segment is \`*\`); for every directory ${fix}`;
  }
  // `*.tf` as CODEOWNERS reads it (anywhere); here `*` never crosses "/", so only the root's files match.
  if (pattern.startsWith('*') && !pattern.startsWith('**') && !pattern.includes('/')) {
    return `\`${pattern}\` matches only files at the repository's root ("*" never crosses "/"); for every directory write \`**/${pattern}\``;
  }
  const last = pattern.slice(pattern.lastIndexOf('/') + 1);
  if (!hasWildcard(pattern) && !last.includes('.') && /^[a-z0-9_-]+$/.test(last)) {
    return `\`${pattern}\` matches only a file named exactly that, not what is inside a directory of that name; for the directory write ${fix(pattern)}`;
  }
  return undefined;
}

/** A login one typo away from a keyword is almost always the keyword. */
function approverWarning(approver: string): string | undefined {
  const word = approver.replace(/^@/, '');
  if (KEYWORDS.includes(approver) || word.includes('/') || approver.startsWith('role:')) return undefined;
  const nearest = closest(word.toLowerCase(), KEYWORDS);
  if (distance(word.toLowerCase(), nearest) > 2) return undefined;
  return `"${approver}" is read as the GitHub user @${word}; did you mean \`${nearest}\`?`;
}

/**
 * An auto-approving rule whose every match is also matched by a rule that requires approval never
 * has an effect: a requirement wins over auto_approve. Only certain cases are reported.
 */
export function lintShadowedRules(rules: readonly Rule[], severities: readonly string[]): { rule: Rule; message: string }[] {
  const found: { rule: Rule; message: string }[] = [];
  for (const auto of rules) {
    if (!autoApproves(auto)) continue;
    // A requiring rule with `unless` may carve the auto-approved changes out: never certain enough to warn.
    const requiring = rules.find((other) => other !== auto && !autoApproves(other) && !other.unless && conditionsImply(auto.if, other.if, severities));
    if (requiring) {
      found.push({
        rule: auto,
        message: `rule "${auto.name}" never has an effect: every request it matches also matches rule "${requiring.name}" (${requiring.location.file}:${requiring.location.line}), which requires approval, and a requirement wins over auto_approve; narrow "${requiring.name}" or remove this rule`,
      });
      continue;
    }
    const carveOut = auto.if.onlyPaths ?? auto.if.paths;
    if (!carveOut) continue;
    // A path carve-out next to a rule that requires approval whatever changed: where both match, the requirement wins.
    const overriding = rules.find(
      (other) => other !== auto && !autoApproves(other) && !other.unless && !other.if.paths && !other.if.onlyPaths && !conditionsContradict(auto.if, other.if, severities),
    );
    if (overriding) {
      const globs = carveOut.map((g) => `"${g}"`).join(', ');
      found.push({
        rule: auto,
        message: `where a request also matches rule "${overriding.name}" (${overriding.location.file}:${overriding.location.line}), that rule still requires approval whatever changed, and a requirement wins over auto_approve; to let it pass such changes, give "${overriding.name}" unless: { only_paths: [${globs}] }`,
      });
    }
  }
  return found;
}

/** The names more severe than the lowest of `condition`'s, left out of it and not `covered`. */
function severityGap(condition: SeverityCondition | undefined, severities: readonly string[], covered: (severity: string) => boolean) {
  const named = condition && 'anyOf' in condition ? condition.anyOf : undefined;
  if (!named) return undefined;
  const lowest = Math.min(...named.map((name) => severities.indexOf(name)));
  if (lowest < 0) return undefined;
  const missed = severities.slice(lowest + 1).filter((severity) => !named.includes(severity) && !covered(severity));
  if (missed.length === 0) return undefined;
  const list = missed.map((name) => `\`${name}\``).join(', ');
  return { named: named.map((name) => `\`${name}\``).join(', '), list, states: missed.length === 1 ? list : `one of ${list}`, lowest: severities[lowest] };
}

/** The same conditions at one severity. */
const atSeverity = (conditions: Conditions, severity: string): Conditions => ({ ...conditions, severity: { anyOf: [severity] } });

/**
 * A rule that requires approval for some severities by name (`[high]`) leaves out the more severe ones
 * above them (`critical`), which a step may state to escape it. Reported when no other rule that
 * requires approval covers the same requests at those severities.
 */
export function lintSeverityGaps(rules: readonly Rule[], severities: readonly string[]): { rule: Rule; message: string; pointer?: string }[] {
  const found: { rule: Rule; message: string; pointer?: string }[] = [];
  const gap = (condition: SeverityCondition | undefined, covered: (severity: string) => boolean) => severityGap(condition, severities, covered);
  const requiredBy = (rule: Rule, conditions: Conditions) => (severity: string) =>
    rules.some((other) => other !== rule && !autoApproves(other) && !other.unless && conditionsImply(atSeverity(conditions, severity), other.if, severities));
  for (const rule of rules) {
    const own = autoApproves(rule) ? undefined : gap(rule.if.severity, requiredBy(rule, rule.if));
    if (own) {
      found.push({
        rule,
        message: `rule "${rule.name}" requires approval for severity ${own.named} but not for the more severe ${own.list}, and no other rule requires it there, so a step that states ${own.states} escapes it; if more severe requests should need it too, write \`severity: { at_least: ${own.lowest} }\``,
      });
    }
    // An auto-approving rule's `unless` keeps requests from being let through (it tightens): a more severe name it leaves out is let through.
    const unless = autoApproves(rule) && rule.unless ? gap(rule.unless.severity, requiredBy(rule, rule.if)) : undefined;
    if (unless) {
      found.push({
        rule,
        pointer: '/unless/severity',
        message: `rule "${rule.name}" is taken away for severity ${unless.named} but not for the more severe ${unless.list}, and no rule requires approval there, so a step that states ${unless.states} is auto-approved; if more severe requests should need approval too, write \`unless: { severity: { at_least: ${unless.lowest} } }\``,
      });
    }
    // A condition escalation's requirement (security for a high-severity change) is met by no other of the rule's for a more severe one.
    const adding = rule.escalate.map((e, j) => ({ e, j })).filter(({ e }) => e.afterSeconds === undefined && e.require !== undefined && e.if !== undefined);
    for (const { e, j } of adding) {
      const conditions = e.if!;
      const missed = gap(conditions.severity, (severity) => adding.some(({ e: other }) => other !== e && conditionsImply(atSeverity(conditions, severity), other.if!, severities)));
      if (!missed) continue;
      found.push({
        rule,
        pointer: `/escalate/${j}/if/severity`,
        message: `an escalation of rule "${rule.name}" adds a requirement for severity ${missed.named} but not for the more severe ${missed.list}, and no other escalation of the rule adds one there, so a step that states ${missed.states} escapes it; if more severe requests should need it too, write \`severity: { at_least: ${missed.lowest} }\``,
      });
    }
  }
  return found;
}

/**
 * A freeze or deploy window whose scope lists severities by name (`[medium, high]`) and leaves out a
 * more severe one (`critical`) that no other window of its kind holds: a step that states it is
 * neither frozen nor kept to the window's hours.
 */
export function lintWindowSeverityGaps(windows: readonly TimeWindow[], severities: readonly string[]): { window: TimeWindow; message: string }[] {
  const found: { window: TimeWindow; message: string }[] = [];
  for (const window of windows) {
    const held = (severity: string) =>
      windows.some((other) => other !== window && other.kind === window.kind && conditionsImply(atSeverity(window.if, severity), other.if, severities));
    const missed = severityGap(window.if.severity, severities, held);
    if (!missed) continue;
    const kind = window.kind === 'freeze' ? 'freeze' : 'deploy window';
    found.push({
      window,
      message: `${kind} "${window.name}" holds requests of severity ${missed.named} but not of the more severe ${missed.list}, and no other ${kind} holds them there, so a step that states ${missed.states} escapes it; if more severe requests should be held too, write \`severity: { at_least: ${missed.lowest} }\``,
    });
  }
  return found;
}

/** Conditions that say where a request comes from rather than what it is: narrowed by them, a gate has a way around. */
const ORIGIN_KEYS = [
  ['branch', 'branch'],
  ['targetBranch', 'target branch'],
  ['event', 'event'],
  // Only a pull request's runs have labels: the deploy after the merge has none.
  ['labels', 'label'],
] as const;

/**
 * With `unmatched: approve`, a rule that requires approval only for requests from some branches,
 * events or labels leaves the same requests from anywhere else with no rule and no approval: a
 * production deploy from a tag, another branch, a `repository_dispatch` or the push after a pull
 * request's merge, which has no labels. Reported when no rule that requires
 * approval covers the rule's other conditions whatever the origin.
 */
export function lintNarrowedGates(rules: readonly Rule[], severities: readonly string[]): { rule: Rule; message: string }[] {
  const found: { rule: Rule; message: string }[] = [];
  const requires = (rule: Rule) => !autoApproves(rule);
  for (const rule of rules) {
    const narrowing = ORIGIN_KEYS.filter(([key]) => rule.if[key] !== undefined);
    if (!requires(rule) || narrowing.length === 0) continue;
    const scope = { ...rule.if };
    const origin: Conditions = {};
    for (const [key] of narrowing) {
      origin[key] = rule.if[key];
      delete scope[key];
    }
    // Covered by another rule that requires approval whatever the origin, or everywhere but where this one does (`unless: { event: push }`).
    const covers = (other: Rule) => other !== rule && requires(other) && conditionsImply(scope, other.if, severities) && (!other.unless || conditionsImply(other.unless, origin, severities));
    if (rules.some(covers)) continue;
    const where = narrowing.map(([key, label]) => `${label} ${rule.if[key]!.map((v) => `\`${v}\``).join(' or ')}`).join(' and ');
    const labels = rule.if.labels ? ", a run without such a label: any but a pull request's, such as the deploy after the merge" : '';
    found.push({
      rule,
      message: `rule "${rule.name}" requires approval only where ${where}; with unmatched: approve, the same requests from anywhere else (another branch, a tag, another event${labels}) match no rule and need no approval; if they should need it too, add a rule without ${narrowing.map(([, label]) => label).join(' and ')}, or set unmatched: require`,
    });
  }
  return found;
}

/**
 * `defaults.severity` is the severity of every step that states none. Without it such a step meets
 * every severity condition that tightens the gate; a default below the highest severity takes it out
 * of those it does not meet: a requiring rule's `if`, a condition escalation's, a window's.
 */
export function lintDefaultSeverity(policy: Policy): string | undefined {
  const { severity } = policy.defaults;
  const order = policy.severities;
  if (severity === undefined || !order.includes(severity) || severity === order[order.length - 1]) return undefined;
  const meets = (c: SeverityCondition) => severityMeets(c, severity, order);
  const windows = policy.windows ?? [];
  const missed = [
    ...policy.rules.flatMap((rule) => [
      ...(!autoApproves(rule) && rule.if.severity && !meets(rule.if.severity) ? [`rule "${rule.name}"`] : []),
      ...rule.escalate.filter((e) => e.afterSeconds === undefined && e.if?.severity && !meets(e.if.severity)).map((e) => `an escalation of rule "${rule.name}" (line ${e.location.line})`),
    ]),
    ...windows.filter((w) => w.if.severity && !meets(w.if.severity)).map((w) => `${w.kind === 'freeze' ? 'freeze' : 'deploy window'} "${w.name}"`),
  ];
  // Conditions that loosen the gate: without defaults.severity a step that states none never meets
  // them (an unless of a rule that requires approval, a time escalation, an auto-approving rule where
  // it stands in for unmatched: require, a deploy window that lets it through past a closed sibling).
  const lifted = [
    ...policy.rules.flatMap((rule) => [
      ...(!autoApproves(rule) && rule.unless?.severity && meets(rule.unless.severity) ? [`the \`unless\` of rule "${rule.name}"`] : []),
      ...(autoApproves(rule) && policy.unmatched === 'require' && rule.if.severity && meets(rule.if.severity) ? [`auto-approving rule "${rule.name}"`] : []),
      ...rule.escalate.filter((e) => e.afterSeconds !== undefined && e.if?.severity && meets(e.if.severity)).map((e) => `a time escalation of rule "${rule.name}" (line ${e.location.line})`),
    ]),
    ...windows
      .filter((w) => w.kind === 'deploy_window' && w.if.severity && meets(w.if.severity) && windows.some((o) => o !== w && o.kind === 'deploy_window' && o.layer === w.layer))
      .map((w) => `deploy window "${w.name}" (which then lets it through while the others are closed)`),
  ];
  if (missed.length === 0 && lifted.length === 0) return undefined;
  const list = (items: string[]) => (items.length === 1 ? items[0] : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`);
  const parts = [
    ...(missed.length > 0 ? [`without it such a step would meet the severity condition of ${list(missed)}, with it, it does not`] : []),
    ...(lifted.length > 0 ? [`without it such a step would never meet the severity condition that loosens the gate of ${list(lifted)}, with it, it does`] : []),
  ];
  return `defaults.severity \`${severity}\` is the severity of every step that states none: ${parts.join('; ')}, so such a step gets through a looser gate; if steps that state no severity should be gated as the most severe, remove defaults.severity or have every step state its severity`;
}

/**
 * Deploy windows of one file add up: any of them open lets a request through. A window narrower than
 * another beside it (`office-hours` for production, `maintenance` for every request) is then open
 * whenever the wider one is, which its author rarely means.
 */
export function lintWidenedWindows(windows: readonly TimeWindow[], severities: readonly string[]): { window: TimeWindow; message: string }[] {
  const found: { window: TimeWindow; message: string }[] = [];
  const deploy = windows.filter((w) => w.kind === 'deploy_window');
  for (const narrow of deploy) {
    const wider = deploy.find((other) => other !== narrow && other.layer === narrow.layer && conditionsImply(narrow.if, other.if, severities) && !conditionsImply(other.if, narrow.if, severities));
    if (!wider) continue;
    found.push({
      window: narrow,
      message: `deploy window "${narrow.name}" is not all its requests get: they also go ahead while "${wider.name}" (${wider.location.file}:${wider.location.line}) is open, as deploy windows of one file add up (any open lets a request through); to keep them to "${narrow.name}", give "${wider.name}" an \`if\` that leaves them out`,
    });
  }
  return found;
}

/**
 * Windows that can never change anything: a deploy window that never opens (requests in its scope
 * could never go ahead), a freeze that never starts, or one that never ends once started. Judged
 * on the schedule alone, never on today's date, so a file's warnings do not change over time.
 */
export function lintWindows(raw: RawPolicy): LintWarning[] {
  const warnings: LintWarning[] = [];
  for (const [list, kind] of WINDOW_LISTS) {
    (raw[list] ?? []).forEach((window, i) => {
      const at = `/${list}/${i}`;
      const zoneWarning = abbreviationWarning(window.time_zone) ?? fixedOffsetWarning(window.time_zone);
      if (zoneWarning) warnings.push({ pointer: `${at}/time_zone`, message: zoneWarning });
      if (window.cron) {
        for (const key of ['start', 'end'] as const) {
          const eitherDay = eitherDayWarning(window.cron[key]);
          if (eitherDay) warnings.push({ pointer: `${at}/cron/${key}`, message: eitherDay });
        }
      } else if (window.end !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(window.end)) {
        warnings.push({ pointer: `${at}/end`, message: dateOnlyEndWarning(window.end, kind === 'freeze' ? `freeze "${window.name}"` : `deploy window "${window.name}"`) });
      }
      const schedule: WindowSchedule = window.cron ? { kind: 'cron', ...window.cron } : { kind: 'once', start: window.start ?? '', end: window.end ?? '' };
      const clock = compileSchedule(schedule, window.time_zone);
      if (!clock.ok) return;
      const pointer = window.cron ? `${at}/cron/start` : `${at}/start`;
      if (!everInForce(clock.value, schedule)) {
        warnings.push({
          pointer,
          message:
            kind === 'deploy_window'
              ? `deploy window "${window.name}" can never open: its start never comes, or always meets its end at the same moment; requests in its scope could never go ahead`
              : `freeze "${window.name}" never takes effect: its start never comes, or always meets its end at the same moment`,
        });
        return;
      }
      if (kind === 'freeze' && window.cron) {
        const ends = compileCron(window.cron.end, window.time_zone);
        if (ends.ok && ends.value.nextRun(new Date(Date.UTC(2024, 0, 1))) === null) {
          warnings.push({ pointer: `${at}/cron/end`, message: `freeze "${window.name}" never ends once it starts: "${window.cron.end}" never comes, so requests in its scope could never go ahead again` });
        }
      }
    });
  }
  return warnings;
}

/** `Etc/GMT+1` is UTC−01:00: the Etc zones' sign is POSIX's, the opposite of what people write, and they ignore daylight saving time. */
function fixedOffsetWarning(zone: string): string | undefined {
  const etc = /^Etc\/GMT([+-])(\d{1,2})$/i.exec(zone);
  if (!etc || Number(etc[2]) === 0) return undefined;
  return `time zone "${zone}" is UTC${etc[1] === '+' ? '−' : '+'}${etc[2].padStart(2, '0')}:00 all year: in the Etc zones the sign is inverted, and they never follow daylight saving time; write the IANA name of the place you mean, such as Europe/Berlin or America/New_York`;
}

/** With both restricted, cron (croner as Vixie cron) runs on either day: `1-7 * 1` is days 1 to 7 and every Monday, not the first Monday. */
function eitherDayWarning(pattern: string): string | undefined {
  const fields = pattern.trim().split(/\s+/);
  if (fields.length !== 5) return undefined;
  const [, , day, , weekday] = fields as [string, string, string, string, string];
  const free = (field: string) => field === '*' || field === '?';
  if (free(day) || free(weekday) || weekday.startsWith('+')) return undefined;
  return `"${pattern}" restricts both the day of the month (${day}) and the day of the week (${weekday}), and cron then takes either of them, not both; to require both, put "+" before the day of the week (+${weekday}); for the nth weekday of a month write it as weekday#n (1#1 is the first Monday) and leave the day of the month "*"`;
}

/** A date alone is its midnight: `end: 2026-12-26` ends as the 26th begins. */
function dateOnlyEndWarning(end: string, what: string): string {
  const [year, month, day] = end.split('-').map(Number) as [number, number, number];
  const next = new Date(Date.UTC(year, month - 1, day + 1)).toISOString().slice(0, 10);
  return `${what} ends as ${end} begins (00:00), so ${end} itself is not part of it; to include that day write ${next}, or write ${end}T00:00 if it should end as the day begins`;
}

/** An abbreviation is read as one zone of the several it names to people, and some never observe daylight saving time. */
function abbreviationWarning(zone: string): string | undefined {
  const read = abbreviatedZone(zone);
  if (!read) return undefined;
  const offset = (minutes: number) => `UTC${minutes < 0 ? '−' : '+'}${String(Math.floor(Math.abs(minutes) / 60)).padStart(2, '0')}:${String(Math.abs(minutes) % 60).padStart(2, '0')}`;
  const offsets = read.january === read.july ? `${offset(read.january)} all year` : `${offset(read.january)} in January and ${offset(read.july)} in July`;
  // Newer JavaScript engines may answer with the name as written: then the offsets say it all.
  const name = read.readAs.toUpperCase() === zone.toUpperCase() ? '' : `${read.readAs}, `;
  return `time zone "${zone}" is an abbreviation, read here as ${name}${offsets}; abbreviations name different zones to different people: write the IANA name you mean, such as Europe/London or America/New_York`;
}
