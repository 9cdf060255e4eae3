// Recurring operations' state (ws_schedule): per schedule, the last tick queued and a version. A tick's
// entries are queued in the transaction whose advanceSchedule matches the version it read: of several
// executors that see the same tick due, exactly one UPDATE matches, and only its transaction queues them.
import * as SQL from '../../db/sql.js';

export const scheduleState = (name: string) => SQL.sql`
    SELECT last_tick, version FROM ws_schedule WHERE name = ${name}`;

export const startSchedule = (name: string, now: Date) => SQL.sql`
    INSERT INTO ws_schedule (name, last_tick, version, updated_at) VALUES (${name}, ${now}, 0, ${now})
    ON CONFLICT (name) DO NOTHING`;

export const advanceSchedule = (name: string, version: number, tick: Date, now: Date) => SQL.sql`
      UPDATE ws_schedule SET last_tick = ${tick}, version = version + 1, updated_at = ${now}
      WHERE name = ${name} AND version = ${version}`;

export const forgetSchedule = (name: string) => SQL.sql`DELETE FROM ws_schedule WHERE name = ${name}`;

export const scheduleStates = () => SQL.sql`SELECT name, last_tick, version FROM ws_schedule`;
