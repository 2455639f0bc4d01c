import { ApplicationFailure } from '@temporalio/common';
import { boundConfigFailure } from '../../activities/config-failures';
import { configFailureIn, ErrorType } from '../../lib/domain/errors';

describe('boundConfigFailure', () => {
  const info = { scheduledTimestampMs: 1_000_000, activityType: 'sendMessage' };
  const refused = ApplicationFailure.retryable('token refused', ErrorType.WhatsAppAuthError);

  it('lets a configuration failure be retried within the bound', () => {
    expect(boundConfigFailure(refused, info, 60_000, 1_000_000 + 59_999)).toBe(refused);
  });

  it('turns it into a non-retryable ConfigurationFailure once the bound has passed since the first attempt', () => {
    const failure = boundConfigFailure(refused, info, 60_000, 1_000_000 + 60_000) as ApplicationFailure;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: ErrorType.ConfigurationFailure, nonRetryable: true });
    expect(failure.details).toEqual([{ kind: 'whatsapp_auth', cause: ErrorType.WhatsAppAuthError }]);
    expect(failure.message).toContain('token refused');
    expect(configFailureIn(failure)).toEqual({ kind: 'whatsapp_auth', message: expect.stringContaining('token') });
  });

  it('leaves other failures alone, however long they last', () => {
    const outage = ApplicationFailure.retryable('503', ErrorType.WhatsAppUnavailable);
    expect(boundConfigFailure(outage, info, 60_000, 9_999_999)).toBe(outage);
    expect(configFailureIn(outage)).toBeUndefined();
  });

  it.each([
    [ErrorType.SecretUnavailable, 'secret'],
    [ErrorType.PmsAuthError, 'pms_auth'],
  ])('knows %s as a configuration failure of kind %s', (type, kind) => {
    const failure = boundConfigFailure(ApplicationFailure.retryable('x', type), info, 0, 1_000_000);
    expect(configFailureIn(failure)?.kind).toBe(kind);
  });
});
