import { maxRetryAfterMs, retryAfterMs } from '../../lib/http';

describe('retryAfterMs', () => {
  const now = Date.parse('2030-01-01T00:00:00Z');

  it.each([
    ['7', 7_000],
    [['12', '99'], 12_000],
    ['86400', maxRetryAfterMs],
    ['Tue, 01 Jan 2030 00:00:30 GMT', 30_000],
    ['Tue, 02 Jan 2030 00:00:00 GMT', maxRetryAfterMs],
  ])('reads %j as %d ms, never more than 5 minutes', (header, expected) => {
    expect(retryAfterMs(header, now)).toBe(expected);
  });

  it.each([undefined, '', '0', '-5', 'soon', 'Mon, 31 Dec 2029 23:59:00 GMT'])('ignores %j', (header) => {
    expect(retryAfterMs(header, now)).toBeUndefined();
  });
});
