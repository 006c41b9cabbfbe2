import { parseArgs } from 'node:util';
import { databaseUrl } from '../db/cluster.ts';
import { connect } from '../db/connect.ts';
import { openProcedureSession } from '../compute/sessions.ts';
import { runCompute } from '../compute/run-compute.ts';
import { CliError, EXIT_OK } from '../errors.ts';
import { record, table } from '../format.ts';
import { parseAsset, parseDecimal, ValueError } from '../ledger-io/values.ts';
import { closeItem, getItem, listItems, sellContext, STATUSES, summary, type StatusFilter } from '../review/queue.ts';
import { allocationVersion, parseTime, positiveInt } from './args.ts';
import { canonicalSymbol } from './symbols.ts';

export const reviewUsage = `usage: fifo review list [--status pending|resolved|ignored|all] [--type T] [--symbol S ...] [--version N] [--limit N] [--json]
       fifo review show ID [--json]
       fifo review resolve ID --note TEXT [--opening-balance --price P [--time T]]
       fifo review ignore ID --note TEXT`;

function reviewId(raw: string | undefined): string {
  if (raw === undefined) throw new CliError(`missing review ID\n${reviewUsage}`);
  return String(positiveInt('review ID', raw));
}

function note(raw: string | undefined): string {
  if (raw === undefined || raw.trim() === '') throw new CliError('--note TEXT is required: say why (it is kept with the item, with who closed it)');
  if (raw.length > 2000) throw new CliError('--note is longer than 2000 characters');
  return raw.trim();
}

/** Filters accept the ledger's symbols and the `ASSET-*` symbols of balance-drift items. */
function filterSymbols(raw: readonly string[] | undefined): string[] | null {
  if (!raw || raw.length === 0) return null;
  const out = raw.flatMap((r) => r.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  return out.map((s) => {
    if (!s.endsWith('-*')) return canonicalSymbol(s);
    try {
      return `${parseAsset(s.slice(0, -2))}-*`;
    } catch {
      throw new CliError(`--symbol ${JSON.stringify(s)}: not a symbol of the form BASE-QUOTE (e.g. SOL-USD) or ASSET-*`);
    }
  });
}

export async function reviewCommand(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      status: { type: 'string' },
      type: { type: 'string' },
      symbol: { type: 'string', multiple: true },
      version: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
      note: { type: 'string' },
      'opening-balance': { type: 'boolean' },
      price: { type: 'string' },
      time: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  const [sub, ...rest] = positionals;
  const extra = (n: number) => {
    if (rest.length > n) throw new CliError(`unexpected argument ${JSON.stringify(rest[n])}\n${reviewUsage}`);
  };
  const only = (allowed: readonly string[]) => {
    for (const k of Object.keys(values)) {
      if (!allowed.includes(k)) throw new CliError(`--${k} does not apply to \`fifo review ${sub}\`\n${reviewUsage}`);
    }
  };

  switch (sub) {
    case 'list': {
      extra(0);
      only(['status', 'type', 'symbol', 'version', 'limit', 'json']);
      const status = (values.status ?? 'pending') as StatusFilter;
      if (!STATUSES.includes(status)) throw new CliError(`--status must be pending, resolved, ignored or all, got ${JSON.stringify(values.status)}`);
      if (values.type !== undefined && !/^[a-z][a-z0-9_]{0,62}$/.test(values.type)) {
        throw new CliError(`--type ${JSON.stringify(values.type)}: an issue type such as unmatched_sell or ledger_drift`);
      }
      const filter = {
        version: allocationVersion(values.version),
        status,
        type: values.type ?? null,
        symbols: filterSymbols(values.symbol),
        limit: values.limit === undefined ? 200 : positiveInt('--limit', values.limit),
      };
      const client = await connect(databaseUrl());
      try {
        const { items, total } = await listItems(client, filter);
        if (values.json) {
          console.log(JSON.stringify({ total, items }));
          return EXIT_OK;
        }
        if (items.length === 0) {
          console.log(`no ${status === 'all' ? '' : `${status} `}review items in version ${filter.version}${filter.type ? ` of type ${filter.type}` : ''}`);
          return EXIT_OK;
        }
        console.log(table(items.map((i) => ({
          id: i.review_id, severity: i.severity, status: i.status, type: i.issue_type, symbol: i.symbol,
          order_id: i.order_id ?? i.item_key, summary: summary(i),
          ...(status === 'pending' ? { created: i.created_at } : { closed_by: i.resolved_by, note: i.resolution_note }),
        }))));
        console.log(`${total} item(s)${total > items.length ? `, first ${items.length} shown (--limit N)` : ''}; details: fifo review show ID`);
        return EXIT_OK;
      } finally {
        await client.end();
      }
    }
    case 'show': {
      const id = reviewId(rest[0]);
      extra(1);
      only(['json']);
      const client = await connect(databaseUrl());
      try {
        const item = await getItem(client, id);
        const ctx = item.issue_type === 'unmatched_sell' ? await sellContext(client, item) : null;
        if (values.json) {
          console.log(JSON.stringify({ item, ...(ctx ?? {}) }));
          return EXIT_OK;
        }
        const { details, ...head } = item;
        console.log(record({ ...head, summary: summary(item) }));
        console.log(`details:\n${JSON.stringify(details, null, 2)}`);
        if (ctx) {
          console.log('\nsell:');
          console.log(ctx.sell ? record(ctx.sell) : '(no longer in the ledger)');
          console.log(`\nallocations in version ${item.allocation_version}${ctx.dirty ? ' (stale: the symbol changed since, run fifo compute)' : ''}:`);
          console.log(table(ctx.allocations));
          if (item.status === 'pending') {
            console.log(`\nto add the missing inventory as an opening balance at the cost you vouch for:\n` +
              `  fifo review resolve ${item.review_id} --note "..." --opening-balance --price P [--time T]\n` +
              `or, when the fills are missing, import them (fifo import) and recompute; or: fifo review ignore ${item.review_id} --note "..."`);
          }
        }
        return EXIT_OK;
      } finally {
        await client.end();
      }
    }
    case 'resolve':
    case 'ignore': {
      const id = reviewId(rest[0]);
      extra(1);
      only(sub === 'resolve' ? ['note', 'opening-balance', 'price', 'time', 'json'] : ['note', 'json']);
      const text = note(values.note);
      if (!values['opening-balance'] && (values.price !== undefined || values.time !== undefined)) {
        throw new CliError(`--${values.price !== undefined ? 'price' : 'time'} goes with --opening-balance`);
      }
      let opening = null;
      if (values['opening-balance']) {
        if (values.price === undefined) throw new CliError('--opening-balance needs --price P: the cost per unit you vouch for (the lot\'s cost basis)');
        let price: string;
        try {
          price = parseDecimal(values.price);
        } catch (e) {
          if (e instanceof ValueError) throw new CliError(`--price ${e.message}`);
          throw e;
        }
        opening = { price, time: values.time === undefined ? null : parseTime('--time', values.time) };
      }
      const url = databaseUrl();
      const client = await connect(url);
      try {
        await client.query('BEGIN');
        let result;
        try {
          result = await closeItem(client, id, sub === 'resolve' ? 'resolved' : 'ignored', text, opening);
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK').catch(() => {});
          throw e;
        }
        const { item, opening: fact } = result;
        let recomputed: { status: string; unmatchedLeft: string | null } | null = null;
        if (fact) {
          // the new fact marked the symbol dirty: recompute it now so the sell is matched
          const session = await openProcedureSession(client, url, 'auto');
          try {
            const r = await runCompute(client, session, { version: item.allocation_version, symbols: [item.symbol], force: false });
            const { rows } = await client.query<{ left: string | null }>(
              `SELECT sum(allocated_size)::text AS left FROM fifo_allocations
                WHERE allocation_version = $1 AND symbol = $2 AND sell_order_id = $3 AND buy_order_id IS NULL`,
              [item.allocation_version, item.symbol, item.item_key]);
            recomputed = { status: r.status, unmatchedLeft: rows[0]?.left ?? null };
          } finally {
            await session.close();
          }
        }
        if (values.json) {
          console.log(JSON.stringify({ item, opening: fact, recomputed }));
        } else {
          console.log(`review ${item.review_id} ${item.status} by ${item.resolved_by}: ${item.resolution_note}`);
          if (fact) {
            console.log(`opening balance: buy ${fact.size} ${item.symbol} @ ${fact.price} at ${fact.order_time.toISOString()} as ${fact.order_id} (source manual-adjustment, audited)`);
            console.log(recomputed?.status === 'success'
              ? `recomputed ${item.symbol} in version ${item.allocation_version}: sell ${item.item_key} ${recomputed.unmatchedLeft ? `still has ${recomputed.unmatchedLeft} unmatched` : 'is fully matched'}`
              : `recomputing ${item.symbol} failed; the fact is recorded and the symbol stays dirty (fifo compute)`);
          }
        }
        return EXIT_OK;
      } finally {
        await client.end();
      }
    }
    default:
      throw new CliError(`${sub === undefined ? 'missing subcommand' : `unknown subcommand ${JSON.stringify(sub)}`}: list, show, resolve or ignore\n${reviewUsage}`);
  }
}
