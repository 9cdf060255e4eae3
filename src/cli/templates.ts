// The files `wsgate make:operation` and `wsgate make:event` write: they work as they are and say, in their
// comments, what to change.

export function operationTemplate(name: string, options: { queued: boolean }): string {
  const deferral = options.queued
    ? `  // Every call is deferred (DreamFactory's "queue for later execution"): the caller gets an
  // operationTrackingID at once and reads the result with getQueuedOperationResult.
  queued: true,`
    : `  // Callers may defer it with cbwsOptions={"launchfromqueue":1}; queued: true would defer every call.
  queueable: true,`;
  return `// ${name}: an own operation of this wsgate (written by \`wsgate make:operation\`; edit it freely).
// Callers name it in operation=${name} at /webservice.php, like a built-in operation:
//   curl -s $B -d operation=${name} -d sessionName=$S -d name=Ann
// \`wsgate operations\` lists it; after a change, restart \`wsgate serve\` or send it SIGHUP (kill -HUP PID).
import { defineOperation, OperationError } from 'wsgate';

export default defineOperation({
  name: '${name}',
  summary: '${name}: answers with what it was given (replace with what it does).',
  // Its parameters as a JSON Schema, checked before handle runs: a value it refuses is answered
  // INVALID_PARAMETER naming the parameter, and a deferred call is then not queued. Numbers and booleans
  // sent as text are converted; objects and lists arrive as JSON text.
  params: {
    type: 'object',
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 100, default: 'world', description: 'An example parameter' },
    },
  },
${deferral}
  // The roles that may call it (admin, user).
  access: ['admin', 'user'],
  // handle runs in a worker thread (synchronous calls in a call worker, deferred ones in the executor's),
  // under their time and memory limits. ctx.user is the caller {id, userName, isAdmin}; ctx.trackingId is
  // the operationTrackingID of a deferred run. What it returns is the call's result.
  async handle(params, ctx) {
    // A protocol error answers {success: false, error: {code, message}} and is final; any other exception
    // is an infrastructure failure (INTERNAL_SERVER_ERROR, its stack in the log; retried when deferred).
    if (params.name === 'nobody') throw new OperationError('INVALID_PARAMETER', '${name}: nobody is no name');
    return { hello: params.name, by: ctx.user.userName, trackingId: ctx.trackingId ?? null };
  },
});
`;
}

export type EventKind = 'pre' | 'post' | 'queued';

const eventBodies: Record<EventKind, (what: string) => string> = {
  pre: (what) => `// Runs before ${what}, with its own short time limit. event: {operation, module, params, user}.
// Return new params to change what the operation gets (nothing: unchanged); throw
// new OperationError(code, message) to refuse the call (a deferred call is then not queued).
import { defineEvent, OperationError } from 'wsgate';

export default defineEvent(async (event, ctx) => {
  ctx.log(\`\${event.operation} \${event.module ?? ''} called by \${event.user.userName}\`);
  // if (!event.params.element) throw new OperationError('INVALID_PARAMETER', 'element is needed here');
  return undefined;
});
`,
  post: (what) => `// Runs after ${what} succeeded, with its own short time limit.
// event: {operation, module, params, user, result}. Return a new result to change what the caller gets
// (nothing: unchanged).
import { defineEvent } from 'wsgate';

export default defineEvent(async (event, ctx) => {
  ctx.log(\`\${event.operation} \${event.module ?? ''} answered to \${event.user.userName}\`);
  return undefined;
});
`,
  queued: (what) => `// Runs later, in the executor, once per committed ${what.replace(/^every /, '')} (never for one that rolled
// back); it cannot change the answer. event: {script, request: {operation, params, user}, response (the
// envelope), environment: {time, settings}}; what it returns is ignored.
import { defineEvent } from 'wsgate';

export default defineEvent(async (event, ctx) => {
  ctx.log(\`\${event.request.operation} by \${event.request.user.userName}: success \${event.response.success}\`);
});
`,
};

export function eventTemplate(operation: string, module: string | undefined, kind: EventKind): string {
  const what = module ? `every ${operation} of a ${module} record` : `every ${operation} call`;
  return `// ${operation}${module ? `.${module}` : ''}.${kind}: an event script of this wsgate (written by \`wsgate make:event\`; edit it freely).
${eventBodies[kind](what)}`;
}
