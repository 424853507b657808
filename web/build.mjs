// Bundles the dashboard into Pulse/wwwroot, which Pulse.csproj embeds into the binary.
// One entry (src/app.js) imports its CSS, uPlot's CSS included, so esbuild writes
// app.js and app.css side by side; the HTML shells in Pulse/wwwroot reference both.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const outdir = fileURLToPath(new URL("../Pulse/wwwroot/", import.meta.url));

await build({
  entryPoints: { app: fileURLToPath(new URL("./src/app.js", import.meta.url)) },
  outdir,
  bundle: true,
  minify: true,
  format: "iife",
  // Evergreen browsers of the last few years; phoenix.js and uPlot need nothing older.
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  legalComments: "eof",
  logLevel: "warning",
});
console.log(`dashboard bundled into ${outdir}`);
