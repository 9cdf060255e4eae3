// What the wsgate package exports to a deployment's own operations (WSGATE_OPERATIONS_DIR).
export { defineOperation, OperationError } from './operations/own/define.js';
export type { OwnOperationDefinition, OperationContextForScripts, OperationUser, ParamsSchema } from './operations/own/define.js';
