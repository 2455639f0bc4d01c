import { createHash } from 'node:crypto';
import { createGuestRefs } from '../../lib/guest-refs';
import { tenantDetailSchema, tenantListSchema } from '../../api/admin/schemas';
import { tenantSecretNamespace } from '../../lib/secrets';
import { adminTestApp, auditRows, listenForTenantChanges, uniqueTenantId, type AdminTestApp } from '../helpers/admin';
import { uniquePhoneNumberId } from '../helpers/tenants';

/** Tenants, numbers, identifiers and the cache refresh through the admin API, on the real Postgres. */

let t: AdminTestApp;
let admin: ReturnType<AdminTestApp['as']>;
let adminId: string;
let notifications: Awaited<ReturnType<typeof listenForTenantChanges>>;

beforeAll(async () => {
  t = adminTestApp();
  const created = await t.token('admin');
  admin = t.as(created.token);
  adminId = created.id;
  notifications = await listenForTenantChanges();
});

afterAll(async () => {
  await notifications?.close();
  await t?.close();
});

async function tenantExists(id: string): Promise<boolean> {
  return (await t.db.query('SELECT 1 FROM tenants WHERE id = $1', [id])).rowCount === 1;
}

async function createTenant(extra: Record<string, unknown> = {}) {
  const id = uniqueTenantId();
  const res = await admin.post('/admin/tenants', { id, name: `Hotel ${id}`, ...extra });
  expect(res.status).toBe(201);
  return tenantDetailSchema.strict().parse(res.body);
}

/** The field paths of a 400 `validation_failed` answer. */
function badFields(res: { status: number; body: any }): string[] {
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe('validation_failed');
  return res.body.error.details.fields.map((f: { path: string }) => f.path);
}

describe('POST /admin/tenants', () => {
  it('creates a tenant with its numbers and identifiers, audits it and announces the change', async () => {
    const id = uniqueTenantId();
    const phoneNumberId = uniquePhoneNumberId();
    const seen = notifications.count();
    const res = await admin.post('/admin/tenants', {
      id,
      name: 'Hotel Sol',
      locale: 'en',
      timezone: 'atlantic/canary',
      businessHours: { mon: [['08:00', '14:00']], sat: [['10:00', '13:00']] },
      info: { address: 'Calle Mayor 1', checkIn: '15:00' },
      pmsBaseUrl: 'https://pms.example.com/api',
      pmsCredentialsRef: `${tenantSecretNamespace(id)}PMS_KEY`,
      pmsHotelId: 3,
      whatsappTokenRef: `${tenantSecretNamespace(id)}WA_TOKEN`,
      phoneNumberIds: [phoneNumberId],
      identifiers: ['0034 600 111 222', 'Reception@Hotel-Sol.example'],
    });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/admin/tenants/${id}`);
    const tenant = tenantDetailSchema.strict().parse(res.body);
    expect(tenant).toMatchObject({
      id,
      name: 'Hotel Sol',
      status: 'active',
      locale: 'en',
      timezone: 'Atlantic/Canary',
      businessHours: { mon: [['08:00', '14:00']], sat: [['10:00', '13:00']] },
      info: { address: 'Calle Mayor 1', checkIn: '15:00' },
      pmsCredentialsRef: `${tenantSecretNamespace(id)}PMS_KEY`,
      pmsHotelId: 3,
      phoneNumberIds: [phoneNumberId],
      identifiers: ['+34600111222', 'reception@hotel-sol.example'],
    });
    expect((await admin.get(`/admin/tenants/${id}`)).body).toEqual(res.body);

    await notifications.waitForMoreThan(seen);
    const audit = await auditRows(t.db, { tenantId: id });
    expect(audit).toEqual([expect.objectContaining({ actor: adminId, action: 'tenant.create', tenant_id: id })]);
    const details = JSON.stringify(audit[0]!.details);
    // Guest identifiers are audited as references, never in clear.
    expect(details).not.toContain('600111222');
    expect(details).not.toContain('reception@');
    expect(details).toContain(createGuestRefs(t.config.guestRefKey).of('+34600111222'));
    expect(details).not.toContain(createHash('sha256').update('+34600111222').digest('hex').slice(0, 12));
  });

  it('applies the defaults: Spanish, Europe/Madrid, always open, no refs', async () => {
    const tenant = await createTenant();
    expect(tenant).toMatchObject({
      status: 'active',
      locale: 'es',
      timezone: 'Europe/Madrid',
      businessHours: {},
      info: {},
      pmsBaseUrl: null,
      whatsappTokenRef: null,
      phoneNumberIds: [],
      identifiers: [],
    });
  });

  it('rejects an invalid body naming every bad field, and writes nothing', async () => {
    const id = uniqueTenantId();
    const res = await admin.post('/admin/tenants', {
      id,
      name: '',
      locale: 'fr',
      timezone: 'Mars/Olympus_Mons',
      businessHours: { mon: [['25:00', '26:00']], tue: [['18:00', '09:00']], funday: [] },
      info: { address: 42 },
      pmsBaseUrl: 'ftp://pms.example.com',
      pmsCredentialsRef: 'sk_live_abcdef',
      whatsappTokenRef: 'EAAG-secret-token',
      phoneNumberIds: ['123', uniquePhoneNumberId()],
      identifiers: ['not an identifier', '+34600000001', '0034600000001'],
      colour: 'blue',
    });
    expect(badFields(res).sort()).toEqual(
      [
        'name',
        'locale',
        'timezone',
        'businessHours.mon.0',
        'businessHours.tue.0',
        'businessHours.funday',
        'info.address',
        'pmsBaseUrl',
        'pmsCredentialsRef',
        'whatsappTokenRef',
        'phoneNumberIds.0',
        'identifiers.0',
        'colour',
      ].sort(),
    );
    const messages = Object.fromEntries(
      res.body.error.details.fields.map((f: { path: string; message: string }) => [f.path, f.message]),
    );
    expect(messages.colour).toBe('unknown field');
    expect(messages['businessHours.tue.0']).toMatch(/closes before it opens/);
    expect(messages.whatsappTokenRef).toMatch(/env:/);
    expect(res.body.error.details.fields.every((f: { in: string }) => f.in === 'body')).toBe(true);
    expect(await tenantExists(id)).toBe(false);
  });

  it('reports identifiers that are the same once normalized', async () => {
    const res = await admin.post('/admin/tenants', {
      id: uniqueTenantId(),
      name: 'Hotel Dup',
      identifiers: ['+34600000002', '0034 600 000 002'],
    });
    expect(res.body.error.details.fields).toEqual([
      { in: 'body', path: 'identifiers.1', message: 'duplicate of identifiers.0' },
    ]);
  });

  it('answers 409 for an id that exists, and leaves that tenant as it was', async () => {
    const existing = await createTenant({ name: 'Original' });
    const res = await admin.post('/admin/tenants', { id: existing.id, name: 'Impostor' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('conflict');
    expect((await admin.get(`/admin/tenants/${existing.id}`)).body.name).toBe('Original');
  });

  it('writes nothing when a phone number is owned by another tenant (409, not naming it)', async () => {
    const owner = await createTenant({ phoneNumberIds: [uniquePhoneNumberId()] });
    const id = uniqueTenantId();
    const res = await admin.post('/admin/tenants', {
      id,
      name: 'Hotel Late',
      phoneNumberIds: [uniquePhoneNumberId(), owner.phoneNumberIds[0]],
      identifiers: ['+34600000003'],
    });
    expect(res.status).toBe(409);
    expect(res.body.error).toEqual({
      code: 'conflict',
      message: 'This phone number id is already registered to a tenant',
    });
    expect(JSON.stringify(res.body)).not.toContain(owner.id);
    expect(await tenantExists(id)).toBe(false);
    expect((await t.db.query('SELECT 1 FROM tenant_phone_numbers WHERE tenant_id = $1', [id])).rowCount).toBe(0);
    expect((await t.db.query("SELECT 1 FROM tenant_user_identifiers WHERE identifier = '+34600000003'")).rowCount).toBe(
      0,
    );
    expect(await auditRows(t.db, { tenantId: id })).toEqual([]);
  });

  it('writes nothing when an identifier is registered to another tenant', async () => {
    await createTenant({ identifiers: ['+34600000004'] });
    const id = uniqueTenantId();
    const res = await admin.post('/admin/tenants', { id, name: 'Hotel Late', identifiers: ['0034600000004'] });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toBe('This identifier is already registered to a tenant');
    expect(await tenantExists(id)).toBe(false);
  });

  it('refuses bodies that are not JSON (415), malformed (400), missing (400) or over 64 kB (413)', async () => {
    const id = uniqueTenantId();
    const text = await admin.post('/admin/tenants').set('content-type', 'text/plain').send(`{"id":"${id}","name":"x"}`);
    expect(text.status).toBe(415);
    expect(text.body.error.code).toBe('unsupported_media_type');
    const malformed = await admin.post('/admin/tenants').set('content-type', 'application/json').send('{"id": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('invalid_json');
    const missing = await admin.post('/admin/tenants');
    expect(badFields(missing)).toEqual(['']);
    const huge = await admin.post('/admin/tenants', { id, name: 'Big', info: { notes: 'x'.repeat(70_000) } });
    expect(huge.status).toBe(413);
    expect(await tenantExists(id)).toBe(false);
  });
});

describe('GET /admin/tenants', () => {
  it('pages through tenants in id order and filters by status', async () => {
    const a = await createTenant();
    const b = await createTenant();
    await admin.post(`/admin/tenants/${b.id}/suspend`).expect(200);

    const first = tenantListSchema.parse((await admin.get('/admin/tenants?limit=1')).body);
    expect(first.tenants).toHaveLength(1);
    expect(first.nextAfter).toBe(first.tenants[0]!.id);

    const all: string[] = [];
    let after: string | null = '';
    while (after !== null) {
      const res = await admin.get(`/admin/tenants?limit=100${after ? `&after=${after}` : ''}`);
      expect(res.status).toBe(200);
      const page = tenantListSchema.parse(res.body);
      expect(page.tenants.length).toBeLessThanOrEqual(100);
      all.push(...page.tenants.map((x) => x.id));
      after = page.nextAfter;
    }
    expect(all).toEqual([...new Set(all)].sort());
    expect(all).toEqual(expect.arrayContaining([a.id, b.id]));

    const suspended = tenantListSchema.parse((await admin.get('/admin/tenants?status=suspended&limit=500')).body);
    expect(suspended.tenants.map((x) => x.id)).toContain(b.id);
    expect(suspended.tenants.map((x) => x.id)).not.toContain(a.id);
    expect(suspended.tenants.every((x) => x.status === 'suspended')).toBe(true);
  });

  it('rejects a bad query naming the parameters', async () => {
    const res = await admin.get('/admin/tenants?limit=0&status=closed&sort=name');
    expect(badFields(res).sort()).toEqual(['limit', 'sort', 'status']);
    expect(res.body.error.details.fields.every((f: { in: string }) => f.in === 'query')).toBe(true);
  });
});

describe('GET /admin/tenants/:id', () => {
  it('answers 404 for a tenant that does not exist, 400 for an id that cannot be one', async () => {
    const missing = await admin.get(`/admin/tenants/${uniqueTenantId()}`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
    const bad = await admin.get('/admin/tenants/Not_A_Slug');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields).toEqual([expect.objectContaining({ in: 'path', path: 'id' })]);
  });
});

describe('PATCH /admin/tenants/:id', () => {
  it('changes the given fields only, audits the field names and announces the change', async () => {
    const created = await createTenant({ info: { wifi: 'guest' } });
    const token = `${tenantSecretNamespace(created.id)}OLD_TOKEN`;
    const before = tenantDetailSchema.parse(
      (await admin.patch(`/admin/tenants/${created.id}`, { whatsappTokenRef: token }).expect(200)).body,
    );
    const seen = notifications.count();
    const res = await admin.patch(`/admin/tenants/${before.id}`, {
      name: 'Hotel Luna',
      locale: 'en',
      timezone: 'America/New_York',
      businessHours: { fri: [['09:00', '17:00']] },
      info: { address: 'Main St 1' },
      pmsBaseUrl: 'http://pms.internal:8080',
      whatsappTokenRef: null,
    });
    expect(res.status).toBe(200);
    const after = tenantDetailSchema.strict().parse(res.body);
    expect(after).toMatchObject({
      name: 'Hotel Luna',
      locale: 'en',
      timezone: 'America/New_York',
      businessHours: { fri: [['09:00', '17:00']] },
      info: { address: 'Main St 1' }, // replaced whole, not merged
      pmsBaseUrl: 'http://pms.internal:8080',
      whatsappTokenRef: null,
      pmsCredentialsRef: null,
      status: 'active',
    });
    expect(Date.parse(after.updatedAt)).toBeGreaterThan(Date.parse(before.updatedAt));
    await notifications.waitForMoreThan(seen);
    const audit = await auditRows(t.db, { tenantId: before.id });
    expect(audit.at(-1)).toMatchObject({ actor: adminId, action: 'tenant.update' });
    expect((audit.at(-1)!.details.fields as string[]).sort()).toEqual(
      ['businessHours', 'info', 'locale', 'name', 'pmsBaseUrl', 'timezone', 'whatsappTokenRef'].sort(),
    );
  });

  it('refuses a PMS base URL with a query, a fragment or credentials, saying why, and changes nothing', async () => {
    const before = await createTenant({ pmsBaseUrl: 'https://pms.example.com' });
    for (const [pmsBaseUrl, rule] of [
      ['https://pms.example.com/?ws_key=abc', /query/],
      ['https://pms.example.com/#top', /fragment/],
      ['https://admin:secret@pms.example.com', /credentials/],
      ['file:///etc/passwd', /http\(s\)/],
    ] as const) {
      const res = await admin.patch(`/admin/tenants/${before.id}`, { pmsBaseUrl });
      expect(badFields(res)).toEqual(['pmsBaseUrl']);
      expect(res.body.error.details.fields[0].message).toMatch(rule);
    }
    expect((await admin.get(`/admin/tenants/${before.id}`)).body.pmsBaseUrl).toBe('https://pms.example.com');
    expect((await auditRows(t.db, { tenantId: before.id })).map((r) => r.action)).toEqual(['tenant.create']);
  });

  it('changes nothing when one field is bad', async () => {
    const before = await createTenant({ name: 'Keep Me' });
    const res = await admin.patch(`/admin/tenants/${before.id}`, { name: 'New Name', timezone: 'Nowhere/Land' });
    expect(badFields(res)).toEqual(['timezone']);
    expect((await admin.get(`/admin/tenants/${before.id}`)).body.name).toBe('Keep Me');
    expect((await auditRows(t.db, { tenantId: before.id })).map((r) => r.action)).toEqual(['tenant.create']);
  });

  it('rejects an empty change, unknown fields and the id, and answers 404 for a missing tenant', async () => {
    const tenant = await createTenant();
    expect(badFields(await admin.patch(`/admin/tenants/${tenant.id}`, {}))).toEqual(['']);
    expect(
      badFields(await admin.patch(`/admin/tenants/${tenant.id}`, { id: 'other', status: 'suspended' })).sort(),
    ).toEqual(['id', 'status']);
    const missing = await admin.patch(`/admin/tenants/${uniqueTenantId()}`, { name: 'Ghost' });
    expect(missing.status).toBe(404);
  });
});

describe('suspend and activate', () => {
  it('suspends and reactivates, auditing each and announcing the change', async () => {
    const tenant = await createTenant();
    let seen = notifications.count();
    const suspended = await admin.post(`/admin/tenants/${tenant.id}/suspend`);
    expect(suspended.status).toBe(200);
    expect(suspended.body.status).toBe('suspended');
    await notifications.waitForMoreThan(seen);
    seen = notifications.count();
    const active = await admin.post(`/admin/tenants/${tenant.id}/activate`);
    expect(active.body.status).toBe('active');
    await notifications.waitForMoreThan(seen);
    expect((await auditRows(t.db, { tenantId: tenant.id })).map((r) => r.action)).toEqual([
      'tenant.create',
      'tenant.suspend',
      'tenant.activate',
    ]);
    expect((await admin.post(`/admin/tenants/${uniqueTenantId()}/suspend`)).status).toBe(404);
  });

  it('takes no body but {}', async () => {
    const tenant = await createTenant();
    expect((await admin.post(`/admin/tenants/${tenant.id}/suspend`, {})).status).toBe(200);
    const res = await admin.post(`/admin/tenants/${tenant.id}/activate`, { reason: 'x' });
    expect(badFields(res)).toEqual(['reason']);
    expect((await admin.get(`/admin/tenants/${tenant.id}`)).body.status).toBe('suspended');
  });
});

describe('phone numbers', () => {
  it('adds and removes a number, auditing both and announcing each change', async () => {
    const tenant = await createTenant();
    const phoneNumberId = uniquePhoneNumberId();
    let seen = notifications.count();
    const added = await admin.post(`/admin/tenants/${tenant.id}/phone-numbers`, { phoneNumberId });
    expect(added.status).toBe(201);
    expect(added.body.phoneNumberIds).toEqual([phoneNumberId]);
    await notifications.waitForMoreThan(seen);
    seen = notifications.count();
    const removed = await admin.delete(`/admin/tenants/${tenant.id}/phone-numbers/${phoneNumberId}`);
    expect(removed.status).toBe(200);
    expect(removed.body.phoneNumberIds).toEqual([]);
    await notifications.waitForMoreThan(seen);
    const audit = await auditRows(t.db, { tenantId: tenant.id });
    expect(audit.slice(1)).toEqual([
      expect.objectContaining({ action: 'tenant.phone_number.add', details: { phoneNumberId } }),
      expect.objectContaining({ action: 'tenant.phone_number.remove', details: { phoneNumberId } }),
    ]);
  });

  it("answers 409 for another tenant's number, 404 when removing a number the tenant does not have", async () => {
    const owner = await createTenant({ phoneNumberIds: [uniquePhoneNumberId()] });
    const other = await createTenant();
    const taken = owner.phoneNumberIds[0]!;
    const res = await admin.post(`/admin/tenants/${other.id}/phone-numbers`, { phoneNumberId: taken });
    expect(res.status).toBe(409);
    expect(JSON.stringify(res.body)).not.toContain(owner.id);
    const remove = await admin.delete(`/admin/tenants/${other.id}/phone-numbers/${taken}`);
    expect(remove.status).toBe(404);
    expect((await admin.get(`/admin/tenants/${owner.id}`)).body.phoneNumberIds).toEqual([taken]);
    expect((await auditRows(t.db, { tenantId: other.id })).map((r) => r.action)).toEqual(['tenant.create']);
  });

  it('validates the number and the tenant', async () => {
    const tenant = await createTenant();
    expect(
      badFields(await admin.post(`/admin/tenants/${tenant.id}/phone-numbers`, { phoneNumberId: '+34 600' })),
    ).toEqual(['phoneNumberId']);
    expect(badFields(await admin.post(`/admin/tenants/${tenant.id}/phone-numbers`, { phone: '1234567' }))).toEqual(
      expect.arrayContaining(['phoneNumberId', 'phone']),
    );
    const missingTenant = await admin.post(`/admin/tenants/${uniqueTenantId()}/phone-numbers`, {
      phoneNumberId: uniquePhoneNumberId(),
    });
    expect(missingTenant.status).toBe(404);
    expect(badFields(await admin.delete(`/admin/tenants/${tenant.id}/phone-numbers/abc`))).toEqual(['phoneNumberId']);
  });
});

describe('identifiers', () => {
  it('adds normalized identifiers and removes them by any spelling, auditing only references', async () => {
    const tenant = await createTenant();
    const seen = notifications.count();
    const phone = await admin.post(`/admin/tenants/${tenant.id}/identifiers`, { identifier: '+34 (600) 222-333' });
    expect(phone.status).toBe(201);
    expect(phone.body.identifiers).toEqual(['+34600222333']);
    await notifications.waitForMoreThan(seen);
    const email = await admin.post(`/admin/tenants/${tenant.id}/identifiers`, { identifier: 'Guest@Example.COM' });
    expect(email.body.identifiers).toEqual(['+34600222333', 'guest@example.com']);

    const removed = await admin.delete(
      `/admin/tenants/${tenant.id}/identifiers/${encodeURIComponent('0034600222333')}`,
    );
    expect(removed.status).toBe(200);
    expect(removed.body.identifiers).toEqual(['guest@example.com']);
    expect((await admin.delete(`/admin/tenants/${tenant.id}/identifiers/guest@example.com`)).body.identifiers).toEqual(
      [],
    );

    const audit = await auditRows(t.db, { tenantId: tenant.id });
    expect(audit.map((r) => r.action)).toEqual([
      'tenant.create',
      'tenant.identifier.add',
      'tenant.identifier.add',
      'tenant.identifier.remove',
      'tenant.identifier.remove',
    ]);
    expect(audit[1]!.details).toEqual({
      identifier: { kind: 'phone', ref: createGuestRefs(t.config.guestRefKey).of('+34600222333') },
    });
    const all = JSON.stringify(audit);
    expect(all).not.toContain('600222333');
    expect(all).not.toContain('guest@');
  });

  it('answers 400 for something that is not a phone number or e-mail, 409 for a taken one', async () => {
    const owner = await createTenant({ identifiers: ['+34600000005'] });
    const other = await createTenant();
    const bad = await admin.post(`/admin/tenants/${other.id}/identifiers`, { identifier: 'room 101' });
    expect(bad.body.error.details.fields).toEqual([
      { in: 'body', path: 'identifier', message: expect.stringMatching(/phone number .* or an e-mail/) },
    ]);
    const taken = await admin.post(`/admin/tenants/${other.id}/identifiers`, { identifier: '0034 600 000 005' });
    expect(taken.status).toBe(409);
    expect(JSON.stringify(taken.body)).not.toContain(owner.id);
    // Removing it through the other tenant does not touch the owner's.
    expect((await admin.delete(`/admin/tenants/${other.id}/identifiers/%2B34600000005`)).status).toBe(404);
    expect((await admin.get(`/admin/tenants/${owner.id}`)).body.identifiers).toEqual(['+34600000005']);
    expect(badFields(await admin.delete(`/admin/tenants/${other.id}/identifiers/nobody`))).toEqual(['identifier']);
  });
});

describe('POST /admin/cache/refresh', () => {
  it('announces a reload (202) and audits it', async () => {
    const seen = notifications.count();
    const res = await admin.post('/admin/cache/refresh');
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ status: 'accepted' });
    await notifications.waitForMoreThan(seen);
    const audit = await auditRows(t.db, { actor: adminId });
    expect(audit.at(-1)).toMatchObject({ action: 'cache.refresh', tenant_id: null });
  });
});
