// The benchmark's own operation (WSGATE_OPERATIONS_DIR=bench/operations): does nothing, so that what is
// measured is what running an own operation costs beside a built-in one (bench/own.ts).
import { defineOperation } from 'wsgate';

export default defineOperation({
  name: 'benchNoop',
  summary: 'Does nothing.',
  params: { type: 'object', properties: { n: { type: 'integer' } } },
  handle: ({ n }) => ({ n: n ?? null }),
});
