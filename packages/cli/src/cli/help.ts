/** `fifo --help`, `fifo CMD [ACTION] --help` and usage lines, all rendered from the spec. */
import type { Flag, FlagSet } from './flags.ts';
import { COMMANDS, GLOBAL_NOTES, type CommandSpec, type Leaf } from './spec.ts';

const WIDTH = 100;

function spec(name: string): CommandSpec {
  return (COMMANDS as Record<string, CommandSpec>)[name]!;
}

function flagText(name: string, f: Flag<unknown>): string {
  return `--${name}${f.value ? ` ${f.value}` : ''}${f.multiple && !f.value.endsWith('...') ? ' ...' : ''}`;
}

function flagToken(name: string, f: Flag<unknown>): string {
  const t = flagText(name, f);
  return f.required !== undefined ? t : `[${t}]`;
}

/** `fifo review resolve ID [--note TEXT] ...`, wrapped with a hanging indent. */
function synopsis(words: string[], flags: FlagSet, indent: string): string {
  const tokens = [...words, ...Object.entries(flags).map(([k, f]) => flagToken(k, f))];
  const lines: string[] = [];
  let line = '';
  for (const t of tokens) {
    if (line && line.length + 1 + t.length > WIDTH - indent.length) {
      lines.push(line);
      line = `   ${t}`;
    } else {
      line = line ? `${line} ${t}` : t;
    }
  }
  lines.push(line);
  return lines.join(`\n${indent}`);
}

function leafWords(name: string, action: string | undefined, leaf: Leaf): string[] {
  return ['fifo', name, ...(action ? [action] : []), ...Object.values(leaf.args ?? {}).map((a) => a.name)];
}

/** The usage line(s) of a command, or of one of its actions. */
export function usageOf(name: string, action?: string): string {
  const c = spec(name);
  const common = c.flags ?? {};
  const head = 'usage: ';
  const pad = ' '.repeat(head.length);
  if (!c.actions) return head + synopsis(leafWords(name, undefined, c), common, pad);
  const plain = Object.values(c.actions).every((a) => !a.flags && !a.args) && Object.keys(common).length === 0;
  if (plain) return `${head}fifo ${name} ${Object.keys(c.actions).join(' | ')}`;
  const names = action ? [action] : Object.keys(c.actions);
  return head + names.map((a) => {
    const leaf = c.actions![a]!;
    return synopsis(leafWords(name, a, leaf), { ...leaf.flags, ...common }, pad);
  }).join(`\n${pad}`);
}

function columns(rows: Array<[string, string]>, indent: string): string[] {
  const w = Math.min(28, Math.max(...rows.map(([l]) => l.length)));
  return rows.map(([l, r]) => (l.length > w ? `${indent}${l}\n${indent}${' '.repeat(w + 2)}${r}` : `${indent}${l.padEnd(w)}  ${r}`));
}

function flagRows(flags: FlagSet): Array<[string, string]> {
  return Object.entries(flags).map(([k, f]) => {
    const left = flagText(k, f);
    const extra = [f.required !== undefined ? 'required' : '', f.multiple ? 'repeatable' : '', f.defaultText !== undefined ? `default: ${f.defaultText}` : '']
      .filter(Boolean).join('; ');
    return [left, extra ? `${f.help} (${extra})` : f.help];
  });
}

const HELP_ROW: [string, string] = ['-h, --help', 'show this help'];

/** The help of `fifo CMD` or `fifo CMD ACTION`. */
export function commandHelp(name: string, action?: string): string {
  const c = spec(name);
  const out = [usageOf(name, action), ''];
  const common = c.flags ?? {};
  if (action && c.actions?.[action]) {
    const leaf = c.actions[action];
    out.push(`${leaf.summary}`, '', 'options:', ...columns([...flagRows({ ...leaf.flags, ...common }), HELP_ROW], '  '));
    for (const n of leaf.notes ?? []) out.push('', n);
    for (const n of c.notes ?? []) out.push('', n);
    return out.join('\n');
  }
  out.push(c.summary);
  if (c.actions) {
    out.push('', `${c.actionNoun ?? 'action'}s:`);
    const rows: Array<[string, string]> = Object.entries(c.actions).map(([a, leaf]) =>
      [[a, ...Object.values(leaf.args ?? {}).map((x) => x.name)].join(' '), leaf.summary]);
    out.push(...columns(rows, '  '));
    for (const [a, leaf] of Object.entries(c.actions)) {
      if (!leaf.flags || Object.keys(leaf.flags).length === 0) continue;
      out.push('', `options of ${name} ${a}:`, ...columns(flagRows(leaf.flags), '  '));
      for (const n of leaf.notes ?? []) out.push(`  ${n}`);
    }
    out.push('', Object.keys(common).length ? `options of every ${c.actionNoun ?? 'action'}:` : 'options:', ...columns([...flagRows(common), HELP_ROW], '  '));
    out.push('', `fifo ${name} ${c.actionNoun === 'subcommand' ? 'SUBCOMMAND' : (c.actionNoun ?? 'action').toUpperCase()} --help shows one of them`);
  } else {
    out.push('', 'options:', ...columns([...flagRows(common), HELP_ROW], '  '));
  }
  for (const n of c.notes ?? []) out.push('', n);
  return out.join('\n');
}

/** `fifo --help`. */
export function mainHelp(): string {
  const rows: Array<[string, string]> = Object.entries(COMMANDS as Record<string, CommandSpec>).map(([name, c]) =>
    [c.actions ? `${name} ${Object.keys(c.actions).join('|')}` : name, c.summary]);
  return [
    'usage: fifo <command> [options]',
    '',
    'commands:',
    ...columns(rows, '  '),
    '',
    'fifo <command> --help lists its options; fifo --version prints the version.',
    '',
    ...GLOBAL_NOTES,
  ].join('\n');
}
