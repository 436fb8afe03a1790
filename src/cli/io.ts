/** The streams a command writes to (injected so tests can capture them). */
export interface CommandIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export type Command = (argv: string[], io: CommandIO) => Promise<number>;

export function say(io: CommandIO, line = ''): void {
  io.stdout.write(line + '\n');
}

export function warn(io: CommandIO, line: string): void {
  io.stderr.write(`warning: ${line}\n`);
}
