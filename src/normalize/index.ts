export { normalizeFiles } from './normalize-files.js';
export type { NormalizeInput, NormalizeOptions, NormalizeResult } from './types.js';
export { normalizeIdentifier, normalizeTableName, normalizeColumnName, shortenPath, makePath } from '../schema/naming.js';
export { childRowId, RandomIdPool, ROW_ID_LENGTH } from './ids.js';
export { coerceTo, inferType, parseTimestamp, NO_FIT } from './values.js';
