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
  validate <capability.yaml>...   check Naftiko capability files (see: gateway validate --help)

To run the gateway: npm start [-- --capability <file.yaml>]...
`;

if (command === 'validate' && (args.includes('--help') || args.includes('-h'))) {
  io.stdout(USAGE);
} else if (command === 'validate') {
  process.exitCode = runValidate(args, io);
} else if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
  io.stdout(help);
} else {
  io.stderr(`gateway: unknown command "${command}"\n\n${help}`);
  process.exitCode = 2;
}
