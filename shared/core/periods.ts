/**
 * Budget and rate windows, calendar-aligned in UTC: a `1d` budget resets at 00:00 UTC, `1w` on
 * Monday 00:00 UTC (ISO weeks), `1M` on the first of the month, `1Y` on 1 January. Pure: the caller
 * passes the time.
 */
import type { Period } from '../schema/common.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Start (epoch ms) of the window of `period` that contains `nowMs`. */
export function periodStart(period: Period, nowMs: number): number {
  switch (period) {
    case '1m':
      return nowMs - (nowMs % MINUTE);
    case '1h':
      return nowMs - (nowMs % HOUR);
    case '1d':
      return nowMs - (nowMs % DAY);
    case '1w': {
      const day = nowMs - (nowMs % DAY);
      // 1970-01-01 was a Thursday: getUTCDay() 0 = Sunday; ISO weeks start on Monday.
      const dow = (new Date(day).getUTCDay() + 6) % 7;
      return day - dow * DAY;
    }
    case '1M': {
      const d = new Date(nowMs);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    }
    case '1Y':
      return Date.UTC(new Date(nowMs).getUTCFullYear(), 0, 1);
    default: {
      const never: never = period;
      throw new Error(`unknown period ${String(never)}`);
    }
  }
}

/** End (epoch ms, exclusive) of the window of `period` that contains `nowMs`. */
export function periodEnd(period: Period, nowMs: number): number {
  const start = periodStart(period, nowMs);
  switch (period) {
    case '1m':
      return start + MINUTE;
    case '1h':
      return start + HOUR;
    case '1d':
      return start + DAY;
    case '1w':
      return start + 7 * DAY;
    case '1M': {
      const d = new Date(start);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    }
    case '1Y':
      return Date.UTC(new Date(start).getUTCFullYear() + 1, 0, 1);
    default: {
      const never: never = period;
      throw new Error(`unknown period ${String(never)}`);
    }
  }
}
