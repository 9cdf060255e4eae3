// The one logger shape of wsgate's processes and threads.
import { pino, type Logger } from 'pino';

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { pid: process.pid },
    // Defence in depth: wsgate never logs parameters, but should anything carry these, they are hidden.
    redact: { paths: ['accessKey', '*.accessKey', 'sessionName', '*.sessionName', 'params', '*.params'], censor: '[hidden]' },
  });
}
