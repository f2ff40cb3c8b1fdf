// Bundles editor.js into ONE minified file, static/vendor/codemirror/editor.min.js (committed: `make run`
// never needs node), and writes the MIT notices of every package inside it to LICENSE next to it.
// Run through `make editor` (npm ci, then this). The output is deterministic: the same lock file
// gives the same bytes.
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(here, "../../static/vendor/codemirror");

// style-mod (CodeMirror's style injection) uses a constructed style sheet for shadow roots but a
// <style> element for documents; our Content-Security-Policy (style-src 'self', no nonce) blocks the
// element. A constructed sheet is not inline markup and the policy lets it through, so the bundle
// takes that path for documents too. Fails the build if style-mod's source ever changes shape.
const STYLE_MOD_GUARD = "if (!root.head && root.adoptedStyleSheets && win.CSSStyleSheet) {";
const adoptedStyleSheetsForDocuments = {
  name: "style-mod-adopted-sheets",
  setup(build) {
    build.onLoad({ filter: /style-mod[\\/]src[\\/]style-mod\.js$/ }, (args) => {
      const source = readFileSync(args.path, "utf8");
      if (!source.includes(STYLE_MOD_GUARD)) throw new Error(`style-mod changed: "${STYLE_MOD_GUARD}" not found`);
      return { contents: source.replace(STYLE_MOD_GUARD, "if (root.adoptedStyleSheets && win.CSSStyleSheet) {") };
    });
  },
};

function packageRoot(file) {
  let dir = dirname(resolve(here, file));
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  return dir;
}

const result = await esbuild.build({
  entryPoints: [join(here, "editor.js")],
  bundle: true,
  minify: true,
  format: "iife",
  globalName: "AcademyEditor",
  target: ["es2020"],
  legalComments: "none",
  metafile: true,
  write: false,
  plugins: [adoptedStyleSheetsForDocuments],
});

// The packages that put code into the bundle (an import that tree-shaking dropped entirely is not in it).
const bundled = Object.entries(Object.values(result.metafile.outputs)[0].inputs)
  .filter(([file, input]) => file.includes("node_modules") && input.bytesInOutput > 0)
  .map(([file]) => packageRoot(file));
const packages = [...new Set(bundled)]
  .map((dir) => ({ dir, meta: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) }))
  .sort((a, b) => a.meta.name.localeCompare(b.meta.name));
const names = packages.map(({ meta }) => `${meta.name}@${meta.version}`);
const banner =
  `/*! AcademyEditor: CodeMirror 6 for AI Academy, built by assets/editor (make editor). MIT licensed: ` +
  `${names.join(", ")}. Notices: LICENSE in this folder. */\n`;

const notices = packages.map(({ dir, meta }) => {
  const license = ["LICENSE", "LICENSE.md", "LICENSE.txt"].map((f) => join(dir, f)).find(existsSync);
  if (!license) throw new Error(`${meta.name} has no LICENSE file`);
  if (meta.license !== "MIT") throw new Error(`${meta.name} is ${meta.license}, not MIT: check before vendoring`);
  return `${meta.name}@${meta.version} (${meta.license})\n${"-".repeat(40)}\n${readFileSync(license, "utf8").trim()}\n`;
});

mkdirSync(out, { recursive: true });
writeFileSync(join(out, "editor.min.js"), banner + result.outputFiles[0].text);
writeFileSync(
  join(out, "LICENSE"),
  `static/vendor/codemirror/editor.min.js bundles these packages (assets/editor/package-lock.json):\n\n${notices.join("\n")}`,
);
const bytes = Buffer.byteLength(banner + result.outputFiles[0].text);
console.log(`static/vendor/codemirror/editor.min.js: ${(bytes / 1024).toFixed(1)} KiB, ${names.length} packages`);
