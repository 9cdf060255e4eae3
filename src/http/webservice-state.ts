// What the endpoint's middleware hand each other in ctx.state: the call's parameters (parameters.ts), and
// the operation and envelope of its answer (webservice.ts, error-envelope.ts), which the request log reads.
import type Koa from 'koa';
import type { Envelope } from '../envelope.js';

export interface CallState {
  params?: Record<string, unknown>;
  operation?: string;
  envelope?: Envelope;
}

export const callState = (ctx: Koa.Context): CallState => ctx.state as CallState;
