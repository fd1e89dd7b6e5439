import { SecretRegistry } from './secrets';

/**
 * How the engine talks to a person. Every front end (CLI, Azure Pipelines task, runner) implements it.
 * Implementations must pass every message through `secrets.mask` before writing it anywhere.
 */
export interface Reporter {
  readonly secrets: SecretRegistry;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** Shown only in verbose/debug mode; still masked. */
  debug(message: string): void;
  /** Register a secret before it can reach any output. */
  registerSecret(value: string | undefined): void;
}

export interface StreamReporterOptions {
  verbose?: boolean;
  /** Drop info messages (warnings and errors still show; verbose wins). For commands whose stdout tells the story. */
  quiet?: boolean;
  /** Where messages go; defaults to process.stderr so stdout stays clean for machine output. */
  write?: (text: string) => void;
  secrets?: SecretRegistry;
}

/** Plain text reporter for terminals and generic CI logs. */
export class StreamReporter implements Reporter {
  readonly secrets: SecretRegistry;
  private readonly verbose: boolean;
  private readonly quiet: boolean;
  private readonly write: (text: string) => void;

  constructor(options: StreamReporterOptions = {}) {
    this.secrets = options.secrets ?? new SecretRegistry();
    this.verbose = options.verbose ?? false;
    this.quiet = (options.quiet ?? false) && !this.verbose;
    this.write = options.write ?? ((text) => process.stderr.write(text));
  }

  info(message: string): void {
    if (!this.quiet) this.emit(message);
  }
  warn(message: string): void {
    this.emit(`warning: ${message}`);
  }
  error(message: string): void {
    this.emit(`error: ${message}`);
  }
  debug(message: string): void {
    if (this.verbose) this.emit(`debug: ${message}`);
  }
  registerSecret(value: string | undefined): void {
    this.secrets.add(value);
  }

  private emit(message: string): void {
    this.write(`${this.secrets.mask(message)}\n`);
  }
}

/** Collects masked messages in memory; for tests and for front ends that render later. */
export class MemoryReporter implements Reporter {
  readonly secrets = new SecretRegistry();
  readonly lines: Array<{ level: 'info' | 'warn' | 'error' | 'debug'; message: string }> = [];

  info(message: string): void {
    this.push('info', message);
  }
  warn(message: string): void {
    this.push('warn', message);
  }
  error(message: string): void {
    this.push('error', message);
  }
  debug(message: string): void {
    this.push('debug', message);
  }
  registerSecret(value: string | undefined): void {
    this.secrets.add(value);
  }
  text(): string {
    return this.lines.map((line) => `${line.level}: ${line.message}`).join('\n');
  }

  private push(level: 'info' | 'warn' | 'error' | 'debug', message: string): void {
    this.lines.push({ level, message: this.secrets.mask(message) });
  }
}
