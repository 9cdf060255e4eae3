// The one logger shape of wsgate's processes and threads.
import { pino, type DestinationStream, type Logger } from 'pino';

/** Writes to stdout, or to `destination` (tests). */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { pid: process.pid },
    // Defence in depth: wsgate never logs parameters, but should anything carry these, they are hidden.
    redact: { paths: ['accessKey', '*.accessKey', 'sessionName', '*.sessionName', 'params', '*.params'], censor: '[hidden]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
