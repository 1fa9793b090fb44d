// build.mjs - copies the QR decoder that npm installed (jsqr, pinned in
// package-lock.json) into vendor/, where the page loads it from. Run by
// `npm ci` (postinstall) or `npm run build`. Nothing is fetched at run time.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const src = path.join(here, 'node_modules/jsqr/dist/jsQR.js');
const dst = path.join(here, 'vendor/jsQR.js');
if (!fs.existsSync(src)) {
  console.error(`build: ${src} is missing; run npm ci first`);
  process.exit(1);
}
fs.mkdirSync(path.dirname(dst), { recursive: true });
fs.copyFileSync(src, dst);
console.log(`build: ${path.relative(here, dst)} (${fs.statSync(dst).size} bytes)`);
