import { chmodSync, mkdirSync } from 'node:fs';
import { density } from './density';
import { bookingConversations, converse, openConversations, paced, type LoadResult, type Sample } from './e2e';
import { ingress } from './ingress';
import { cpuMeter } from './proc';
import { meanLatencies, scrape } from './sdk-metrics';
import { eventsOfMessage, messageSteps, stepTable, type Step } from './steps';
import { startSystem, type System, type TemporalUnderTest } from './system';
import { newGuest } from './webhooks';

export const sections = ['steps', 'e2e', 'booking', 'ingress', 'density'] as const;
export type Section = (typeof sections)[number];

/** Durations and counts of one run. */
export interface Plan {
  stepsMessages: number;
  e2eSeconds: number;
  followUpGuests: number;
  bookingGuests: number;
  ingress: { rounds: number; seconds: number; connections: number[] };
  density: { conversations: number; probes: number };
}

/**
 * One message at a time, each path cut into steps from its history: new guests back to back, the same guests'
 * follow-ups back to back, then new guests each after `idleMs` of quiet (nothing else running).
 */
async function stepsSection(system: System, messages: number, idleMs = 1_500) {
  const before = await scrape(system.worker.metricsUrl);
  const paths = { first: [] as Step[][], followUp: [] as Step[][], afterIdle: [] as Step[][] };
  const steps = async (waId: string, text: string, followUp: boolean) => {
    const sample = await converse(system, waId, text);
    return messageSteps(
      await eventsOfMessage(system.client, system.conversationId(sample.waId), sample, followUp),
      sample,
    );
  };
  const guests = Array.from({ length: messages }, () => newGuest());
  for (const waId of guests) paths.first.push(await steps(waId, 'Hola, buenas tardes', false));
  for (const waId of guests) paths.followUp.push(await steps(waId, '¿A qué hora es el check-in?', true));
  const after = await scrape(system.worker.metricsUrl);
  for (let i = 0; i < messages; i++) {
    await new Promise((r) => setTimeout(r, idleMs));
    paths.afterIdle.push(await steps(newGuest(), 'Hola, buenas tardes', false));
  }
  return {
    messages,
    idleMs,
    firstMessage: stepTable(paths.first),
    followUp: stepTable(paths.followUp),
    firstMessageAfterIdle: stepTable(paths.afterIdle),
    sdkMeans: meanLatencies(before, after),
  };
}

/** Steps of up to `max` new conversations of a load run, spread evenly over it, to compare with the unloaded table. */
async function stepsUnderLoad(system: System, samples: Sample[], max: number) {
  const replied = samples.filter((s) => s.replyAt !== undefined);
  const every = Math.max(1, Math.floor(replied.length / max));
  const paths: Step[][] = [];
  for (const s of replied.filter((_, i) => i % every === 0).slice(0, max)) {
    paths.push(messageSteps(await eventsOfMessage(system.client, system.conversationId(s.waId), s, false), s));
  }
  return stepTable(paths);
}

async function e2eSection(system: System, plan: Plan, withSteps: boolean) {
  const load = async (name: string, rate: number, next: (i: number) => { waId: string; text: string }) => {
    const meter = cpuMeter({ temporal: system.temporal.pid, api: system.api.pid, worker: system.worker.pid });
    const before = await scrape(system.worker.metricsUrl);
    const run = await paced(system, rate, plan.e2eSeconds, next, 180_000);
    const result: LoadResult = { ...run.result, cpu: meter.stop() };
    const sdkMeans = meanLatencies(before, await scrape(system.worker.metricsUrl));
    console.log(
      `  ${name} at ${rate}/s: ${result.replies}/${result.sent} replies, p50 ${result.reply.p50} p95 ${result.reply.p95} ms`,
    );
    return { result, samples: run.samples, sdkMeans };
  };
  const newGuests = (text: string) => () => ({ waId: newGuest(), text });
  const at10 = await load('new guests', 10, newGuests('Hola, buenas tardes'));
  const at10Steps = withSteps ? await stepsUnderLoad(system, at10.samples, 100) : undefined;
  const at50 = await load('new guests', 50, newGuests('Hola, buenas tardes'));
  const at50Steps = withSteps ? await stepsUnderLoad(system, at50.samples, 100) : undefined;
  const regulars = await openConversations(system, plan.followUpGuests);
  const followUps = await load('follow-ups', 10, (i) => ({
    waId: regulars[i % regulars.length]!,
    text: '¿A qué hora es el check-in?',
  }));
  return {
    newGuests10: { ...at10.result, sdkMeans: at10.sdkMeans },
    newGuests10Steps: at10Steps,
    newGuests50: { ...at50.result, sdkMeans: at50.sdkMeans },
    newGuests50Steps: at50Steps,
    followUps10: { ...followUps.result, guests: plan.followUpGuests, sdkMeans: followUps.sdkMeans },
  };
}

export interface SuiteResult {
  temporal: string;
  steps?: Awaited<ReturnType<typeof stepsSection>>;
  e2e?: Awaited<ReturnType<typeof e2eSection>>;
  booking?: Awaited<ReturnType<typeof bookingConversations>>;
  ingress?: Awaited<ReturnType<typeof ingress>>;
  density?: Awaited<ReturnType<typeof density>>;
}

/** Runs the chosen sections against one Temporal server; returns what each measured. */
export async function suite(
  dir: string,
  temporal: TemporalUnderTest,
  chosen: readonly Section[],
  plan: Plan,
): Promise<SuiteResult> {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755); // the postgres user must reach its data directory
  const system = await startSystem(dir, temporal);
  const out: SuiteResult = { temporal: temporal.label };
  try {
    if (chosen.includes('steps')) {
      console.log('steps: one message at a time');
      out.steps = await stepsSection(system, plan.stepsMessages);
    }
    if (chosen.includes('e2e')) {
      console.log('end to end');
      out.e2e = await e2eSection(system, plan, true);
    }
    if (chosen.includes('booking')) {
      console.log('booking conversations');
      out.booking = await bookingConversations(system, plan.bookingGuests);
    }
    if (chosen.includes('ingress')) {
      console.log('ingress');
      const queue = 'bench-ingress-unpolled';
      const targets = {
        api: await system.startTarget('api', queue),
        bare: await system.startTarget('bare', queue),
        hmac: await system.startTarget('hmac', queue),
      };
      out.ingress = await ingress(system, targets, plan.ingress);
    }
    if (chosen.includes('density')) {
      console.log(`density: ${plan.density.conversations} conversations`);
      out.density = await density(system, plan.density.conversations, plan.density.probes);
    }
  } finally {
    await system.stop();
  }
  return out;
}
