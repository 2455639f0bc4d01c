import { ApplicationFailure } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createWhatsAppActivities } from '../../activities/whatsapp';
import { createGraphClient } from '../../clients/whatsapp-graph';
import type { SendResult } from '../../lib/domain/messages';
import { startWhatsAppStandin, type WhatsAppStandin } from '../../dev/whatsapp-standin';
import { ErrorType } from '../../lib/domain/errors';
import { createHttpAgent } from '../../lib/http';
import type { Dispatcher } from 'undici';
import { createSecretResolver } from '../../lib/secrets';

const token = 'test-access-token-abcdef';
let standin: WhatsAppStandin;
const http = createHttpAgent({ maxConnectionsPerOrigin: 4 });

function graphClient(options: { baseUrl?: string; accessToken?: string; timeoutMs?: number; dispatcher?: Dispatcher }) {
  return createGraphClient({
    baseUrl: options.baseUrl ?? standin.url,
    apiVersion: 'v23.0',
    accessToken: options.accessToken ?? token,
    timeoutMs: options.timeoutMs ?? 2_000,
    downloadTimeoutMs: 2_000,
    allowedMediaHosts: ['127.0.0.1'],
    dispatcher: options.dispatcher ?? http,
  });
}

function activities(overrides: { accessToken?: string; timeoutMs?: number } = {}) {
  return createWhatsAppActivities({ graph: graphClient(overrides), secrets: createSecretResolver({}) });
}

const input = { phoneNumberId: '106540352242922', to: '16505551234', text: 'Hola', replyTo: 'wamid.in.1' };

async function sendFailure(acts = activities()): Promise<ApplicationFailure> {
  try {
    await new MockActivityEnvironment().run(acts.sendMessage, input);
  } catch (err) {
    if (err instanceof ApplicationFailure) return err;
    throw err;
  }
  throw new Error('sendMessage did not fail');
}

beforeAll(async () => {
  standin = await startWhatsAppStandin({ accessToken: token });
});
afterEach(() => standin.reset());
afterAll(async () => {
  await standin.close();
  await http.close();
});

describe('sendMessage against the Graph API protocol', () => {
  it('posts a text reply with the bearer token and returns Meta’s message id', async () => {
    const result: SendResult = await new MockActivityEnvironment().run(activities().sendMessage, input);
    expect(result.messageId).toMatch(/^wamid\./);
    expect(standin.sent).toEqual([
      expect.objectContaining({
        id: result.messageId,
        phoneNumberId: input.phoneNumberId,
        to: input.to,
        text: 'Hola',
        replyTo: 'wamid.in.1',
      }),
    ]);
  });

  it("sends with the tenant's own token when the tenant names one, and fails retryably when it resolves to nothing", async () => {
    const otherStandin = await startWhatsAppStandin({ accessToken: 'hotel-a-token-123' });
    try {
      const acts = createWhatsAppActivities({
        graph: graphClient({ baseUrl: otherStandin.url }),
        secrets: createSecretResolver({ TENANT_HOTEL_A_WA_TOKEN: 'hotel-a-token-123' }),
      });
      const hotelA = { ...input, tenantId: 'hotel-a' };
      await new MockActivityEnvironment().run(acts.sendMessage, { ...hotelA, tokenRef: 'env:TENANT_HOTEL_A_WA_TOKEN' });
      expect(otherStandin.sent).toHaveLength(1);
      await expect(
        new MockActivityEnvironment().run(acts.sendMessage, { ...hotelA, tokenRef: 'env:TENANT_HOTEL_A_MISSING' }),
      ).rejects.toMatchObject({ type: ErrorType.SecretUnavailable, nonRetryable: false });
    } finally {
      await otherStandin.close();
    }
  });

  it('maps 5xx to a retryable WhatsAppUnavailable', async () => {
    standin.inject({ kind: 'error', status: 500, code: 1, message: 'An unknown error occurred' });
    const failure = await sendFailure();
    expect(failure.type).toBe(ErrorType.WhatsAppUnavailable);
    expect(failure.nonRetryable).toBe(false);
  });

  it('maps 429 to a retryable WhatsAppRateLimited that waits for Retry-After', async () => {
    standin.inject({ kind: 'error', status: 429, code: 130429, message: 'Rate limit hit', retryAfterSeconds: 7 });
    const failure = await sendFailure();
    expect(failure.type).toBe(ErrorType.WhatsAppRateLimited);
    expect(failure.nonRetryable).toBe(false);
    expect(msToNumber(failure.nextRetryDelay!)).toBe(7_000);
  });

  it("clamps a server's Retry-After to 5 minutes: a day-long one does not park the reply for a day", async () => {
    standin.inject({ kind: 'error', status: 429, code: 130429, message: 'Rate limit hit', retryAfterSeconds: 86_400 });
    const failure = await sendFailure();
    expect(failure.type).toBe(ErrorType.WhatsAppRateLimited);
    expect(msToNumber(failure.nextRetryDelay!)).toBe(5 * 60_000);
  });

  it.each([
    [131048, 'spam'],
    [131056, 'pair'],
  ])('maps Graph code %d (a 400) to a retryable WhatsAppRateLimited, the %s limit', async (code, limit) => {
    standin.inject({ kind: 'error', status: 400, code, message: 'rate limit hit', retryAfterSeconds: 6 });
    const failure = await sendFailure();
    expect(failure.type).toBe(ErrorType.WhatsAppRateLimited);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.details?.[0]).toMatchObject({ code, rateLimit: limit });
    expect(msToNumber(failure.nextRetryDelay!)).toBe(6_000);
  });

  it('maps an undeliverable recipient (131026) to a non-retryable WhatsAppPermanentError without the number in the message', async () => {
    standin.undeliverable.add(input.to);
    const failure = await sendFailure();
    expect(failure.type).toBe(ErrorType.WhatsAppPermanentError);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('131026');
    expect(failure.message).not.toContain(input.to);
  });

  it('maps the closed 24 h window (131047) to non-retryable', async () => {
    standin.inject({ kind: 'error', status: 400, code: 131047, message: 'Re-engagement message' });
    const failure = await sendFailure();
    expect(failure.type).toBe(ErrorType.WhatsAppPermanentError);
    expect(failure.nonRetryable).toBe(true);
  });

  it('maps a refused token to a retryable WhatsAppAuthError, so replies wait for the token to be fixed', async () => {
    const failure = await sendFailure(activities({ accessToken: 'wrong-token-123' }));
    expect(failure.type).toBe(ErrorType.WhatsAppAuthError);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).not.toContain('wrong-token-123');
  });

  it('takes a 2xx without a message id as sent (messageId null), not as a failure to retry', async () => {
    standin.inject({ kind: 'acceptedWithoutId' });
    await expect(new MockActivityEnvironment().run(activities().sendMessage, input)).resolves.toEqual({
      messageId: null,
    });
    expect(standin.sent).toHaveLength(1);
  });

  it('maps a connection cut after the request was written to SendOutcomeUnknown: Meta may have the message', async () => {
    standin.inject({ kind: 'drop' });
    const failure = await sendFailure();
    expect(failure.type).toBe(ErrorType.SendOutcomeUnknown);
    expect(failure.nonRetryable).toBe(false);
    // The stand-in recorded it before cutting: exactly the case that must not be sent again blindly.
    standin.inject({ kind: 'acceptThenDrop' });
    expect((await sendFailure()).type).toBe(ErrorType.SendOutcomeUnknown);
    expect(standin.sent).toHaveLength(1);
  });

  it('times out a slow answer as SendOutcomeUnknown (retryable; the conversation reconciles it)', async () => {
    standin.inject({ kind: 'latency', ms: 1_500 });
    const failure = await sendFailure(activities({ timeoutMs: 300 }));
    expect(failure.type).toBe(ErrorType.SendOutcomeUnknown);
    expect(failure.nonRetryable).toBe(false);
  });

  it('maps a refused connection (nothing written) to a retryable WhatsAppUnavailable', async () => {
    const closed = await startWhatsAppStandin({ accessToken: token });
    const url = closed.url;
    await closed.close();
    const acts = createWhatsAppActivities({ graph: graphClient({ baseUrl: url }), secrets: createSecretResolver({}) });
    const failure = await sendFailure(acts);
    expect(failure.type).toBe(ErrorType.WhatsAppUnavailable);
    expect(failure.nonRetryable).toBe(false);
  });

  it('sends the idempotency key as biz_opaque_callback_data', async () => {
    await new MockActivityEnvironment().run(activities().sendMessage, { ...input, idempotencyKey: 'wa:1:abc#7' });
    expect(standin.sent[0]).toMatchObject({ key: 'wa:1:abc#7' });
  });

  it('reuses pooled keep-alive connections across sends', async () => {
    const agent = createHttpAgent({ maxConnectionsPerOrigin: 4 });
    try {
      const acts = createWhatsAppActivities({
        graph: graphClient({ dispatcher: agent }),
        secrets: createSecretResolver({}),
      });
      for (let i = 0; i < 10; i++) await new MockActivityEnvironment().run(acts.sendMessage, input);
      expect(standin.sent).toHaveLength(10);
      // Sequential sends reuse the pool's keep-alive sockets (undici may open a second one while the first
      // is being returned to the pool); a client per request would open ten.
      expect(standin.connections).toBeLessThanOrEqual(2);
    } finally {
      await agent.close();
    }
  });
});
