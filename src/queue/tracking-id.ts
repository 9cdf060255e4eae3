// An operationTrackingID: 21 characters of nanoid's URL-safe alphabet, as before, of which the first 8 tell
// when it was made and the other 13 are random (78 bits, nanoid's, from the system's CSPRNG: unguessable, and an ID
// alone reads nothing: a result belongs to the user who queued it). IDs made later sort after earlier ones,
// byte by byte: the entries' and results' primary keys (and SQLite's) grow at their right edge instead of
// taking each insert on a random page of the tree, as nanoid's random IDs did (BENCHMARKS.md, nineteenth
// stop: PostgreSQL's CPU in a drain of 100,000 entries -16%). Within one millisecond the order is random.
import { customAlphabet } from 'nanoid';

/** nanoid's alphabet in byte order (ASCII: "-" < digits < capitals < "_" < small letters). */
const ALPHABET = '-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz';
const TIME_CHARS = 8;
const RANDOM_CHARS = 13;
/**
 * Added to the time so that the first character is "0" (until the year 2109, then "1"...), never "-": an ID
 * that starts with "-" reads as an option on a command line.
 */
const FIRST = 64 ** (TIME_CHARS - 1);

const randomPart = customAlphabet(ALPHABET, RANDOM_CHARS);

/** A new tracking ID made at `now` (epoch ms). */
export function trackingId(now = Date.now()): string {
  let time = '';
  let t = Math.floor(now) + FIRST;
  for (let i = 0; i < TIME_CHARS; i++) {
    time = ALPHABET[t % 64]! + time;
    t = Math.floor(t / 64);
  }
  return time + randomPart();
}
