/** Login roles that hold one of the fifo roles, the way users grant them. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { baseUrl } from './db.ts';

export interface LoginRole {
  name: string;
  /** `schemaUrl` as this login (same database, options and search_path). */
  url: string;
  connect(): Promise<pg.Client>;
  drop(): Promise<void>;
}

async function asAdmin<T>(f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: baseUrl() });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

/** A LOGIN role granted `member` (or nothing: PUBLIC only), dropped with drop(). */
export async function createLoginRole(schemaUrl: string, member: string | null): Promise<LoginRole> {
  const name = `fifo_login_${randomBytes(4).toString('hex')}`;
  await asAdmin((c) => c.query(`CREATE ROLE ${name} LOGIN${member ? ` IN ROLE ${member}` : ''}`));
  const u = new URL(schemaUrl);
  u.username = name;
  const url = u.toString();
  const clients: pg.Client[] = [];
  return {
    name,
    url,
    async connect() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      clients.push(c);
      return c;
    },
    async drop() {
      await Promise.all(clients.map((c) => c.end().catch(() => {})));
      await asAdmin(async (c) => {
        await c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, [name]);
        await c.query(`DROP OWNED BY ${name}`);
        await c.query(`DROP ROLE IF EXISTS ${name}`);
      });
    },
  };
}

/**
 * The attributes and memberships of the fifo roles, the session's own role and `names`, to
 * compare before and after an attack (other suites create and drop roles meanwhile).
 */
export async function roleAttributes(c: pg.Client, names: readonly string[]): Promise<unknown[]> {
  const { rows } = await c.query(
    `SELECT r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin, r.rolreplication,
            r.rolbypassrls, r.rolconnlimit, r.rolvaliduntil,
            (SELECT array_agg(g.rolname::text ORDER BY g.rolname) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
              WHERE m.member = r.oid) AS member_of
       FROM pg_roles r
      WHERE r.rolname IN ('fifo_writer', 'fifo_reader', 'fifo_engine', current_user) OR r.rolname = ANY ($1::text[])
      ORDER BY r.rolname`, [names]);
  return rows;
}
