#!/usr/bin/env node
import { packageVersion, processIo, UsageError, type Io } from './args';

export const MAIN_HELP = `Usage: chatpulse <command> [options]

Commands:
  serve   Serve graded health for a fleet, from Prometheus (every instance of a service)
  probe   Check a health endpoint once: one-line verdict, exit 0 healthy, 1 degraded,
          2 unhealthy, 3 unreachable (for cron, systemd timers, uptime checks)

Options:
  -h, --help     Show this help; chatpulse <command> --help shows the command's
  -v, --version  Print the version

The instrumentation needs no command: node --require chatpulse/register app.js`;

interface Command {
  readonly help: string;
  run(argv: readonly string[], io: Io): Promise<number>;
}

// Loaded on use: a probe from cron should not pay for Express and the health service.
const COMMANDS: Record<string, () => Command> = {
  serve: () => {
    const m = require('./serve') as typeof import('./serve');
    return { help: m.SERVE_HELP, run: (argv, io) => m.runServe(argv, io) };
  },
  probe: () => {
    const m = require('./probe') as typeof import('./probe');
    return { help: m.PROBE_HELP, run: (argv, io) => m.runProbe(argv, io) };
  },
};

/** Runs the CLI; resolves with the exit code (2 for usage and configuration errors). */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const [first, ...rest] = argv;
  let prefix = 'chatpulse';
  try {
    if (first === undefined) {
      io.err(MAIN_HELP);
      return 2;
    }
    if (first === '-h' || first === '--help') {
      io.out(MAIN_HELP);
      return 0;
    }
    if (first === '-v' || first === '--version') {
      io.out(packageVersion());
      return 0;
    }
    if (first === 'help') {
      const cmd = rest[0] === undefined ? undefined : COMMANDS[rest[0]];
      if (rest[0] !== undefined && cmd === undefined) throw new UsageError(`unknown command ${JSON.stringify(rest[0])} (commands: ${Object.keys(COMMANDS).join(', ')})`);
      io.out(cmd?.().help ?? MAIN_HELP);
      return 0;
    }
    if (first.startsWith('-')) throw new UsageError(`unknown option ${first.split('=')[0]}`);
    const cmd = COMMANDS[first];
    if (cmd === undefined) throw new UsageError(`unknown command ${JSON.stringify(first)} (commands: ${Object.keys(COMMANDS).join(', ')})`);
    prefix = `chatpulse ${first}`;
    return await cmd().run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${prefix}: ${err.message} (see ${prefix} --help)`);
      return 2;
    }
    io.err(`${prefix}: ${(err as Error)?.stack ?? String(err)}`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
    // Whatever might still hold the event loop (pooled sockets) must not delay the exit.
    setTimeout(() => process.exit(code), 2000).unref();
  });
}
