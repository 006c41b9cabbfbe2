import type pg from 'pg';

/** Whether the server knows `name` as a time zone (pg_timezone_names). */
export async function isTimeZoneName(client: pg.Client, name: string): Promise<boolean> {
  const { rows } = await client.query('SELECT 1 FROM pg_timezone_names WHERE name = $1', [name]);
  return rows.length > 0;
}
