/** Comparing what the App did with what the model expects, step by step, and saying how they differ. */
import { agrees, elapsedAfterEach } from './approval-model.js';
import { describeScenario, showObservation, type Observation, type Scenario, type Trace } from './scenario.js';

export type Disagreement = {
  /** `approval the model refuses`, `refusal the model grants`, or another difference. */
  kind: 'approved-but-model-refuses' | 'refused-but-model-approves' | 'other';
  /** Which moment: `opened`, `after event N`, `final`. */
  at: string;
  expected: string;
  actual: string;
};

function classify(expected: Observation, actual: Observation): Disagreement['kind'] {
  if (actual.status === 'approved' && expected.status !== 'approved') return 'approved-but-model-refuses';
  if (expected.status === 'approved' && actual.status !== 'approved') return 'refused-but-model-approves';
  return 'other';
}

/** The first moment where the App and the model disagree, if any. */
export function firstDisagreement(scenario: Scenario, expected: Trace, actual: Trace): Disagreement | undefined {
  const timeout = scenario.policy.defaults.timeoutMinutes;
  const elapsed = elapsedAfterEach(scenario.events);
  const check = (at: string, e: Observation, a: Observation, minutes: number): Disagreement | undefined =>
    agrees(e, a, minutes >= timeout) ? undefined : { kind: classify(e, a), at, expected: showObservation(e), actual: showObservation(a) };
  const opened = check('opened', expected.opened, actual.opened, 0);
  if (opened) return opened;
  for (const [i, step] of expected.steps.entries()) {
    const found = check(`after event ${i + 1}`, step, actual.steps[i], elapsed[i]);
    if (found) return found;
  }
  const { final: e } = expected;
  const { final: a } = actual;
  const decidedByVote = e.status === 'approved' || e.status === 'rejected';
  if (e.status !== a.status || (decidedByVote && e.completedBy?.toLowerCase() !== a.completedBy?.toLowerCase())) {
    return { kind: classify(e, a), at: 'final', expected: `${e.status} by ${e.completedBy ?? '-'}`, actual: `${a.status} by ${a.completedBy ?? '-'}` };
  }
  return undefined;
}

export function report(scenario: Scenario, expected: Trace, actual: Trace, disagreement: Disagreement): string {
  return [
    `${disagreement.kind} ${disagreement.at}: the model expects ${disagreement.expected}, the App has ${disagreement.actual}`,
    describeScenario(scenario, expected, actual, disagreement.at),
  ].join('\n');
}
