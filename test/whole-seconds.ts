/**
 * GitHub stamps a comment with whole seconds, and the App counts a command only when it was written in
 * a later second than the one its request opened in (a comment stamped with that second may have been
 * written before it). Nobody answers a request that fast; a test that comments at once waits as a
 * person would, until the second after `at`.
 */
export async function untilTheSecondAfter(at: Date | number): Promise<void> {
  const next = (Math.floor(new Date(at).getTime() / 1000) + 1) * 1000;
  while (Date.now() < next) await new Promise((resolve) => setTimeout(resolve, next - Date.now()));
}
