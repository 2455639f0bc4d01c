import { tenantDetailSchema } from '../../api/admin/schemas';
import { adminTestApp, uniqueTenantId, type AdminTestApp } from '../helpers/admin';

/** Issue 12: a tenant's messaging settings (interactive messages, templates, stay-message offsets) through the admin API. */
let t: AdminTestApp;
let admin: ReturnType<AdminTestApp['as']>;

beforeAll(async () => {
  t = adminTestApp();
  admin = t.as((await t.token('admin')).token);
});

afterAll(() => t?.close());

const messaging = {
  interactive: true,
  templates: {
    late_reply: { name: 'staff_follow_up', languages: { es: 'es', en: 'en_US' }, parameters: ['{hotel}', '{text}'] },
    pre_arrival: { name: 'pre_arrival', languages: { en: 'en_US' }, parameters: ['{checkInDate}', '{address}'] },
  },
  stayMessages: { preArrivalBeforeSeconds: 86400, postStayAfterSeconds: 3600 },
};

it('takes messaging settings at creation, shows them, and replaces them whole on update', async () => {
  const id = uniqueTenantId();
  const created = await admin.post('/admin/tenants', { id, name: 'Hotel Mensajes', messaging }).expect(201);
  expect(tenantDetailSchema.strict().parse(created.body).messaging).toEqual(messaging);
  const updated = await admin.patch(`/admin/tenants/${id}`, { messaging: { interactive: false } }).expect(200);
  expect(updated.body.messaging).toEqual({ interactive: false });
  const fresh = await admin.post('/admin/tenants', { id: uniqueTenantId(), name: 'Hotel Sin Ajustes' }).expect(201);
  expect(fresh.body.messaging).toEqual({});
});

it.each([
  [
    'a template name Meta would refuse',
    { templates: { late_reply: { name: 'Late Reply!', languages: { en: 'en' }, parameters: [] } } },
  ],
  ['a template without a language', { templates: { late_reply: { name: 'late', languages: {}, parameters: [] } } }],
  ['an unknown purpose', { templates: { birthday: { name: 'bday', languages: { en: 'en' }, parameters: [] } } }],
  ['a negative offset', { stayMessages: { preArrivalBeforeSeconds: -1 } }],
  ['interactive as a string', { interactive: 'yes' }],
])('refuses %s and changes nothing', async (_, bad) => {
  const id = uniqueTenantId();
  await admin.post('/admin/tenants', { id, name: 'Hotel Firme', messaging }).expect(201);
  const res = await admin.patch(`/admin/tenants/${id}`, { messaging: bad });
  expect(res.status).toBe(400);
  expect(JSON.stringify(res.body)).toContain('messaging');
  expect((await admin.get(`/admin/tenants/${id}`).expect(200)).body.messaging).toEqual(messaging);
});
