// The signature of a callback delivery, as README's "Verifying a callback" checks it:
// X-Wsgate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>.
import { createHmac } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-wsgate-signature';

export function signatureOf(secret: string, unixSeconds: number, body: string): string {
  const v1 = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${v1}`;
}
