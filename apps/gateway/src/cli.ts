import { MIGRATE_USAGE, runMigrate } from './capabilities/migrate-command.ts';
import { runValidate, USAGE } from './capabilities/validate-command.ts';

/** The `gateway` command (bin/gateway.js runs the bundle of this file). */
const [command, ...args] = process.argv.slice(2);
const io = {
  stdout: (text: string) => void process.stdout.write(text),
  stderr: (text: string) => void process.stderr.write(text),
  environment: process.env,
  cwd: process.cwd(),
};
const help = `gateway <command>

Commands:
  validate <capability.yaml>...   check Ikanos / Naftiko capability files (see: gateway validate --help)
  migrate <alpha2.yaml> [-o out]  rewrite a Naftiko 1.0.0-alpha2 file as Ikanos 1.0.0-beta3 (see: gateway migrate --help)

To run the gateway: npm start [-- --capability <file.yaml>]...
`;

if (command === 'validate' && (args.includes('--help') || args.includes('-h'))) {
  io.stdout(USAGE);
} else if (command === 'validate') {
  process.exitCode = runValidate(args, io);
} else if (command === 'migrate' && (args.includes('--help') || args.includes('-h'))) {
  io.stdout(MIGRATE_USAGE);
} else if (command === 'migrate') {
  process.exitCode = runMigrate(args, io);
} else if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
  io.stdout(help);
} else {
  io.stderr(`gateway: unknown command "${command}"\n\n${help}`);
  process.exitCode = 2;
}
