#!/usr/bin/env node
// Entry point: runs the TypeScript CLI through tsx, so a checkout works after `npm install`
// with no separate compile step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../server/cli.ts');
await main(process.argv);
