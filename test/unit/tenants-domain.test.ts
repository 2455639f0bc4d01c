import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  businessHoursProblems,
  isTenantId,
  normalizeIdentifier,
  staffAvailability,
  tenantIdPattern,
  type BusinessHours,
} from '../../lib/domain/tenants';

describe('tenant ids', () => {
  it('are the pattern the tenants table CHECKs', () => {
    const migration = readFileSync(path.join(__dirname, '../../lib/db/migrations/001_tenants.sql'), 'utf8');
    expect(migration).toContain(`CHECK (id ~ '${tenantIdPattern.source}')`);
  });

  it.each(['a', 'hotel-sol', 'h0tel-2', 'a'.repeat(64)])('%s is one', (id) => {
    expect(isTenantId(id)).toBe(true);
  });

  it.each(['', '-hotel', 'hotel-', 'Hotel', 'hotel_sol', 'hotel sol', 'a'.repeat(65), '../etc'])('%j is not', (id) => {
    expect(isTenantId(id)).toBe(false);
  });
});

describe('normalizeIdentifier', () => {
  it.each([
    ['34600123456', '+34600123456'],
    ['+34 600 12 34 56', '+34600123456'],
    ['0034600123456', '+34600123456'],
    ['+1 (650) 555-1234', '+16505551234'],
    ['  Guest@Example.COM ', 'guest@example.com'],
  ])('%s → %s', (raw, normalized) => {
    expect(normalizeIdentifier(raw)).toBe(normalized);
  });

  it.each(['', 'hello', '+0123456789', '12345', '+1234567890123456', 'a@b', 'two@@example.com'])(
    'rejects %j',
    (raw) => {
      expect(normalizeIdentifier(raw)).toBeUndefined();
    },
  );
});

describe('businessHoursProblems', () => {
  it('accepts valid hours', () => {
    expect(
      businessHoursProblems({
        mon: [
          ['08:00', '14:00'],
          ['16:00', '20:00'],
        ],
        sun: [['00:00', '24:00']],
      }),
    ).toEqual([]);
  });
  it('names each problem', () => {
    expect(
      businessHoursProblems({ mon: [['8:00', '14:00']], tue: [['18:00', '09:00']], xyz: [] } as BusinessHours),
    ).toEqual([
      'mon: 8:00-14:00 is not HH:MM-HH:MM',
      'tue: 18:00-09:00 closes before it opens',
      'xyz: not a weekday (mon..sun)',
    ]);
  });
});

describe('staffAvailability', () => {
  // Wednesday 2026-11-25 10:30 in Madrid (UTC+1 in November) is 09:30 UTC.
  const wednesdayMorning = Date.UTC(2026, 10, 25, 9, 30);
  const hours: BusinessHours = {
    mon: [['09:00', '18:00']],
    wed: [
      ['08:00', '10:00'],
      ['16:00', '20:00'],
    ],
    fri: [['09:00', '13:00']],
  };

  it('is open with no business hours configured', () => {
    expect(staffAvailability({}, 'Europe/Madrid', wednesdayMorning)).toEqual({ open: true });
  });

  it('finds the next opening later the same day', () => {
    expect(staffAvailability(hours, 'Europe/Madrid', wednesdayMorning)).toEqual({
      open: false,
      next: { day: 'wed', time: '16:00' },
    });
  });

  it('is open inside an interval, in the tenant timezone', () => {
    expect(staffAvailability(hours, 'Europe/Madrid', Date.UTC(2026, 10, 25, 8, 30))).toEqual({ open: true });
    // The same instant is 04:30 in New York: closed, next opening 08:00 the same day.
    expect(staffAvailability(hours, 'America/New_York', Date.UTC(2026, 10, 25, 9, 30))).toEqual({
      open: false,
      next: { day: 'wed', time: '08:00' },
    });
  });

  it('wraps to the next open weekday, across the week end', () => {
    const saturday = Date.UTC(2026, 10, 28, 12, 0);
    expect(staffAvailability(hours, 'Europe/Madrid', saturday)).toEqual({
      open: false,
      next: { day: 'mon', time: '09:00' },
    });
  });
});
