// Use with `node --import ./test/storage/support/register-ts.mjs file.ts` (see ts-hooks.mjs for why).
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
