// The rows a translated query answers, in coreBOS's shape: every value a string, ids as <prefix>x<n>.
import { formatUserId } from '../auth/users.js';
import { formatWsId } from '../records/ids.js';
import type { TranslatedQuery } from './translate.js';

export type VtqlRecord = Record<string, string>;

const asText = (v: unknown) => (v === null || v === undefined ? '' : String(v));

/** count(*) answers [{ count: 'N' }]; other queries one record per row with the selected fields. */
export function toRecords(q: TranslatedQuery, rows: readonly Record<string, unknown>[]): VtqlRecord[] {
  if (q.output === 'count') return [{ count: asText(rows[0]?.count ?? 0) }];
  const output = q.output;
  return rows.map((row) => {
    const data = JSON.parse(String(row.data)) as Record<string, unknown>;
    const record: VtqlRecord = {};
    for (const name of output) {
      switch (name) {
        case 'id':
          record.id = formatWsId(q.module.idPrefix, Number(row.id));
          break;
        case 'assigned_user_id':
          record.assigned_user_id = formatUserId(Number(row.owner_id));
          break;
        case 'createdtime':
        case 'modifiedtime':
          record[name] = asText(row[name]);
          break;
        default:
          record[name] = asText(data[name]);
      }
    }
    return record;
  });
}
