/** Dollars as people read them (the tray window and the console): cents, "under 1¢" for a tiny cost, thousands grouped. */
export function money(usd: number): string {
  if (usd > 0 && usd < 0.01) return 'under 1¢';
  return `$${usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}
