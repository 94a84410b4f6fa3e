//! Sending the digital receipt by WhatsApp without a paid API: a `wa.me` link with the
//! customer's number and a message holding the receipt's link, shown as a QR code that the
//! store's phone scans (WhatsApp then opens the chat, ready to send). The number is used for
//! this link only and is never stored.

/** A number as WhatsApp wants it (country code, digits only), or null when it cannot be one.
 * Indonesian habits are understood: `0812…` and `+62 812…` are both `62812…`. */
export function waNumber(typed: string): string | null {
  const compact = typed.replace(/[\s\-().]/g, "");
  if (!/^\+?\d+$/.test(compact)) return null;
  let digits = compact.replace(/^\+/, "");
  if (digits.startsWith("0")) digits = `62${digits.slice(1)}`;
  // An Indonesian mobile number: 62 8xx, 9 to 13 digits after the country code; other
  // countries: 8 to 15 digits in all (E.164).
  if (digits.startsWith("62")) return /^628\d{8,12}$/.test(digits) ? digits : null;
  return /^[1-9]\d{7,14}$/.test(digits) ? digits : null;
}

/** `https://wa.me/<number>?text=<message>`. */
export function waLink(number: string, message: string): string {
  return `https://wa.me/${number}?text=${encodeURIComponent(message)}`;
}

/** The customer's email address as typed, trimmed, or null when it cannot be one (the till
 * checks it again, and the server once more). */
export function emailAddress(typed: string): string | null {
  const t = typed.trim();
  if (t.length > 254 || /\s/.test(t)) return null;
  return /^[^@]+@[\p{L}\p{N}-]+(\.[\p{L}\p{N}-]+)+$/u.test(t) ? t : null;
}
