#!/usr/bin/env node
/**
 * The `haul` command. Durable (Temporal) commands come from ./temporal.ts; other command
 * groups register on the same program.
 */
import { Command } from 'commander';
import { registerTemporalCommands } from './temporal.js';

export function haulProgram(): Command {
  const program = new Command('haul').description('data loading pipelines for TypeScript, durable on Temporal');
  registerTemporalCommands(program);
  return program;
}

try {
  await haulProgram().parseAsync(process.argv);
} catch (e) {
  console.error(`haul: ${(e as Error)?.message ?? String(e)}`);
  process.exit(1);
}
