/**
 * The run's readable log: every line masked, written to the caller's sink and teed to `run.log`. Jobs that
 * run side by side each get a channel; the oldest running job streams live and the others are held back
 * until it finishes, so each job's lines stay together as they would in separate agent logs.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Masker } from '../logging/masker';

export interface LogChannel {
  write(line: string): void;
  close(): void;
}

interface Channel extends LogChannel {
  buffer: string[];
  closed: boolean;
}

export class RunLog {
  private readonly fd: number;
  private readonly channels: Channel[] = [];
  private open = true;

  constructor(
    readonly file: string,
    private readonly sink: (line: string) => void,
    private readonly masker: Masker,
  ) {
    this.fd = openSync(file, 'w');
  }

  /** A run-level line (stage headers, summary): written at once. */
  write(line: string): void {
    this.emit(line);
  }

  /** A job's channel: live while it is the oldest open one, buffered otherwise. */
  channel(): LogChannel {
    const channel: Channel = {
      buffer: [],
      closed: false,
      write: (line) => {
        if (this.channels[0] === channel) this.emit(line);
        else channel.buffer.push(line);
      },
      close: () => {
        channel.closed = true;
        this.drain();
      },
    };
    this.channels.push(channel);
    return channel;
  }

  close(): void {
    if (!this.open) return;
    for (const channel of this.channels) channel.closed = true;
    this.drain();
    this.open = false;
    closeSync(this.fd);
  }

  private drain(): void {
    for (;;) {
      const head = this.channels[0];
      if (!head) return;
      for (const line of head.buffer.splice(0)) this.emit(line);
      if (!head.closed) return;
      this.channels.shift();
    }
  }

  // Masking happens at emission, not at write time: a line held back for a parallel job is then also
  // checked against secrets registered after it was written.
  private emit(line: string): void {
    const masked = this.masker.mask(line);
    if (this.open) writeSync(this.fd, `${masked}\n`);
    this.sink(masked);
  }
}
