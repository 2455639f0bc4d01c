import { type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createTenantActivities } from '../../activities/tenants';
import { TenantCache } from '../../lib/tenant-directory';
import { waitFor } from '../../dev/process';
import type { WhatsAppStandin } from '../../dev/whatsapp-standin';
import { createPool } from '../../lib/db/pool';
import { ErrorType } from '../../lib/domain/errors';
import { TenantId } from '../../lib/domain/search-attributes';
import { createHash } from 'node:crypto';
import { createGuestRefs } from '../../lib/guest-refs';
import { createLogger } from '../../lib/log';
import { stateQuery } from '../../lib/domain/conversation';
import { testConfig, type RunningWorker } from '../helpers/env';
import { startStack, type Stack } from '../helpers/stack';
import { createTestTenant, uniquePhoneNumberId } from '../helpers/tenants';
import { textWebhook, uniqueWaId, postSigned, conversationIdFor } from '../helpers/webhooks';

const log = createLogger({ level: 'silent' });

describe('resolveTenant activity (real Postgres)', () => {
  const db = createPool(testConfig().databaseUrl, { max: 2 });
  const cache = new TenantCache({
    db,
    databaseUrl: testConfig().databaseUrl,
    log,
    refreshMs: 60_000,
    maxStalenessMs: 60_000,
    missReloadMs: 0,
  });
  const guestRefs = createGuestRefs(testConfig().guestRefKey);
  const { resolveTenant } = createTenantActivities({ tenants: cache, db, log, guestRefs });
  const run = (phoneNumberId: string, waId: string) =>
    new MockActivityEnvironment().run(resolveTenant, { phoneNumberId, waId });

  afterAll(async () => {
    await cache.stop();
    await db.end();
  });

  it('resolves the owner of the business number, with its profile', async () => {
    const t = await createTestTenant(db, { name: 'Hotel Mar', locale: 'en', timezone: 'Atlantic/Canary' });
    await expect(run(t.phoneNumberId, uniqueWaId())).resolves.toEqual({
      kind: 'resolved',
      tenant: expect.objectContaining({
        id: t.id,
        name: 'Hotel Mar',
        locale: 'en',
        timezone: 'Atlantic/Canary',
        status: 'active',
      }),
    });
  });

  it('resolves by the guest identifier when the number belongs to no tenant (shared numbers)', async () => {
    const waId = uniqueWaId();
    const t = await createTestTenant(db, { identifiers: [`+${waId}`] });
    await expect(run(uniquePhoneNumberId(), waId)).resolves.toMatchObject({ kind: 'resolved', tenant: { id: t.id } });
  });

  it('answers unknown for a number and guest no tenant owns', async () => {
    await expect(run(uniquePhoneNumberId(), uniqueWaId())).resolves.toEqual({ kind: 'unknown' });
  });

  it('answers suspended for a suspended tenant', async () => {
    const t = await createTestTenant(db, { status: 'suspended' });
    await expect(run(t.phoneNumberId, uniqueWaId())).resolves.toEqual({ kind: 'suspended', tenantId: t.id });
  });

  it('refuses a guest registered to another tenant: non-retryable, audited, revealing neither tenant', async () => {
    const waId = uniqueWaId();
    const a = await createTestTenant(db, { identifiers: [`+${waId}`] });
    const b = await createTestTenant(db);
    const failure = await run(b.phoneNumberId, waId).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    const f = failure as ApplicationFailure;
    expect(f.type).toBe(ErrorType.TenantIsolationError);
    expect(f.nonRetryable).toBe(true);
    expect(f.message).not.toContain(a.id);
    expect(f.message).not.toContain(b.id);
    expect(f.message).not.toContain(waId);
    const { rows } = await db.query(
      "SELECT actor, tenant_id, details FROM audit_log WHERE action = 'tenant.isolation_refused' AND tenant_id = $1",
      [b.id],
    );
    expect(rows).toEqual([
      {
        actor: 'worker',
        tenant_id: b.id,
        details: { phoneNumberId: b.phoneNumberId, guest: guestRefs.of(waId), registeredTenantId: a.id },
      },
    ]);
    expect(JSON.stringify(rows)).not.toContain(waId);
    // Not the unsalted hash anyone can recompute by hashing every phone number of a country.
    expect(JSON.stringify(rows)).not.toContain(createHash('sha256').update(waId).digest('hex').slice(0, 12));
  });
});

describe('conversations and their tenant', () => {
  let stack: Stack;
  let standin: WhatsAppStandin;
  let temporal: Client;
  let worker: RunningWorker;
  let app: Stack['app'];

  beforeAll(async () => {
    stack = await startStack();
    ({ whatsapp: standin, temporal, worker, app } = stack);
  });

  afterAll(() => stack?.stop());

  async function deliver(payload: unknown): Promise<void> {
    const raw = JSON.stringify(payload);
    await postSigned(app, raw);
  }
  const repliesTo = (waId: string) => standin.sent.filter((m) => m.to === waId);
  const handleFor = (phoneNumberId: string, waId: string) =>
    temporal.workflow.getHandle(conversationIdFor(phoneNumberId, waId));

  it("answers in the tenant's locale and tags the conversation with its TenantId", async () => {
    const t = await createTestTenant(worker.db, { locale: 'en' });
    await worker.tenants.reload();
    const from = uniqueWaId();
    await deliver(textWebhook({ phoneNumberId: t.phoneNumberId, from, body: '👋' }));
    await waitFor('the reply', () => repliesTo(from).length === 1);
    expect(repliesTo(from)[0]!.text).toContain('We have received your message');
    const description = await handleFor(t.phoneNumberId, from).describe();
    expect(description.typedSearchAttributes.get(TenantId)).toBe(t.id);
    expect((await handleFor(t.phoneNumberId, from).query(stateQuery)).tenant).toEqual({
      kind: 'resolved',
      tenantId: t.id,
      name: `Hotel ${t.id}`,
    });
  });

  it('refuses a guest registered to hotel A who writes to hotel B: no reply, nothing of A or B revealed, audited', async () => {
    const from = uniqueWaId();
    const a = await createTestTenant(worker.db, { identifiers: [`+${from}`] });
    const b = await createTestTenant(worker.db);
    await worker.tenants.reload();
    await deliver(textWebhook({ phoneNumberId: b.phoneNumberId, from, body: 'Hola, ¿cuál es mi reserva?' }));
    const handle = handleFor(b.phoneNumberId, from);
    await waitFor('the refusal', async () => (await handle.query(stateQuery)).tenant.kind === 'refused');
    const state = await handle.query(stateQuery);
    expect(state.tenant).toEqual({ kind: 'refused', reason: 'isolation' });
    expect(JSON.stringify(state)).not.toContain(a.id);
    expect(JSON.stringify(state)).not.toContain(b.id);
    expect((await handle.describe()).typedSearchAttributes.get(TenantId)).toBeUndefined();
    expect(repliesTo(from)).toHaveLength(0);
    const { rowCount } = await worker.db.query(
      "SELECT 1 FROM audit_log WHERE action = 'tenant.isolation_refused' AND tenant_id = $1",
      [b.id],
    );
    expect(rowCount).toBe(1);
  });

  it('sends no automated reply for an unknown number, and answers once the number is registered', async () => {
    const phoneNumberId = uniquePhoneNumberId();
    const from = uniqueWaId();
    await deliver(textWebhook({ phoneNumberId, from, body: 'Hello' }));
    const handle = handleFor(phoneNumberId, from);
    await waitFor('the unknown tenant recorded', async () => (await handle.query(stateQuery)).received === 1);
    await waitFor(
      'the unknown tenant recorded',
      async () => (await handle.query(stateQuery)).tenant.kind === 'unknown',
    );
    expect(repliesTo(from)).toHaveLength(0);

    await createTestTenant(worker.db, { phoneNumberId, locale: 'en' });
    await worker.tenants.reload();
    await deliver(textWebhook({ phoneNumberId, from, body: 'Hello again' }));
    await waitFor('the reply', () => repliesTo(from).length === 1);
    expect((await handle.query(stateQuery)).tenant.kind).toBe('resolved');
  });

  it('sends no automated reply for a suspended tenant', async () => {
    const t = await createTestTenant(worker.db, { status: 'suspended' });
    await worker.tenants.reload();
    const from = uniqueWaId();
    await deliver(textWebhook({ phoneNumberId: t.phoneNumberId, from, body: 'Hello' }));
    const handle = handleFor(t.phoneNumberId, from);
    await waitFor('the suspension recorded', async () => (await handle.query(stateQuery)).tenant.kind === 'suspended');
    await deliver(textWebhook({ phoneNumberId: t.phoneNumberId, from, body: 'Anyone?' }));
    await waitFor('both messages received', async () => (await handle.query(stateQuery)).received === 2);
    expect(repliesTo(from)).toHaveLength(0);
  });

  it('outside business hours, tells a guest who asks for a person when staff are back', async () => {
    // Open only on a weekday other than today in the tenant's timezone.
    const today = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Madrid', weekday: 'short' })
      .format(new Date())
      .toLowerCase()
      .slice(0, 3);
    const other = today === 'wed' ? 'thu' : 'wed';
    const t = await createTestTenant(worker.db, {
      name: 'Hotel Sol',
      locale: 'es',
      businessHours: { [other]: [['09:00', '17:00']] },
    });
    await worker.tenants.reload();
    const from = uniqueWaId();
    await deliver(textWebhook({ phoneNumberId: t.phoneNumberId, from, body: 'Quiero hablar con una persona' }));
    await waitFor('the reply', () => repliesTo(from).length === 1);
    const dayName = other === 'wed' ? 'miércoles' : 'jueves';
    expect(repliesTo(from)[0]!.text).toBe(
      `El equipo de Hotel Sol no está disponible ahora. Volverá el ${dayName} a las 09:00 y te responderá entonces.`,
    );
    expect((await handleFor(t.phoneNumberId, from).query(stateQuery)).staffRequested).toBe(true);
  });

  it('within business hours, tells the guest a person will answer', async () => {
    const allDay: [string, string][] = [['00:00', '24:00']];
    const t = await createTestTenant(worker.db, {
      name: 'Hotel Luna',
      locale: 'en',
      businessHours: { mon: allDay, tue: allDay, wed: allDay, thu: allDay, fri: allDay, sat: allDay, sun: allDay },
    });
    await worker.tenants.reload();
    const from = uniqueWaId();
    await deliver(textWebhook({ phoneNumberId: t.phoneNumberId, from, body: 'Can I talk to a person please?' }));
    await waitFor('the reply', () => repliesTo(from).length === 1);
    expect(repliesTo(from)[0]!.text).toBe(
      'We are putting you in touch with the Hotel Luna team. A person will answer shortly.',
    );
  });
});
