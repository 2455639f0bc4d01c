import { Writable } from 'node:stream';
import { createLogger, maskPhones, type Logger } from '../../lib/log';

const guest = '16505551234';
const businessNumberId = '106540352242922';
const workflowId = `wa:${businessNumberId}:${guest}`;

/** A logger writing to memory, and its output parsed back one JSON object per line. */
function capture(level = 'debug'): { log: Logger; raw: () => string; entries: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  const log = createLogger({ level, name: 'test' }, destination);
  const raw = () => chunks.join('');
  return {
    log,
    raw,
    entries: () =>
      raw()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

function only<T>(items: T[]): T {
  expect(items).toHaveLength(1);
  return items[0]!;
}

describe('createLogger', () => {
  it('writes one JSON line with level, time, name and msg', () => {
    const { log, entries } = capture();
    log.info({ rooms: 3 }, 'availability checked');
    const entry = only(entries());
    expect(entry).toMatchObject({ level: 30, name: 'test', rooms: 3, msg: 'availability checked' });
    expect(typeof entry.time).toBe('string');
  });

  it('respects the level', () => {
    const { log, entries } = capture('warn');
    log.info('not written');
    log.warn('written');
    expect(entries().map((e) => e.msg)).toEqual(['written']);
  });

  describe('redacts secrets by field name', () => {
    it.each(['token', 'accessToken', 'authorization', 'appSecret', 'secret', 'password', 'apiKey'])('%s', (field) => {
      const { log, raw, entries } = capture();
      const value = `s3cr3t-${field}-value`;
      log.info({ [field]: value, nested: { [field]: value } }, 'calling the Graph API');
      expect(raw()).not.toContain(value);
      expect(only(entries())).toMatchObject({ [field]: '[redacted]', nested: { [field]: '[redacted]' } });
    });

    it('in request headers, including the webhook signature', () => {
      const { log, raw } = capture();
      log.info(
        { req: { headers: { authorization: 'Bearer EAAGtoken123', 'x-hub-signature-256': 'sha256=abcdef0123' } } },
        'request',
      );
      log.info({ headers: { authorization: 'Bearer EAAGtoken456', 'x-hub-signature-256': 'sha256=fedcba9876' } }, 'r');
      for (const secret of ['EAAGtoken123', 'abcdef0123', 'EAAGtoken456', 'fedcba9876']) {
        expect(raw()).not.toContain(secret);
      }
    });
  });

  describe('redacts phone numbers by field name', () => {
    it.each(['from', 'waId', 'to', 'wa_id', 'phone', 'recipient_id'])('%s', (field) => {
      const { log, raw, entries } = capture();
      log.info({ [field]: guest, message: { [field]: guest } }, 'inbound');
      expect(raw()).not.toContain(guest);
      expect(only(entries())).toMatchObject({ [field]: '[redacted]', message: { [field]: '[redacted]' } });
    });

    it('and message bodies', () => {
      const { log, raw } = capture();
      log.info({ text: 'my card is 4111 1111', body: 'room 12 please' }, 'inbound');
      expect(raw()).not.toContain('4111');
      expect(raw()).not.toContain('room 12');
    });
  });

  describe('masks phone numbers in free text', () => {
    it('in the message string', () => {
      const { log, raw, entries } = capture();
      log.info(`message from ${guest} received`);
      expect(raw()).not.toContain(guest);
      expect(only(entries()).msg).toBe('message from ***34 received');
    });

    it('in format arguments', () => {
      const { log, raw } = capture();
      log.info('starting %s for %s', workflowId, guest);
      expect(raw()).not.toContain(guest);
      expect(raw()).not.toContain(businessNumberId);
    });

    it('in any string field, however it is named', () => {
      const { log, raw, entries } = capture();
      log.info({ workflowId, deep: { list: [`call +${guest}`] } }, 'signal sent');
      expect(raw()).not.toContain(guest);
      expect(raw()).not.toContain(businessNumberId);
      expect(only(entries())).toMatchObject({ workflowId: 'wa:***22:***34', deep: { list: ['call ***34'] } });
    });

    it('but keeps ids whole: a run id (UUID) and a conversation id by keyed guest reference', () => {
      const { log, raw, entries } = capture();
      const runId = '9aae0f89-b90c-41e0-a676-1c79c1458976';
      const keyed = `wa:${businessNumberId}:0aca12365fa8d20726c9`;
      log.info({ runId, workflowId: keyed, note: `guest +${guest}` }, 'handled');
      expect(only(entries())).toMatchObject({ runId, workflowId: keyed, note: 'guest ***34' });
      expect(raw()).not.toContain(guest);
    });

    it('in an Error logged as err, with a message', () => {
      const { log, raw, entries } = capture();
      log.error({ err: new Error(`Workflow ${workflowId} failed`) }, 'signal failed');
      expect(raw()).not.toContain(guest);
      expect(raw()).not.toContain(businessNumberId);
      const entry = only(entries());
      expect(entry.msg).toBe('signal failed');
      expect(entry.err).toMatchObject({ type: 'Error', message: 'Workflow wa:***22:***34 failed' });
    });

    it('in an Error logged as err, without a message (pino uses the error message as msg)', () => {
      const { log, raw, entries } = capture();
      log.error({ err: new Error(`Workflow ${workflowId} failed`) });
      expect(raw()).not.toContain(guest);
      expect(raw()).not.toContain(businessNumberId);
      expect(only(entries()).msg).toBe('Workflow wa:***22:***34 failed');
    });

    it('in an Error logged on its own', () => {
      const { log, raw, entries } = capture();
      log.error(new TypeError(`no conversation ${workflowId}`));
      expect(raw()).not.toContain(guest);
      expect(raw()).not.toContain(businessNumberId);
      const entry = only(entries());
      expect(entry.msg).toBe('no conversation wa:***22:***34');
      expect(entry.err).toMatchObject({ type: 'TypeError', message: 'no conversation wa:***22:***34' });
    });

    it('in the stack of an Error', () => {
      const { log, entries } = capture();
      log.error({ err: new Error(`failed for ${guest}`) }, 'failed');
      const err = only(entries()).err as { stack: string };
      expect(err.stack).toContain('failed for ***34');
      expect(err.stack).not.toContain(guest);
    });
  });

  it('redacts phone fields in child logger bindings by name', () => {
    // Only name-based redaction reaches child bindings: pino does not run formatters.log on them.
    const { log, raw, entries } = capture();
    log.child({ from: guest, waId: guest }).info('activity started');
    expect(raw()).not.toContain(guest);
    expect(only(entries())).toMatchObject({ from: '[redacted]', waId: '[redacted]' });
  });

  it('leaves ordinary numbers and short digit runs alone', () => {
    const { log, entries } = capture();
    log.info({ bytes: 3145728, room: '1204', year: '2025' }, 'booking 42 for 2 nights');
    expect(only(entries())).toMatchObject({
      bytes: 3145728,
      room: '1204',
      year: '2025',
      msg: 'booking 42 for 2 nights',
    });
  });
});

describe('maskPhones', () => {
  it.each([
    ['16505551234', '***34'],
    ['+16505551234', '***34'],
    ['+34 call 34600123456 now', '+34 call ***56 now'],
    [workflowId, 'wa:***22:***34'],
    ['1234567', '***67'], // 7 digits: the shortest run treated as a phone number
    ['123456789012345', '***45'], // 15 digits: the longest (E.164)
    ['123456', '123456'],
    ['room 12, 2 adults, 3 nights', 'room 12, 2 adults, 3 nights'],
    ['', ''],
  ])('%j -> %j', (input, expected) => {
    expect(maskPhones(input)).toBe(expected);
  });

  it('keeps only the last 2 digits of every number in the text', () => {
    const masked = maskPhones(`guests ${guest} and 447700900123`);
    expect(masked).toBe('guests ***34 and ***23');
  });
});
