// Parameters are shown with the values of secret-looking keys masked, at any depth: an operator reviewing
// a queued call must not learn a password, access key or token that travels in it.

const SECRET_KEY =
  /pass(wd|phrase)?$|password|access_?key|secret|token|^auth$|authori[sz]ation|^session_?(name|id)?$|api_?key|private_?key|credential|cookie|signature/i;

export const MASK = '••••••';

export function maskSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskSecrets);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) ? (v === null || v === '' ? v : MASK) : maskSecrets(v);
  }
  return out;
}
