/** BENCH_PROFILE_DIR=<dir>: the App's `node` writes a V8 CPU profile there when it stops, to see where the time went. */
export function appProfileArgs(): string[] {
  const dir = process.env.BENCH_PROFILE_DIR;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}
