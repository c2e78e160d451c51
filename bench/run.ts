/** `npm run bench`: runs each measurement in turn and prints its table. */
import { measureExplain } from './explain.js';
import { measureOwners } from './owners.js';
import { formatReport, type BenchReport } from './report.js';

const measurements: Array<() => Promise<BenchReport>> = [measureOwners, measureExplain];

for (const measure of measurements) process.stdout.write(`${formatReport(await measure())}\n`);
