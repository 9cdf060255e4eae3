// GET /openapi.yaml: the shipped openapi.yaml, plus the deployment's own operations (WSGATE_OPERATIONS_DIR)
// in force: each gets an entry in x-operations and a path item of its own with its parameters' JSON Schema.
import fs from 'node:fs';
import path from 'node:path';
import type Router from '@koa/router';
import { parseDocument } from 'yaml';
import { packageRoot } from '../config.js';
import type { OperationDefinition } from '../operations/types.js';

/** The operations in force, read at each request (a reload replaces the list). */
export type OperationList = () => OperationDefinition[];

const shippedFile = path.join(packageRoot, 'openapi.yaml');

/** The parameters every own operation takes besides its own (in a form every value is text, converted as the schema says). */
const common = {
  sessionName: { type: 'string', description: 'The session from login (or the corebos-authorization header).' },
  cbwsOptions: { description: 'JSON text in a form, an object in a JSON body: {"launchfromqueue":1,"queuedelay":SECONDS} defers the call.' },
};

function ownEntry(op: OperationDefinition) {
  return {
    name: op.name,
    method: op.method,
    prelogin: false,
    queueable: op.queueable,
    ...(op.queued ? { queued: true } : {}),
    own: true,
    summary: op.summary,
    params: op.params.map((p) => ({ name: p.name, type: p.type, required: p.required })),
    paramsSchema: op.paramsSchema ?? { type: 'object' },
  };
}

function ownPathItem(op: OperationDefinition) {
  const schema = op.paramsSchema ?? {};
  const body = {
    type: 'object',
    required: ['operation', ...((schema.required as string[] | undefined) ?? [])],
    properties: { ...common, operation: { const: op.name }, ...((schema.properties as object | undefined) ?? {}) },
  };
  const deferred = op.queued ? ' Every call is deferred: the answer is an operationTrackingID.' : op.queueable ? ' It may be deferred with cbwsOptions.' : '';
  return {
    post: {
      operationId: op.name,
      summary: op.summary,
      description: `An own operation of this deployment (WSGATE_OPERATIONS_DIR), called at /webservice.php with operation=${op.name}.${deferred}`,
      tags: ['own operations'],
      requestBody: {
        required: true,
        content: { 'application/x-www-form-urlencoded': { schema: body }, 'application/json': { schema: body } },
      },
      responses: { '200': { $ref: '#/components/responses/Envelope' } },
    },
  };
}

/** The served document for these operations: the shipped text itself when there are no own ones. */
export function servedOpenapi(shipped: string, operations: OperationDefinition[]): string {
  const own = operations.filter((o) => o.own);
  if (own.length === 0) return shipped;
  const doc = parseDocument(shipped);
  for (const op of own) {
    doc.addIn(['x-operations'], doc.createNode(ownEntry(op), { aliasDuplicateObjects: false }));
    // OpenAPI keys paths by URL alone; the operation's query parameter tells its entry apart.
    doc.setIn(['paths', `/webservice.php?operation=${op.name}`], doc.createNode(ownPathItem(op), { aliasDuplicateObjects: false }));
  }
  return doc.toString({ lineWidth: 0 });
}

/** Adds GET /openapi.yaml to the router; the text is built once per set of operations. */
export function addOpenapiRoute(router: Router, operations: OperationList): void {
  const shipped = fs.readFileSync(shippedFile, 'utf8');
  const built = new WeakMap<OperationDefinition[], string>();
  router.get('/openapi.yaml', (ctx) => {
    const list = operations();
    let text = built.get(list);
    if (text === undefined) built.set(list, (text = servedOpenapi(shipped, list)));
    ctx.type = 'application/yaml';
    ctx.body = text;
  });
}
