/** Checksums that turn "looks like a number" into "is one": Luhn for cards, ISO 7064 mod 97 for IBANs. */

/** True when the digits of `s` (other characters ignored) pass the Luhn check. */
export function luhnValid(s: string): boolean {
  let sum = 0;
  let double = false;
  let count = 0;
  for (let i = s.length - 1; i >= 0; i--) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) continue;
    let d = c;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
    count++;
  }
  return count >= 13 && sum % 10 === 0;
}

/** True when `s` (spaces ignored) is an IBAN whose mod-97 check digits are right (ISO 13616). */
export function ibanValid(s: string): boolean {
  const iban = s.replaceAll(' ', '');
  if (iban.length < 15 || iban.length > 34) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    // Letters count as two digits (A = 10 … Z = 35).
    const v = c >= 65 && c <= 90 ? c - 55 : c - 48;
    if (v < 0 || v > 35) return false;
    rem = v > 9 ? (rem * 100 + v) % 97 : (rem * 10 + v) % 97;
  }
  return rem === 1;
}
