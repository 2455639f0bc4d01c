import type { Pool } from 'pg';
import { tenantSecretNamespace } from '../secrets';
import { notifyTenantsChanged } from './tenants';

/** The business number of Meta's published webhook examples, which the demo also uses. */
export const demoPhoneNumberId = '106540352242922';
export const demoTenantId = 'hotel-demo';
/** The variable holding the demo hotel's PMS key, inside its secret namespace: `TENANT_HOTEL_DEMO_PMS_KEY`. */
export const demoPmsKeyVariable = `${tenantSecretNamespace(demoTenantId).slice('env:'.length)}PMS_KEY`;
/**
 * What the demo hotel's guests see (issue 12): room offers as a list, booking buttons, and approved templates for
 * late replies and the pre-arrival and post-stay messages (the stand-ins approve these names).
 */
export const demoMessaging = {
  interactive: true,
  templates: {
    late_reply: { name: 'demo_late_reply', languages: { es: 'es', en: 'en_US' }, parameters: ['{hotel}', '{text}'] },
    pre_arrival: {
      name: 'demo_pre_arrival',
      languages: { es: 'es', en: 'en_US' },
      parameters: ['{hotel}', '{checkInDate}', '{checkInTime}', '{address}'],
    },
    post_stay: { name: 'demo_post_stay', languages: { es: 'es', en: 'en_US' }, parameters: ['{hotel}'] },
  },
};
export const demoTemplateNames = Object.values(demoMessaging.templates).map((t) => t.name);

/** What the demo seed named before secret references were confined to the tenant's namespace. */
const legacyDemoPmsKeyRef = 'env:DEMO_PMS_KEY';

/**
 * A demo hotel for `bash scripts/start.sh`, `npm run demo` and compose's `demo` profile. Idempotent: an existing demo tenant
 * (perhaps edited through the admin API) is left as it is, except that a PMS reference still naming the
 * old `env:DEMO_PMS_KEY` moves to the namespaced `env:TENANT_HOTEL_DEMO_PMS_KEY`, which the worker resolves.
 */
export async function seedDemo(db: Pool, options: { pmsBaseUrl?: string } = {}): Promise<{ created: boolean }> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    const { rowCount } = await client.query(
      `INSERT INTO tenants (id, name, status, locale, timezone, business_hours, info, pms_base_url, pms_credentials_ref, pms_hotel_id, messaging)
       VALUES ($1, $2, 'active', 'es', 'Europe/Madrid', $3, $4, $5, $6, 1, $7)
       ON CONFLICT (id) DO NOTHING`,
      [
        demoTenantId,
        'Hotel Demo Sol',
        JSON.stringify(
          Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, [['08:00', '22:00']]])),
        ),
        JSON.stringify({ address: 'Calle del Sol 1, 29001 Málaga', checkIn: '15:00', checkOut: '12:00' }),
        // The PMS stand-in of the start command; compose's demo profile names its own service.
        options.pmsBaseUrl ?? 'http://127.0.0.1:4020',
        `env:${demoPmsKeyVariable}`,
        JSON.stringify(demoMessaging),
      ],
    );
    await client.query('UPDATE tenants SET pms_credentials_ref = $2 WHERE id = $1 AND pms_credentials_ref = $3', [
      demoTenantId,
      `env:${demoPmsKeyVariable}`,
      legacyDemoPmsKeyRef,
    ]);
    await client.query(
      'INSERT INTO tenant_phone_numbers (phone_number_id, tenant_id) VALUES ($1, $2) ON CONFLICT (phone_number_id) DO NOTHING',
      [demoPhoneNumberId, demoTenantId],
    );
    await notifyTenantsChanged(client);
    await client.query('COMMIT');
    return { created: rowCount === 1 };
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}
