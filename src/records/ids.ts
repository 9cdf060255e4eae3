// Web-service ids: <module id prefix>x<record number>, e.g. 12x5.
import { WsError } from '../errors.js';

export interface WsId {
  prefix: string;
  id: number;
}

const WS_ID = /^([1-9][0-9]*)x([1-9][0-9]{0,14})$/;

/** Record and user numbers are 32-bit integers in the database (PostgreSQL's integer). */
export const MAX_RECORD_NUMBER = 2_147_483_647;

export function parseWsId(value: unknown, what = 'id'): WsId {
  const m = typeof value === 'string' ? WS_ID.exec(value) : null;
  if (!m || Number(m[2]) > MAX_RECORD_NUMBER) throw new WsError('INVALID_ID_ATTRIBUTE', `${what} "${String(value)}" is not a web-service id such as 12x5`);
  return { prefix: m[1]!, id: Number(m[2]) };
}

export const formatWsId = (prefix: string, id: number) => `${prefix}x${id}`;
