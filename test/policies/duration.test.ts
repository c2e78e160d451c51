import { describe, expect, test } from '@jest/globals';
import { formatDuration, parseDuration } from '../../policies/duration.js';

describe('parseDuration', () => {
  test.each([
    ['90s', 90],
    ['30m', 1800],
    ['1h', 3600],
    ['1h30m', 5400],
    ['2d', 172800],
    ['1w', 604800],
  ])('%s is %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toEqual({ ok: true, seconds });
  });

  test.each(['', '30', 'm', '1.5h', '30 minutes', '-1h', '0m', '1y'])('rejects %p with a message', (text) => {
    const result = parseDuration(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain('duration');
  });

  test.each([
    ['1hr', '1h'],
    ['30 minutes', '30m'],
    ['1H 30M', '1h30m'],
    ['2 days', '2d'],
    ['1 hour and 30 mins', '1h30m'],
    ['1.5h', undefined],
    ['6 months', undefined],
    ['90', undefined],
  ])('suggests for %p: %p', (text, suggestion) => {
    const result = parseDuration(text);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      if (suggestion) expect(result.message).toBe(`invalid duration "${text}": did you mean "${suggestion}"? expected a number with a unit s, m, h, d or w (for example 30m, 1h or 1h30m)`);
      else expect(result.message).not.toContain('did you mean');
    }
  });

  test('formats back to the compact form', () => {
    expect(formatDuration(5400)).toBe('1h30m');
    expect(formatDuration(86400 + 61)).toBe('1d1m1s');
  });
});
