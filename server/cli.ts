// `vigil` command line. Each command lives in server/commands/<name>.ts and is loaded on use,
// so `vigil parse` does not pay for loading the server or the engine.
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/load.ts';

const collect = (v: string, prev: string[]) => [...prev, v];

export function buildProgram(): Command {
  const program = new Command('vigil')
    .description('Real-time video stream analyzer: cameras in, standing questions answered by a vision-language model.')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('serve')
    .description('Start ingest, the HTTP/socket server and the dashboard.')
    .option('-c, --config <file>', 'YAML config file (default config/vigil.yaml)')
    .option('-p, --port <n>', 'HTTP port (0 picks a free one)', (v) => Number.parseInt(v, 10))
    .option('--host <addr>', 'address to bind (default 127.0.0.1)')
    .option('-d, --data <dir>', 'data directory (HLS, recordings, database)')
    .option('--camera <id=source>', 'add a camera (repeatable); replaces the config file cameras', collect, [])
    .action(async (opts) => (await import('./commands/serve.ts')).run(opts));

  program
    .command('doctor')
    .description('Check ffmpeg, the config, the model files and the browser; say what is missing and how to fix it.')
    .option('-c, --config <file>', 'YAML config file (default config/vigil.yaml)')
    .action(async (opts) => (await import('./commands/doctor.ts')).run(opts));

  const config = program.command('config').description('Configuration tools.');
  config
    .command('schema')
    .description('Print (or write) the JSON Schema of the config file, for editors.')
    .option('-o, --out <file>', 'write to this file instead of stdout')
    .action(async (opts) => (await import('./commands/config.ts')).schema(opts));
  config
    .command('docs')
    .description('Print (or write) a Markdown reference of every config field.')
    .option('-o, --out <file>', 'write to this file instead of stdout')
    .action(async (opts) => (await import('./commands/config.ts')).docs(opts));
  config
    .command('check [file]')
    .description('Validate a config file and print the effective configuration.')
    .action(async (file) => (await import('./commands/config.ts')).check(file));

  program
    .command('ask <image> <question>')
    .description('Ask the vision model one question about an image; prints JSON and writes an annotated copy.')
    .option('-k, --kind <kind>', 'detect | point | count | yesno | describe', 'detect')
    .option('-e, --engine <engine>', 'local | openai')
    .option('-c, --config <file>', 'YAML config file')
    .option('--model <file>', 'text model GGUF')
    .option('--mmproj <file>', 'vision projector GGUF')
    .option('--attr <name:type>', 'typed attribute for detect, e.g. helmet:boolean (repeatable)', collect, [])
    .option('--out <file>', 'annotated image path (default: <image>.annotated.jpg)')
    .action(async (image, question, opts) => (await import('./commands/ask.ts')).run(image, question, opts));

  program
    .command('parse')
    .description('Read a raw model answer on stdin; print boxes and points in source pixels.')
    .requiredOption('-f, --format <family>', 'qwen2.5-vl | qwen3-vl | gemini')
    .requiredOption('--sent <WxH>', 'size of the image the model received')
    .requiredOption('--source <WxH>', 'size of the original frame')
    .action(async (opts) => (await import('./commands/parse.ts')).run(opts));

  const rules = program.command('rules').description('Standing rules.');
  rules
    .command('list')
    .description('List the rules of the config file and the store: id, kind, cameras, version, source, enabled.')
    .option('-c, --config <file>', 'YAML config file (default config/vigil.yaml)')
    .option('--json', 'print JSON')
    .action(async (opts) => (await import('./commands/rules.ts')).list(opts));
  rules
    .command('test [id]')
    .description("Run a rule once on a camera's newest frame (through a running Vigil) or on an image (--image, locally); prints the answer and whether it is positive.")
    .option('-c, --config <file>', 'YAML config file (default config/vigil.yaml)')
    .option('--camera <id>', "camera whose newest frame to use (default: the rule's first camera)")
    .option('--rule-file <file>', 'a rule in YAML or JSON, not saved (instead of an id)')
    .option('--url <url>', 'the running Vigil (default: server.host and server.port of the config)')
    .option('--image <file>', 'run locally on this image with the configured engine, without a server')
    .option('--out <file>', 'write the annotated frame here (default with --image: <image>.annotated.jpg)')
    .action(async (id, opts) => (await import('./commands/rules.ts')).test(id, opts));

  const users = program.command('users').description('People who log in to the dashboard (auth on).');
  users
    .command('list')
    .description('List users and their roles.')
    .option('-c, --config <file>', 'YAML config file (default config/vigil.yaml)')
    .option('--json', 'print JSON')
    .action(async (opts) => (await import('./commands/users.ts')).list(opts));
  users
    .command('add <name>')
    .description('Add a user; prints a generated password once (or reads one with --password-stdin).')
    .option('-c, --config <file>', 'YAML config file (default config/vigil.yaml)')
    .option('-r, --role <role>', 'admin | operator | viewer', 'viewer')
    .option('--password-stdin', 'read the password from stdin instead of generating one')
    .action(async (name, opts) => (await import('./commands/users.ts')).add(name, opts));
  users
    .command('passwd <name>')
    .description("Set a user's password (generated and printed once, or --password-stdin); their sessions end.")
    .option('-c, --config <file>', 'YAML config file (default config/vigil.yaml)')
    .option('--password-stdin', 'read the password from stdin instead of generating one')
    .action(async (name, opts) => (await import('./commands/users.ts')).passwd(name, opts));
  users
    .command('remove <name>')
    .description('Remove a user (never the last admin); their sessions end.')
    .option('-c, --config <file>', 'YAML config file (default config/vigil.yaml)')
    .action(async (name, opts) => (await import('./commands/users.ts')).remove(name, opts));

  const models = program.command('models').description('Vision model files.');
  models
    .command('pull')
    .description('Download the default model pair into the cache (resumes, shows progress).')
    .option('-c, --config <file>', 'YAML config file')
    .option('--model <file>', 'text model GGUF (instead of the default pair)')
    .option('--mmproj <file>', 'vision projector GGUF')
    .action(async (opts) => (await import('./commands/models.ts')).pull(opts));
  models
    .command('list')
    .description('List model files in the cache.')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (opts) => (await import('./commands/models.ts')).list(opts));
  models
    .command('path')
    .description('Print the paths the engine will load.')
    .option('-c, --config <file>', 'YAML config file')
    .option('--model <file>', 'text model GGUF (instead of the default pair)')
    .option('--mmproj <file>', 'vision projector GGUF')
    .action(async (opts) => (await import('./commands/models.ts')).path(opts));

  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exitCode = 2;
      return;
    }
    const e = err as Error & { code?: string; hint?: string };
    console.error(`vigil: ${e.code ? `[${e.code}] ` : ''}${e.message}`);
    if (e.hint) console.error(`hint: ${e.hint}`);
    if (process.env.VIGIL_DEBUG) console.error(e.stack);
    process.exitCode = 1;
  }
}
