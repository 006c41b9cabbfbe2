-- Up Migration
-- The PLV8 procedures are not a migration (issue 12). This file once held the generated
-- bundle; it keeps its name because databases have applied it, and it does nothing now.
-- The procedures are built once, by `pnpm build:plv8`, into packages/plv8/generated/
-- procedures.json, the one checked-in copy of the bundle. `fifo migrate up` (after the
-- migrations) and `fifo install-procedures` install them with installProcedures()
-- (packages/plv8/src/install.ts): with PLV8 (it creates the extension when it is available
-- and it may), the functions of the current bundle with their pins and grants; without it,
-- the stand-ins of 009, and the runner uses the Node PLV8 host, which runs the same bundle.
SELECT 1;

-- Down Migration
-- The procedures of any bundle: the functions installProcedures() marks with
-- COMMENT 'fifo-ledger bundle <id>'.
DO $drop_bundle$
DECLARE
  f text;
BEGIN
  FOR f IN SELECT p.oid::regprocedure::text FROM pg_proc p
            WHERE p.pronamespace = current_schema()::regnamespace
              AND obj_description(p.oid, 'pg_proc') LIKE 'fifo-ledger bundle %'
  LOOP
    EXECUTE format('DROP FUNCTION %s', f);
  END LOOP;
END
$drop_bundle$;
