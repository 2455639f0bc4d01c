import request from 'supertest';
import { getTenant } from '../../lib/db/admin';
import { adminTestApp, auditRows, uniqueTenantId, type AdminTestApp } from '../helpers/admin';
import { uniquePhoneNumberId } from '../helpers/tenants';

/**
 * The security review's findings on the admin API: secret references confined to the tenant's namespace
 * (1), settings that decide where secrets go reserved to unrestricted admins (1), phone number ids and guest
 * identifiers (7), guest identifiers hidden from monitoring tokens (14).
 */

let t: AdminTestApp;
let root: ReturnType<AdminTestApp['as']>;

/** `env:TENANT_<ID>_` for a tenant id, as the README states the rule. */
const ns = (tenantId: string) => `env:TENANT_${tenantId.toUpperCase().replace(/-/g, '_')}_`;

beforeAll(async () => {
  t = adminTestApp();
  root = t.as((await t.token('admin')).token);
});

afterAll(async () => {
  await t?.close();
});

async function newTenant(extra: Record<string, unknown> = {}): Promise<string> {
  const id = uniqueTenantId();
  const res = await root.post('/admin/tenants', { id, name: `Hotel ${id}`, ...extra });
  expect(res.status).toBe(201);
  return id;
}

/** What a refused request must not have changed. */
async function snapshot(id: string): Promise<string> {
  return JSON.stringify([await getTenant(t.db, id), await auditRows(t.db, { tenantId: id })]);
}

function fieldErrors(res: { status: number; body: any }): { path: string; message: string }[] {
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe('validation_failed');
  return res.body.error.details.fields;
}

describe('secret references stay in the tenant namespace (finding 1)', () => {
  it('creates a tenant whose references are in its own namespace', async () => {
    const id = uniqueTenantId();
    const res = await root.post('/admin/tenants', {
      id,
      name: 'Hotel Namespaced',
      pmsCredentialsRef: `${ns(id)}PMS_KEY`,
      whatsappTokenRef: `${ns(id)}WA_TOKEN`,
    });
    expect(res.status).toBe(201);
    expect(res.body.pmsCredentialsRef).toBe(`${ns(id)}PMS_KEY`);
  });

  it.each([
    ['a worker secret', 'env:WHATSAPP_ACCESS_TOKEN'],
    ['the database URL', 'env:DATABASE_URL'],
    ['a bare tenant prefix', 'PREFIX_ONLY'],
  ])('refuses to create a tenant whose references name %s, with the rule, writing nothing', async (_n, raw) => {
    const id = uniqueTenantId();
    const ref = raw === 'PREFIX_ONLY' ? ns(id) : raw;
    const res = await root.post('/admin/tenants', {
      id,
      name: 'Hotel X',
      pmsCredentialsRef: ref,
      whatsappTokenRef: ref,
    });
    const fields = fieldErrors(res);
    expect(fields.map((f) => f.path).sort()).toEqual(['pmsCredentialsRef', 'whatsappTokenRef']);
    for (const f of fields) expect(f.message).toContain(`${ns(id)}<NAME>`);
    expect(await getTenant(t.db, id)).toBeUndefined();
  });

  it("refuses another tenant's reference on PATCH, even from an unrestricted admin", async () => {
    const victim = await newTenant();
    const id = await newTenant();
    const before = await snapshot(id);
    const res = await root.patch(`/admin/tenants/${id}`, {
      pmsCredentialsRef: `${ns(victim)}PMS_KEY`,
      whatsappTokenRef: 'env:WHATSAPP_APP_SECRET',
    });
    const fields = fieldErrors(res);
    expect(fields.map((f) => f.path).sort()).toEqual(['pmsCredentialsRef', 'whatsappTokenRef']);
    expect(fields[0]!.message).toContain(`${ns(id)}<NAME>`);
    expect(await snapshot(id)).toBe(before);
  });

  it("refuses a reference that also lies in a longer tenant id's namespace (hotel and hotel-x)", async () => {
    const id = await newTenant();
    const nested = `${id}-annex`;
    await root.post('/admin/tenants', { id: nested, name: 'Annex' }).expect(201);
    const before = await snapshot(id);
    const res = await root.patch(`/admin/tenants/${id}`, { pmsCredentialsRef: `${ns(nested)}PMS_KEY` });
    expect(fieldErrors(res).map((f) => f.path)).toEqual(['pmsCredentialsRef']);
    expect(await snapshot(id)).toBe(before);
    // Its own names are fine, including ones that merely start like the other id.
    await root.patch(`/admin/tenants/${id}`, { pmsCredentialsRef: `${ns(id)}ANNEXKEY` }).expect(200);
  });

  it('lets an unrestricted admin set and clear references in the namespace', async () => {
    const id = await newTenant();
    const res = await root.patch(`/admin/tenants/${id}`, {
      pmsBaseUrl: 'https://pms.example.com',
      pmsCredentialsRef: `${ns(id)}PMS_KEY`,
      whatsappTokenRef: `${ns(id)}WA_TOKEN`,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ pmsCredentialsRef: `${ns(id)}PMS_KEY`, whatsappTokenRef: `${ns(id)}WA_TOKEN` });
    await root.patch(`/admin/tenants/${id}`, { pmsCredentialsRef: null, whatsappTokenRef: null }).expect(200);
  });
});

describe('a tenant-restricted admin token (findings 1 and 7)', () => {
  let id: string;
  let restricted: ReturnType<AdminTestApp['as']>;

  beforeAll(async () => {
    id = await newTenant({ pmsBaseUrl: 'https://pms.hotel.example' });
    restricted = t.as((await t.token('admin', id)).token);
  });

  it('cannot point its PMS at an attacker with a worker secret as credentials (the review’s scenario)', async () => {
    const before = await snapshot(id);
    const res = await restricted.patch(`/admin/tenants/${id}`, {
      pmsBaseUrl: 'https://evil.example',
      pmsCredentialsRef: 'env:WHATSAPP_ACCESS_TOKEN',
    });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
    expect(await snapshot(id)).toBe(before);
  });

  it.each([
    { pmsBaseUrl: 'https://evil.example' },
    { pmsBaseUrl: null },
    { pmsCredentialsRef: 'NAMESPACED:PMS_KEY' },
    { whatsappTokenRef: 'NAMESPACED:WA_TOKEN' },
    { whatsappTokenRef: null },
    { name: 'Renamed', pmsBaseUrl: 'https://pms2.hotel.example' },
  ])('may not change %j, even inside its own namespace (403, nothing written)', async (raw) => {
    const body = Object.fromEntries(
      Object.entries(raw).map(([k, v]) => [
        k,
        typeof v === 'string' && v.startsWith('NAMESPACED:') ? `${ns(id)}${v.slice('NAMESPACED:'.length)}` : v,
      ]),
    );
    const before = await snapshot(id);
    const res = await restricted.patch(`/admin/tenants/${id}`, body);
    expect([res.status, res.body.error?.code]).toEqual([403, 'forbidden']);
    expect(res.body.error.message).toMatch(/pmsBaseUrl|pmsCredentialsRef|whatsappTokenRef/);
    expect(await snapshot(id)).toBe(before);
  });

  it('may still change its other settings', async () => {
    const res = await restricted.patch(`/admin/tenants/${id}`, { name: 'Hotel Renamed', info: { wifi: 'x' } });
    expect(res.status).toBe(200);
    expect(res.body.name).toBe('Hotel Renamed');
  });

  it('may neither add nor remove WhatsApp phone number ids (403, nothing written)', async () => {
    const owned = uniquePhoneNumberId();
    await root.post(`/admin/tenants/${id}/phone-numbers`, { phoneNumberId: owned }).expect(201);
    const before = await snapshot(id);
    const unclaimed = uniquePhoneNumberId();
    const add = await restricted.post(`/admin/tenants/${id}/phone-numbers`, { phoneNumberId: unclaimed });
    const remove = await restricted.delete(`/admin/tenants/${id}/phone-numbers/${owned}`);
    expect([add.status, add.body.error?.code]).toEqual([403, 'forbidden']);
    expect([remove.status, remove.body.error?.code]).toEqual([403, 'forbidden']);
    expect(await snapshot(id)).toBe(before);
    const { rowCount } = await t.db.query('SELECT 1 FROM tenant_phone_numbers WHERE phone_number_id = $1', [unclaimed]);
    expect(rowCount).toBe(0);
  });

  it('may not register guest identifiers, and so cannot block another hotel’s guest nor learn that one exists', async () => {
    const other = await newTenant({ identifiers: ['+34611222333'] });
    const before = await snapshot(id);
    const taken = await restricted.post(`/admin/tenants/${id}/identifiers`, { identifier: '+34 611 222 333' });
    const fresh = await restricted.post(`/admin/tenants/${id}/identifiers`, { identifier: '+34 699 000 111' });
    // The same answer whether another hotel has the guest or not: no 409 to tell them apart.
    expect([taken.status, taken.body]).toEqual([fresh.status, fresh.body]);
    expect([fresh.status, fresh.body.error?.code]).toEqual([403, 'forbidden']);
    expect(await snapshot(id)).toBe(before);
    const { rows } = await t.db.query('SELECT tenant_id FROM tenant_user_identifiers WHERE identifier = $1', [
      '+34699000111',
    ]);
    expect(rows).toEqual([]);
    expect((await getTenant(t.db, other))!.identifiers).toEqual(['+34611222333']);
  });

  it('may remove its own tenant’s identifiers; another hotel’s gets the answer of one that does not exist', async () => {
    await root.post(`/admin/tenants/${id}/identifiers`, { identifier: 'guest@example.com' }).expect(201);
    const other = await newTenant({ identifiers: ['+34611444555'] });
    const elsewhere = await restricted.delete(`/admin/tenants/${id}/identifiers/%2B34611444555`);
    const nowhere = await restricted.delete(`/admin/tenants/${id}/identifiers/%2B34611999888`);
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.body).toEqual(nowhere.body);
    expect((await getTenant(t.db, other))!.identifiers).toEqual(['+34611444555']);
    const removed = await restricted.delete(`/admin/tenants/${id}/identifiers/guest@example.com`);
    expect(removed.status).toBe(200);
    expect(removed.body.identifiers).toEqual([]);
  });
});

describe('guest identifiers are hidden from monitoring tokens (finding 14)', () => {
  it('shows a monitoring token the count of identifiers, never the identifiers', async () => {
    const id = await newTenant({ identifiers: ['+34611777888', 'ana@example.com'] });
    for (const token of [await t.token('monitoring'), await t.token('monitoring', id)]) {
      const res = await t.as(token.token).get(`/admin/tenants/${id}`);
      expect(res.status).toBe(200);
      expect(res.body).not.toHaveProperty('identifiers');
      expect(res.body.identifierCount).toBe(2);
      expect(JSON.stringify(res.body)).not.toMatch(/611777888|ana@example\.com/);
      const list = await t.as(token.token).get(`/admin/tenants?limit=500`);
      expect(JSON.stringify(list.body)).not.toMatch(/611777888|ana@example\.com/);
    }
    const asAdmin = await root.get(`/admin/tenants/${id}`);
    expect(asAdmin.body.identifiers).toEqual(['+34611777888', 'ana@example.com']);
    expect(asAdmin.body.identifierCount).toBe(2);
  });
});

describe('hostile input schemathesis found (admin-schemathesis.test.ts), pinned here', () => {
  it('refuses NUL and unpaired surrogates with a field-level 400, not a 500 from Postgres', async () => {
    const id = uniqueTenantId();
    const res = await root.post('/admin/tenants', { id, name: 'Hotel\u0000Sol', info: { wifi: 'x\ud800y' } });
    expect(
      fieldErrors(res)
        .map((f) => f.path)
        .sort(),
    ).toEqual(['info.wifi', 'name']);
    const other = await newTenant();
    const identifier = await root.post(`/admin/tenants/${other}/identifiers`, {
      identifier: 'guest\u0000@example.com',
    });
    expect(fieldErrors(identifier).map((f) => f.path)).toEqual(['identifier']);
    expect(await getTenant(t.db, id)).toBeUndefined();
  });

  it('answers a deeply nested body with 400, not a stack overflow', async () => {
    const id = await newTenant();
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const res = await root.patch(`/admin/tenants/${id}`).set('content-type', 'application/json').send(deep);
    expect(res.status).toBe(400);
  });

  it('answers a method no route has (TRACE) with 405, Allow and a JSON error, like any other wrong method', async () => {
    for (const method of ['trace', 'put'] as const) {
      const res = await request(t.app.callback())[method]('/admin/tenants');
      expect([method, res.status]).toEqual([method, 405]);
      expect(res.headers.allow).toMatch(/GET.*POST|POST.*GET/);
      expect(res.body.error.code).toBe('method_not_allowed');
    }
  });
});
