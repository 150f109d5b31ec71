/**
 * Pure: moments as people read them in the tray, in the reader's locale: the clock time for today,
 * the day and time otherwise ("10:42", "Dec 4, 10:42").
 */

/** `iso` relative to `now`: the clock time when it is the same day, else the day and the time. */
export function shortWhen(iso: string, now: Date = new Date()): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const time = at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (at.toDateString() === now.toDateString()) return time;
  return `${at.toLocaleDateString([], { month: 'short', day: 'numeric' })}, ${time}`;
}
