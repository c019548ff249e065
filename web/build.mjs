// Builds the webmail into OUTDIR (default ../build/web): one JS and one CSS
// bundle with content hashes in their names, and index.html naming them.
// No inline script or style anywhere, so http's strict CSP holds.
//
//   node build.mjs OUTDIR
import { build } from "esbuild";
import { mkdir, readFile, writeFile, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(process.argv[2] || path.join(here, "..", "build", "web"));

await rm(out, { recursive: true, force: true });
await mkdir(path.join(out, "assets"), { recursive: true });
const result = await build({
  entryPoints: [path.join(here, "src", "main.js"), path.join(here, "src", "style.css")],
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2020"],
  outdir: path.join(out, "assets"),
  entryNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  metafile: true,
  legalComments: "linked",
  logLevel: "warning",
});
let js, css;
for (const [file, info] of Object.entries(result.metafile.outputs)) {
  const rel = path.relative(out, path.resolve(file)).split(path.sep).join("/");
  if (info.entryPoint && rel.endsWith(".js")) js = rel;
  if (info.entryPoint && rel.endsWith(".css")) css = rel;
}
if (!js || !css) throw new Error("build: missing bundle in esbuild's output");
const html = (await readFile(path.join(here, "index.html"), "utf8"))
  .replace("%CSS%", "/" + css)
  .replace("%JS%", "/" + js);
await writeFile(path.join(out, "index.html"), html);
await writeFile(path.join(out, "favicon.svg"), await readFile(path.join(here, "favicon.svg")));
console.log(`webmail built into ${out}: ${js}, ${css}`);
