import { classifyGraphError } from '../../clients/whatsapp-graph';

const body = (code: number, message = 'x') => ({ error: { message, type: 'OAuthException', code, fbtrace_id: 'A1' } });

describe('classifyGraphError: the one reading of Graph API errors, for sends and media', () => {
  it.each([
    [400, 131056, 'pair'],
    [400, 131048, 'spam'],
    [429, 130429, 'throughput'],
    [400, 80007, 'account'],
    [403, 4, 'app'],
  ])('HTTP %d code %d is the %s rate limit', (status, code, limit) => {
    expect(classifyGraphError(status, body(code))).toMatchObject({ kind: 'rate_limited', limit, code });
  });

  it('keeps the pair limit (one guest) apart from the spam limit (the whole number)', () => {
    const pair = classifyGraphError(400, body(131056));
    const spam = classifyGraphError(400, body(131048));
    expect(pair).toMatchObject({ kind: 'rate_limited', limit: 'pair' });
    expect(spam).toMatchObject({ kind: 'rate_limited', limit: 'spam' });
  });

  it('reads a 429 without a known code as a rate limit', () => {
    expect(classifyGraphError(429, undefined)).toMatchObject({ kind: 'rate_limited', limit: 'http', code: undefined });
  });

  it.each([
    [401, 190],
    [400, 0],
    [401, 12345],
  ])('HTTP %d code %d is a refused token', (status, code) => {
    expect(classifyGraphError(status, body(code)).kind).toBe('auth');
  });

  it.each([
    [500, 1],
    [503, 2],
    [400, 131000],
    [400, 133004],
    [200, 131016],
  ])('HTTP %d code %d is transient', (status, code) => {
    expect(classifyGraphError(status, body(code)).kind).toBe('transient');
  });

  it.each([
    [400, 131026],
    [400, 131047],
    [400, 100],
    [400, 999999],
    [404, 1234],
  ])('HTTP %d code %d is permanent', (status, code) => {
    expect(classifyGraphError(status, body(code)).kind).toBe('permanent');
  });

  it('reads an unreadable body by its status alone', () => {
    expect(classifyGraphError(502, '<html>')).toMatchObject({
      kind: 'transient',
      metaMessage: 'unreadable error body',
    });
    expect(classifyGraphError(400, 'nope')).toMatchObject({ kind: 'permanent', code: undefined });
  });
});
