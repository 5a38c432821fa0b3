// Which commands take a ClickHouse store (`--db clickhouse://HOST:PORT/DATABASE`). The others refuse it up front with
// a clear error, before they could mistake the address for an SQLite file name (openDb refuses it as well).
import { isClickHouseUrl, redactClickHouseUrl } from '../store/clickhouse/url.ts';

/** Commands (and `db` subcommands) that work with a ClickHouse store. */
export const CLICKHOUSE_COMMANDS: readonly string[] = [
  'collect',
  'import',
  'book',
  'db check',
  'db quality',
  'db prune',
  'export',
  'backtest',
  'train',
  'predictions',
  'diagnose',
  'runs',
  'models',
  'web',
  'trade',
  'sim',
  'exchange-sim',
];

/** The --db value of a command line (`--db X`, `--db=X`, `--set db=X`), the last one winning as in Args. */
export function dbArgument(argv: readonly string[]): string | undefined {
  let db: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') break;
    if (a === '--db' && i + 1 < argv.length) db = argv[++i];
    else if (a.startsWith('--db=')) db = a.slice(5);
    else if (a === '--set' && argv[i + 1]?.startsWith('db=')) db = argv[++i].slice(3);
    else if (a.startsWith('--set=db=')) db = a.slice(9);
  }
  return db;
}

const BOOLEAN_FLAGS = new Set(['json', 'help', 'quiet', 'force', 'no-record', 'whole-days']);

/** The first argument that is neither a flag nor a flag's value (a subcommand such as `db check`). */
function firstPositional(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) return a;
    if (!a.includes('=') && !BOOLEAN_FLAGS.has(a.slice(2))) i++;
  }
  return undefined;
}

/** The error for a command that does not support a ClickHouse --db, or null when it does or --db is not one. */
export function clickHouseRefusal(command: string, argv: readonly string[]): string | null {
  const db = dbArgument(argv);
  if (db === undefined || !isClickHouseUrl(db)) return null;
  const sub = firstPositional(argv);
  const name = command === 'db' && sub ? `db ${sub}` : command;
  if (CLICKHOUSE_COMMANDS.includes(name)) return null;
  return (
    `--db ${redactClickHouseUrl(db)}: a ClickHouse store is not supported yet for this command (${name}); ` +
    `it is for ${CLICKHOUSE_COMMANDS.join(', ')}. Use an SQLite file`
  );
}
