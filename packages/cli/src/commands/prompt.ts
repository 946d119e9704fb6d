/** Asking the user for a value on the terminal, hiding it when it is a secret. */
import { createInterface } from 'node:readline';
import { CliError } from '../cli-error.js';

export async function ask(question: string, secret = false): Promise<string> {
  if (!process.stdin.isTTY && secret) {
    // Piped input: read the first line, e.g. `echo "$PASSWORD" | larder login --email me@x`.
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    const line = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
    if (!line) throw new CliError(`No ${question.replace(/:\s*$/, '').toLowerCase()} on standard input`);
    return line;
  }
  const readline = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  if (secret) {
    // Echo nothing while the secret is typed.
    (readline as unknown as { _writeToOutput: (text: string) => void })._writeToOutput = (text: string) => {
      if (text.includes(question)) process.stdout.write(text);
    };
  }
  try {
    return await new Promise<string>((resolve) => readline.question(question, resolve));
  } finally {
    if (secret) process.stdout.write('\n');
    readline.close();
  }
}
