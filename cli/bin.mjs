#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so that `heritage` works straight from a checkout.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
