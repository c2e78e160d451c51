/** `npm run bench`: runs each measurement in turn and prints its table. */
import { measureApproval } from './approval.js';
import { measureExplain } from './explain.js';
import { measureOwners } from './owners.js';
import { formatReport, type BenchReport } from './report.js';

const measurements: Array<() => Promise<BenchReport | BenchReport[]>> = [measureOwners, measureExplain, measureApproval];

for (const measure of measurements) {
  for (const report of [await measure()].flat()) process.stdout.write(`${formatReport(report)}\n`);
}
