/**
 * Pausing interception from the tray, where policy allows it: until a time, by whom, ending by
 * itself. The proxy reads `active()` for each new connection; the status and the event stream show
 * it; every pause and resume is logged with who and until when.
 */
import { OutpostError } from '../../shared/errors.js';

/** Why a pause was refused. */
export class PauseError extends OutpostError<'pause_not_allowed' | 'pause_too_long'> {}

/** The pause in force, if any. */
export class PauseState {
  private until: number | null = null;
  private by = '';
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly onChange: (paused: { until: string; by: string } | null) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** True while paused. */
  active(): boolean {
    return this.until !== null && this.now() < this.until;
  }

  /** The pause in force, for the status; null when none. */
  current(): { until: string; by: string } | null {
    return this.active() && this.until !== null ? { until: new Date(this.until).toISOString(), by: this.by } : null;
  }

  /** Pauses for `minutes` when `rules` allow it; a second pause replaces the first. */
  pause(minutes: number, by: string, rules: { readonly allowed: boolean; readonly maxMinutes: number }): { until: string; by: string } {
    if (!rules.allowed) throw new PauseError('pause_not_allowed', "Your company's policy does not allow pausing Outpost on this computer.");
    if (minutes > rules.maxMinutes) throw new PauseError('pause_too_long', `Outpost can be paused for at most ${rules.maxMinutes} minutes at a time.`);
    this.until = this.now() + minutes * 60_000;
    this.by = by;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.resume(), minutes * 60_000);
    this.timer.unref();
    const now = this.current() as { until: string; by: string };
    this.onChange(now);
    return now;
  }

  /** Ends the pause (no-op when none). */
  resume(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const was = this.until !== null;
    this.until = null;
    if (was) this.onChange(null);
  }
}
