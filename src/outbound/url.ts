// Checking a URL that wsgate is asked to call (an httpRequest job's, a callback's) before anything is
// queued or sent: http or https only, no user name or password in it, a host the allow list names.
import { WsError } from '../errors.js';
import type { AllowList } from './allow.js';

export const MAX_URL_LENGTH = 8_192;

/** `field` names the parameter in the error (INVALID_PARAMETER for a malformed URL, ACCESS_DENIED for a host not allowed). */
export function checkOutboundUrl(field: string, raw: unknown, allow: AllowList, setting: string): URL {
  if (typeof raw !== 'string' || raw === '') throw new WsError('INVALID_PARAMETER', `${field} must be a URL (http or https)`);
  if (raw.length > MAX_URL_LENGTH) throw new WsError('INVALID_PARAMETER', `${field} is longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WsError('INVALID_PARAMETER', `${field} is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WsError('INVALID_PARAMETER', `${field}: the scheme ${url.protocol.slice(0, -1)} is not allowed (http or https only)`);
  }
  if (url.username || url.password)
    throw new WsError('INVALID_PARAMETER', `${field}: a user name or password in the URL is not allowed (send an Authorization header)`);
  if (!allow.on) throw new WsError('ACCESS_DENIED', `${field}: calls to other servers are off on this server (${setting} is not set)`);
  if (!allow.hostAllowed(url.hostname)) throw new WsError('ACCESS_DENIED', `${field}: the host ${url.hostname} is not allowed (${setting})`);
  return url;
}
