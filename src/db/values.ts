// Raw queries answer dates and booleans in each provider's own way (Date or epoch milliseconds,
// boolean or 0/1): these read either.
export const toDate = (v: unknown): Date => (v instanceof Date ? v : new Date(typeof v === 'string' && !/^\d+$/.test(v) ? v : Number(v)));

export const toBoolean = (v: unknown): boolean => v === true || v === 1 || v === '1' || v === 1n || v === 'true';
