import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_MODULES, commandNamed, registerCommands } from './command-modules.js';

const names = (program: Command) => program.commands.map((command) => command.name());

describe('the command table', () => {
  it('names every command the modules register, in the order help lists them', async () => {
    const program = new Command();
    await registerCommands(program, []);
    expect(names(program)).toEqual(Object.keys(COMMAND_MODULES));
  });

  it('registers only the module of the command being run', async () => {
    const program = new Command();
    await registerCommands(program, ['serve', '--port', '0']);
    expect(names(program)).toEqual(['serve']);
  });

  it('registers all of a module’s commands when one of them runs', async () => {
    const program = new Command();
    await registerCommands(program, ['whoami']);
    expect(names(program)).toEqual(['login', 'whoami', 'services']);
  });
});

describe('commandNamed', () => {
  it('finds the command after the global options, with or without "="', () => {
    expect(commandNamed(['serve', '--port', '0'])).toBe('serve');
    expect(commandNamed(['--url', 'http://host:3030', '--token', 'lk_x', 'runs', 'ls'])).toBe('runs');
    expect(commandNamed(['--url=http://host:3030', 'find', 'runs'])).toBe('find');
  });

  it('names none for help, the version, a typo or an empty line, so that all are registered', () => {
    expect(commandNamed([])).toBeUndefined();
    expect(commandNamed(['--help'])).toBeUndefined();
    expect(commandNamed(['-V'])).toBeUndefined();
    expect(commandNamed(['help', 'serve'])).toBeUndefined();
    expect(commandNamed(['sevre'])).toBeUndefined();
    expect(commandNamed(['--url', 'serve'])).toBeUndefined();
    expect(commandNamed(['toString'])).toBeUndefined();
  });
});
