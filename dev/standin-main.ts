/**
 * `node dist/dev/standin-main.js whatsapp|pms`: one stand-in as a process of its own, for compose's `demo` profile.
 * It listens on STANDIN_HOST (0.0.0.0) and STANDIN_PORT (4010 for WhatsApp, 4020 for the PMS). The WhatsApp stand-in
 * accepts WHATSAPP_ACCESS_TOKEN; the PMS stand-in's webservice key is STANDIN_PMS_KEY, else the demo hotel's own
 * TENANT_HOTEL_DEMO_PMS_KEY (compose gives it the worker's tenants.env). With STANDIN_STATUS_WEBHOOK_URL the WhatsApp
 * stand-in posts status webhooks there like Meta (signed with WHATSAPP_APP_SECRET; STANDIN_STATUS_DELAY_MS,
 * STANDIN_STATUS_LOSS_RATE). SIGTERM closes it.
 */
import { z } from 'zod';
import { demoPmsKeyVariable, demoTemplateNames } from '../lib/db/seed-demo';
import { startPmsStandin } from './pms-standin';
import { startWhatsAppStandin } from './whatsapp-standin';

const envSchema = z.object({
  STANDIN_HOST: z.string().min(1).default('0.0.0.0'),
  STANDIN_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  WHATSAPP_ACCESS_TOKEN: z.string().min(8).optional(),
  STANDIN_PMS_KEY: z.string().length(32, 'must be a 32-character QloApps webservice key').optional(),
  /** Status webhooks (sent, delivered, read) to the app, signed with WHATSAPP_APP_SECRET; off unless set. */
  STANDIN_STATUS_WEBHOOK_URL: z.url().optional(),
  WHATSAPP_APP_SECRET: z.string().min(8).optional(),
  STANDIN_STATUS_DELAY_MS: z.coerce.number().int().min(0).default(1000),
  STANDIN_STATUS_LOSS_RATE: z.coerce.number().min(0).max(1).default(0),
});

async function main(): Promise<void> {
  const kind = process.argv[2];
  const env = envSchema.parse({ STANDIN_PMS_KEY: process.env[demoPmsKeyVariable], ...process.env });
  let standin: { url: string; close(): Promise<void> };
  if (kind === 'whatsapp') {
    if (!env.WHATSAPP_ACCESS_TOKEN) throw new Error('WHATSAPP_ACCESS_TOKEN is required');
    if (env.STANDIN_STATUS_WEBHOOK_URL && !env.WHATSAPP_APP_SECRET) {
      throw new Error('STANDIN_STATUS_WEBHOOK_URL needs WHATSAPP_APP_SECRET to sign the status webhooks');
    }
    standin = await startWhatsAppStandin({
      accessToken: env.WHATSAPP_ACCESS_TOKEN,
      host: env.STANDIN_HOST,
      port: env.STANDIN_PORT ?? 4010,
      templates: demoTemplateNames,
      ...(env.STANDIN_STATUS_WEBHOOK_URL && env.WHATSAPP_APP_SECRET
        ? {
            statusWebhook: {
              url: env.STANDIN_STATUS_WEBHOOK_URL,
              appSecret: env.WHATSAPP_APP_SECRET,
              delayMs: env.STANDIN_STATUS_DELAY_MS,
              lossRate: env.STANDIN_STATUS_LOSS_RATE,
            },
          }
        : {}),
    });
  } else if (kind === 'pms') {
    if (!env.STANDIN_PMS_KEY) throw new Error(`STANDIN_PMS_KEY (or ${demoPmsKeyVariable}) is required`);
    standin = await startPmsStandin({
      webserviceKey: env.STANDIN_PMS_KEY,
      host: env.STANDIN_HOST,
      port: env.STANDIN_PORT ?? 4020,
    });
  } else {
    throw new Error('usage: standin-main whatsapp|pms');
  }
  console.log(`${kind} stand-in listening on ${standin.url}`);
  const stop = () => void standin.close().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
