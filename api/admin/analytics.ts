import type { Pool } from 'pg';
import { z } from 'zod';
import { getTenant } from '../../lib/db/admin';
import { datesBetween, tenantAnalytics } from '../../lib/db/interactions';
import { defineRoute, type AdminRoute } from './route';
import { tenantParams } from './schemas';
import { tenantNotFound } from './tenants';

/** The longest range one request may ask for, in days. */
export const maxAnalyticsDays = 366;
/** The range when none is given: the last week, today included. */
const defaultDays = 7;

const calendarDate = z
  .string()
  .regex(/^2\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'must be a date, YYYY-MM-DD (2000-2999)')
  .refine((value) => {
    // Runs after a failed pattern too: anything Date cannot read is simply not a date.
    const time = Date.parse(`${value}T00:00:00Z`);
    return Number.isFinite(time) && new Date(time).toISOString().startsWith(value);
  }, 'must be a date that exists');

const analyticsQuery = z
  .strictObject({
    from: calendarDate.optional().meta({
      description: `First day (YYYY-MM-DD, tenant's time zone); default: \`to\` minus ${defaultDays - 1} days`,
    }),
    to: calendarDate
      .optional()
      .meta({ description: "Last day, included (YYYY-MM-DD, tenant's time zone); default: today" }),
  })
  .superRefine(({ from, to }, ctx) => {
    if (from === undefined || to === undefined) return;
    if (from > to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'must not be after `to`' });
    else if (datesBetween(from, to).length > maxAnalyticsDays) {
      ctx.addIssue({ code: 'custom', path: ['from'], message: `the range must be at most ${maxAnalyticsDays} days` });
    }
  });

const count = z.number().int().min(0);
const counts = z.record(z.string(), count);
const figures = {
  messagesIn: count.meta({ description: 'Guest messages, each once (redeliveries are in duplicatesDropped)' }),
  messagesOut: count.meta({
    description: "Messages WhatsApp accepted for guests (the bot's replies, the booking saga's messages)",
  }),
  duplicatesDropped: count.meta({ description: 'Redeliveries of a message already taken in, dropped' }),
  intents: counts.meta({ description: 'Guest messages by what they were understood as' }),
  types: counts.meta({ description: 'Guest messages by WhatsApp type' }),
  outcomes: z
    .object({ answered: count, handed_off: count, failed: count, no_reply: count })
    .meta({ description: 'Guest messages by what became of them' }),
  firstResponseMs: z
    .object({
      count: count.meta({ description: 'Guest messages that got a reply' }),
      median: count.nullable(),
      p95: count.nullable(),
    })
    .meta({
      description: 'Receipt of a guest message to the first reply WhatsApp accepted; nearest-rank percentiles, ms',
    }),
  conversations: count.meta({ description: 'Conversations with at least one guest message' }),
  handedOffConversations: count.meta({ description: 'Of those, the ones with a message handed off to staff' }),
  handoffRate: z
    .number()
    .min(0)
    .max(1)
    .nullable()
    .meta({ description: 'handedOffConversations / conversations; null without conversations' }),
  bookings: z
    .object({ confirmed: count, failed: count, unavailable: count, cancelled: count })
    .meta({ description: 'Booking sagas by how they ended, as the guest was told' }),
};
export const tenantAnalyticsSchema = z.object({
  tenantId: z.string(),
  timezone: z.string(),
  from: z.string(),
  to: z.string(),
  days: z.array(z.object({ date: z.string(), ...figures })),
  total: z.object(figures),
});

/** Today in `timezone`, YYYY-MM-DD. */
function today(timezone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' })
    .format(new Date())
    .slice(0, 10);
}

function shift(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** The per-tenant analytics of the interaction log (lib/db/interactions.ts). */
export function analyticsRoutes({ db }: { db: Pool }): AdminRoute[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/admin/tenants/:id/analytics',
      operationId: 'getTenantAnalytics',
      summary:
        "Per-day figures of a tenant's conversations: messages, intents, first-response time, handoffs, bookings",
      description:
        "Days in the tenant's time zone. A guest message counts on the day the guest sent it; a reply, and the " +
        'booking outcome it tells, on the day of the message it answers. Read from the interaction log, which ' +
        'workers fill through an outbox: the last seconds may not be in yet.',
      tag: 'tenants',
      access: 'read',
      tenantScoped: true,
      params: tenantParams,
      query: analyticsQuery,
      success: {
        status: 200,
        description: 'Each day of the range, and the whole range',
        schema: tenantAnalyticsSchema,
        name: 'TenantAnalytics',
      },
      handle: async ({ params, query }) => {
        const tenant = await getTenant(db, params.id);
        if (!tenant) throw tenantNotFound();
        const to = query.to ?? (query.from !== undefined ? shift(query.from, defaultDays - 1) : today(tenant.timezone));
        const from = query.from ?? shift(to, -(defaultDays - 1));
        return tenantAnalytics(db, { tenantId: tenant.id, timezone: tenant.timezone, from, to });
      },
    }),
  ];
}
