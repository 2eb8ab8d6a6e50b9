// A small argv parser: `--name value`, `--name=value`, `-o value`, boolean flags, positionals.
// Everything it rejects is a UsageError (exit code 2).

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface OptionSpec {
  /** Long name without dashes. */
  name: string;
  short?: string;
  /** 'flag' takes no value. */
  type: 'flag' | 'string' | 'number';
  /** For help output. */
  arg?: string;
  help: string;
  choices?: readonly string[];
}

export interface Parsed {
  positionals: string[];
  options: Record<string, string | number | boolean | undefined>;
}

export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[]): Parsed {
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const positionals: string[] = [];
  const options: Parsed['options'] = {};
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (onlyPositionals || a === '-' || !a.startsWith('-') || /^-\d|^-\.\d/.test(a)) {
      positionals.push(a);
      continue;
    }
    if (a === '--') {
      onlyPositionals = true;
      continue;
    }
    let spec: OptionSpec | undefined;
    let inline: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      if (eq >= 0) inline = a.slice(eq + 1);
      spec = byLong.get(name);
    } else if (a.length === 2) {
      spec = byShort.get(a.slice(1));
    }
    if (!spec) throw new UsageError(`unknown option ${a.split('=')[0]}`);
    if (options[spec.name] !== undefined) throw new UsageError(`option --${spec.name} given twice`);
    if (spec.type === 'flag') {
      if (inline !== undefined) throw new UsageError(`option --${spec.name} takes no value`);
      options[spec.name] = true;
      continue;
    }
    const v = inline ?? argv[++i];
    if (v === undefined) throw new UsageError(`option --${spec.name} needs a value (${spec.arg ?? spec.type})`);
    if (spec.choices && !spec.choices.includes(v))
      throw new UsageError(`expected one of ${spec.choices.join(', ')} for --${spec.name} but received ${JSON.stringify(v)}`);
    if (spec.type === 'number') {
      const n = v.trim() === '' ? NaN : Number(v);
      if (Number.isNaN(n)) throw new UsageError(`expected a number for --${spec.name} but received ${JSON.stringify(v)}`);
      options[spec.name] = n;
    } else {
      options[spec.name] = v;
    }
  }
  return { positionals, options };
}

export function formatOptions(specs: readonly OptionSpec[]): string {
  const rows = specs.map((s) => {
    const left = `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.type === 'flag' ? '' : ' ' + (s.arg ?? 'X')}`;
    return [left, s.help] as const;
  });
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([l, h]) => `  ${l.padEnd(w)}  ${h}`).join('\n');
}
