import { databaseUrl } from '../db/cluster.ts';
import { connect } from '../db/connect.ts';
import { openProcedureSession } from '../compute/sessions.ts';
import { runCompute } from '../compute/run-compute.ts';
import { CliError, EXIT_OK } from '../errors.ts';
import { record, table } from '../format.ts';
import { DomainError } from '../domain-error.ts';
import { listItems, sellContext, unmatchedSize } from '../queries/reviews.ts';
import { closeItem, getItem, pendingItem, planOpeningBalance, summary } from '../review/queue.ts';
import { appliedChange, currentMatches, describeChange, previewOpening } from '../review/opening-impact.ts';
import type { MatchChange, SellMatch } from '../queries/reviews.ts';
import { parseCommand } from '../cli/parse.ts';
import type { ParsedCommand } from '../cli/spec.ts';

/** The review library's errors in the words of this command's flags. */
function reviewError(e: unknown): unknown {
  if (!(e instanceof DomainError)) return e;
  switch (e.code) {
    case 'not_unmatched_sell': return new CliError(`${e.subject}: --opening-balance ${e.message}`);
    case 'fully_matched': return new CliError(`${e.subject}: ${e.message} (resolve without --opening-balance)`);
    case 'opening_after_sell': return new CliError(`--time ${e.subject} ${e.message}`);
    default: return new CliError(e.subject ? `${e.subject}: ${e.message}` : e.message);
  }
}

export async function reviewCommand(args: readonly string[]): Promise<number> {
  return run(parseCommand('review', args));
}

export async function run(parsed: ParsedCommand<'review'>): Promise<number> {
  const { action: sub, values, args } = parsed;
  switch (sub) {
    case 'list': {
      const { status } = values;
      const filter = { version: values.version, status, type: values.type ?? null, symbols: values.symbol, limit: values.limit };
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
      const { id } = args;
      const client = await connect(databaseUrl());
      try {
        const item = await getItem(client, id).catch((e: unknown) => { throw reviewError(e); });
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
      const { id } = args;
      const text = values.note;
      const v = sub === 'resolve' ? values : { 'opening-balance': false, price: undefined, time: undefined, yes: false, 'dry-run': false };
      if (!v['opening-balance'] && (v.price !== undefined || v.time !== undefined || v.yes || v['dry-run'])) {
        throw new CliError(`--${v.price !== undefined ? 'price' : v.time !== undefined ? 'time' : v.yes ? 'yes' : 'dry-run'} goes with --opening-balance`);
      }
      let opening = null;
      if (v['opening-balance']) {
        if (v.price === undefined) throw new CliError('--opening-balance needs --price P: the cost per unit you vouch for (the lot\'s cost basis)');
        opening = { price: v.price, time: v.time?.time ?? null };
      }
      const url = databaseUrl();
      const client = await connect(url);
      try {
        // an opening balance can re-match other sells of the symbol: say how many and by how
        // much before writing it (found by doing it in a rolled-back transaction)
        let preview: MatchChange | null = null;
        let before: SellMatch[] = [];
        if (opening) {
          const pending = await pendingItem(client, id).catch((e: unknown) => { throw reviewError(e); });
          const plan = await planOpeningBalance(client, pending, opening).catch((e: unknown) => { throw reviewError(e); });
          preview = await previewOpening(client, url, pending, plan);
          const words = describeChange(preview, pending.symbol, pending.item_key, true);
          if (v['dry-run']) {
            console.log(values.json
              ? JSON.stringify({ item: pending, dryRun: true, opening: { order_id: plan.orderId, size: plan.size, price: plan.price }, preview })
              : `opening balance ${plan.orderId}: buy ${plan.size} ${pending.symbol} @ ${plan.price}: ${words}\ndry run: nothing written, review ${pending.review_id} stays pending`);
            return EXIT_OK;
          }
          if (preview.other_sells > 0 && !v.yes) {
            throw new CliError(`review ${pending.review_id}: the opening balance ${plan.orderId} (buy ${plan.size} ${pending.symbol} @ ${plan.price}) ${words}; ` +
              `pass --yes to write it (--dry-run shows this without writing); nothing written`);
          }
          if (!values.json) console.log(`opening balance ${plan.orderId}: ${words}`);
          before = await currentMatches(client, pending);
        }
        await client.query('BEGIN');
        let result;
        try {
          result = await closeItem(client, id, sub === 'resolve' ? 'resolved' : 'ignored', text, opening);
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK').catch(() => {});
          throw reviewError(e);
        }
        const { item, opening: fact } = result;
        let recomputed: { status: string; unmatchedLeft: string | null; change: MatchChange | null } | null = null;
        if (fact) {
          // the new fact marked the symbol dirty: recompute it now so the sell is matched
          const session = await openProcedureSession(client, url, 'auto');
          try {
            const r = await runCompute(client, session, { version: item.allocation_version, symbols: [item.symbol], force: false });
            const ok = r.status === 'success';
            recomputed = { status: r.status, unmatchedLeft: await unmatchedSize(client, item), change: ok ? await appliedChange(client, item, before) : null };
          } finally {
            await session.close();
          }
        }
        if (values.json) {
          console.log(JSON.stringify({ item, opening: fact, preview, recomputed }));
        } else {
          console.log(`review ${item.review_id} ${item.status} by ${item.resolved_by}: ${item.resolution_note}`);
          if (fact) {
            console.log(`opening balance: buy ${fact.size} ${item.symbol} @ ${fact.price} at ${fact.order_time.toISOString()} as ${fact.order_id} (source manual-adjustment, audited)`);
            console.log(recomputed?.status === 'success'
              ? `recomputed ${item.symbol} in version ${item.allocation_version}: sell ${item.item_key} ${recomputed.unmatchedLeft ? `still has ${recomputed.unmatchedLeft} unmatched` : 'is fully matched'}` +
                (recomputed.change ? `\nchange: ${describeChange(recomputed.change, item.symbol, item.item_key, false)}` : '')
              : `recomputing ${item.symbol} failed; the fact is recorded and the symbol stays dirty (fifo compute)`);
          }
        }
        return EXIT_OK;
      } finally {
        await client.end();
      }
    }
  }
}
