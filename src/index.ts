// What the wsgate package exports to a deployment's own operations (WSGATE_OPERATIONS_DIR).
export { defineOperation, OperationError } from './operations/own/define.js';
export type { OwnOperationDefinition, OperationContextForScripts, OperationUser, ParamsSchema } from './operations/own/define.js';
export { defineEvent } from './operations/own/events-define.js';
export type { EventScript, EventContext, PreEvent, PostEvent, QueuedEvent } from './operations/own/events-define.js';
