/**
 * @fifo-ledger/plv8 — the esbuild → PLV8 build, the installer of the generated
 * procedures, and the Node PLV8 host that runs the same bundle over a plain PostgreSQL.
 */
export { Plv8Host, Plv8Error, type Plv8HostOptions, type HostMessage, type LevelName } from './host/host.ts';
export type { Plv8Api, PreparedPlan, Cursor, Row, ExecError } from './host/api.ts';
export { LEVELS, PLV8_VERSION } from './host/api.ts';
export { packSqlstate, unpackSqlstate, quoteIdent, quoteLiteral, quoteNullable } from './host/convert.ts';
export { installProcedures, type InstallOptions, type InstallResult, type Queryable } from './install.ts';
export {
  buildProcedures, functionDdl, procedureBody, findForbiddenGlobals, signatureOf, BuildError,
  CACHE_GLOBAL, COMMENT_PREFIX, type BuildOptions, type BuildResult,
} from './generate.ts';
export { buildOutputs, drift, writeOutputs } from './build.ts';
export {
  loadGeneratedProcedures, generatedProceduresPath, returnShape, isSetReturning,
  type GeneratedProcedure, type Volatility,
} from './procedures.ts';
