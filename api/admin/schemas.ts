import { z } from 'zod';
import { adminScopes } from '../../lib/admin-tokens';
import {
  businessHoursProblems,
  normalizeIdentifier,
  tenantIdPattern,
  weekdays,
  type BusinessHours,
} from '../../lib/domain/tenants';
import { secretRefPattern } from '../../lib/secrets';
import { serviceUrlProblem } from '../../lib/network-policy';
import { messagingSettings } from './messaging-schema';

/**
 * The admin API's requests and responses. Requests are validated with these schemas and the OpenAPI
 * document is generated from the same ones (`z.toJSONSchema`), so the two cannot drift apart.
 * Request objects are strict: an unknown field is an error, not silently dropped.
 */

// ---- fields ----

export const tenantId = z
  .string()
  .regex(tenantIdPattern, 'must be 1-64 lowercase letters, digits or hyphens, not starting or ending with a hyphen')
  .meta({ description: 'Tenant slug, chosen at creation and never changed', examples: ['hotel-sol'] });

export const phoneNumberId = z
  .string()
  .regex(/^[0-9]{5,30}$/, 'must be a WhatsApp phone number id (5-30 digits)')
  .meta({ description: "Meta's id of a WhatsApp Business phone number (not the number itself)" });

/** A guest phone number or e-mail address, normalized to E.164 or lower case. */
export const identifier = z
  .string()
  .max(320)
  // What normalizeIdentifier accepts, stated for the OpenAPI document: 7-15 digits, led by + or 00 or nothing,
  // with spaces, dots, hyphens and parentheses anywhere; or an e-mail address.
  .regex(
    // eslint-disable-next-line no-control-regex -- an e-mail address holds no control characters
    /^\s*(00|[\s().-]*\+)?[\s().-]*[1-9]([\s().-]*[0-9]){6,14}[\s().-]*$|^\s*[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+\s*$/,
    'must be a phone number (like +34600123456) or an e-mail address',
  )
  .transform((raw, ctx) => {
    const normalized = normalizeIdentifier(raw);
    if (normalized === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must be a phone number (like +34600123456) or an e-mail address' });
      return z.NEVER;
    }
    return normalized;
  })
  .meta({ description: 'Guest phone number (normalized to E.164) or e-mail address (lower-cased)' });

const name = z.string().trim().min(1, 'must not be empty').max(200);
const locale = z.enum(['es', 'en']).meta({ description: "Language of the tenant's automated replies" });

/** An IANA time zone, stored in its canonical spelling (`europe/madrid` becomes `Europe/Madrid`). */
const timezone = z
  .string()
  .min(1)
  .max(64)
  .transform((value, ctx) => {
    try {
      return new Intl.DateTimeFormat('en', { timeZone: value }).resolvedOptions().timeZone;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be an IANA time zone such as Europe/Madrid' });
      return z.NEVER;
    }
  })
  .meta({ description: 'IANA time zone of the business hours', examples: ['Europe/Madrid'] });

const dayHours = z
  .array(z.tuple([z.string(), z.string()]))
  .max(8)
  .meta({ description: 'Opening intervals of one weekday, [["08:00", "14:00"], ["16:00", "22:00"]]' });

const businessHours = z
  .strictObject({
    mon: dayHours.optional(),
    tue: dayHours.optional(),
    wed: dayHours.optional(),
    thu: dayHours.optional(),
    fri: dayHours.optional(),
    sat: dayHours.optional(),
    sun: dayHours.optional(),
  })
  .superRefine((hours, ctx) => {
    for (const day of weekdays) {
      (hours[day] ?? []).forEach((interval, i) => {
        for (const problem of businessHoursProblems({ [day]: [interval] })) {
          ctx.addIssue({ code: 'custom', path: [day, i], message: problem.replace(`${day}: `, '') });
        }
      });
    }
  })
  .transform((hours): BusinessHours => {
    const result: BusinessHours = {};
    for (const day of weekdays) if (hours[day]) result[day] = hours[day];
    return result;
  })
  .meta({ description: "When staff answer, per weekday, in the tenant's time zone; a missing day is closed" });

const info = z
  .record(
    z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/, 'keys are 1-64 letters, digits, _ . -, starting with a letter'),
    z.string().max(2000),
  )
  .refine((value) => Object.keys(value).length <= 50, 'at most 50 entries')
  .meta({ description: 'What guests may be told (address, check-in time, ...): a map of strings' });

// The worker refuses these URLs too, and private addresses at connect time (lib/network-policy.ts).
const pmsBaseUrl = z
  .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
  .max(500)
  .superRefine((value, ctx) => {
    const problem = serviceUrlProblem(value);
    // Not a URL or not http(s): z.url has said so already.
    if (problem !== undefined && /^https?:/i.test(value) && URL.canParse(value))
      ctx.addIssue({ code: 'custom', message: problem });
  });

const secretRef = z
  .string()
  .max(200)
  .regex(secretRefPattern, 'must be a reference like env:TENANT_HOTEL_X_TOKEN, never the secret itself')
  .meta({
    description:
      "Reference to a secret in the worker's environment, in the tenant's own namespace: env:TENANT_<ID>_<NAME>, " +
      'the tenant id upper-cased with - as _ (tenant hotel-sol: env:TENANT_HOTEL_SOL_PMS_KEY)',
  });

/** Reports every duplicate in `values` (after normalization) at its index. */
function noDuplicates(values: readonly string[] | undefined, field: string, ctx: z.RefinementCtx): void {
  const seen = new Map<string, number>();
  (values ?? []).forEach((value, i) => {
    const first = seen.get(value);
    if (first !== undefined)
      ctx.addIssue({ code: 'custom', path: [field, i], message: `duplicate of ${field}.${first}` });
    else seen.set(value, i);
  });
}

// ---- requests ----

export const noParams = z.strictObject({});
export const noQuery = z.strictObject({});

export const tenantParams = z.strictObject({ id: tenantId });
export const phoneNumberParams = z.strictObject({ id: tenantId, phoneNumberId });
export const identifierParams = z.strictObject({ id: tenantId, identifier });
export const tokenParams = z.strictObject({
  id: z
    .string()
    .regex(/^[0-9a-f]{16}$/, 'must be a token id (16 hex digits)')
    .meta({ description: 'Token id: the part between hm_ and the second _ of the token' }),
});

export const listTenantsQuery = z.strictObject({
  status: z.enum(['active', 'suspended']).optional(),
  after: tenantId.optional().meta({ description: 'Cursor: the nextAfter of the previous page' }),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** The hotel's id inside its PMS (QloApps `id_hotel`). */
const pmsHotelId = z.number().int().positive().meta({ description: "The hotel's id in its PMS (QloApps id_hotel)" });

export const createTenantBody = z
  .strictObject({
    id: tenantId,
    name,
    locale: locale.optional(),
    timezone: timezone.optional(),
    businessHours: businessHours.optional(),
    info: info.optional(),
    pmsBaseUrl: pmsBaseUrl.optional(),
    pmsCredentialsRef: secretRef.optional(),
    pmsHotelId: pmsHotelId.optional(),
    whatsappTokenRef: secretRef.optional(),
    messaging: messagingSettings.optional(),
    phoneNumberIds: z.array(phoneNumberId).max(100).optional(),
    identifiers: z.array(identifier).max(1000).optional(),
  })
  .superRefine((body, ctx) => {
    noDuplicates(body.phoneNumberIds, 'phoneNumberIds', ctx);
    noDuplicates(body.identifiers, 'identifiers', ctx);
  });

export const updateTenantBody = z
  .strictObject({
    name: name.optional(),
    locale: locale.optional(),
    timezone: timezone.optional(),
    businessHours: businessHours.optional(),
    info: info.optional(),
    pmsBaseUrl: pmsBaseUrl.nullable().optional(),
    pmsCredentialsRef: secretRef.nullable().optional(),
    pmsHotelId: pmsHotelId.nullable().optional(),
    whatsappTokenRef: secretRef.nullable().optional(),
    messaging: messagingSettings.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, {
    message: 'give at least one field to change',
    // Only for a body that is otherwise fine: `{ "nmae": "x" }` is an unknown field, not an empty change.
    when: (payload) => payload.issues.length === 0,
  })
  .meta({
    description:
      'Fields to change; businessHours, info and messaging replace the whole value; null clears a ref or URL',
    minProperties: 1,
  });

export const addPhoneNumberBody = z.strictObject({ phoneNumberId });
export const addIdentifierBody = z.strictObject({ identifier });

export const createTokenBody = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(100).meta({ description: 'Who or what uses the token' }),
  scope: z.enum(adminScopes).meta({ description: 'admin: everything; monitoring: GET only' }),
  tenantId: tenantId.optional().meta({ description: 'Restrict the token to this tenant' }),
});

/** What a route without a body accepts if a body is sent anyway: nothing but `{}`. */
export const noBody = z.strictObject({});

// ---- responses ----

const timestamp = z.string().meta({ format: 'date-time' });

export const tenantSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(['active', 'suspended']),
  locale: z.enum(['es', 'en']),
  timezone: z.string(),
  // Intervals as two-string arrays rather than tuples: schemathesis rejects the `prefixItems` + `items: false`
  // that a tuple becomes inside a response schema, though it is valid JSON Schema 2020-12.
  businessHours: z.partialRecord(
    z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']),
    z.array(z.array(z.string()).length(2)),
  ),
  info: z.record(z.string(), z.string()),
  pmsBaseUrl: z.string().nullable(),
  pmsCredentialsRef: z.string().nullable(),
  pmsHotelId: z.number().int().nullable(),
  whatsappTokenRef: z.string().nullable(),
  messaging: messagingSettings,
  phoneNumberIds: z.array(z.string()),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const tenantDetailSchema = tenantSchema.extend({
  identifiers: z
    .array(z.string())
    .optional()
    .meta({ description: 'Guest identifiers registered to the tenant; not shown to monitoring tokens' }),
  identifierCount: z.number().int().min(0).meta({ description: 'How many guest identifiers are registered' }),
});

export const tenantListSchema = z.object({
  tenants: z.array(tenantSchema),
  nextAfter: z.string().nullable().meta({ description: 'Pass as ?after= for the next page; null on the last' }),
});

export const tokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  scope: z.enum(adminScopes),
  tenantId: z.string().nullable(),
  createdAt: timestamp,
  lastUsedAt: timestamp.nullable(),
  revokedAt: timestamp.nullable(),
});

export const tokenListSchema = z.object({ tokens: z.array(tokenSchema) });

export const createdTokenSchema = tokenSchema.extend({
  token: z.string().meta({ description: 'The bearer token, hm_<id>_<secret>. Shown only in this response.' }),
});

export const acceptedSchema = z.object({ status: z.literal('accepted') });

export const errorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z
      .object({
        fields: z
          .array(z.object({ in: z.enum(['path', 'query', 'body']), path: z.string(), message: z.string() }))
          .optional(),
      })
      .optional(),
  }),
});
