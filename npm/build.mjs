#!/usr/bin/env node
// npm/build.mjs: lays out the npm packages of one release from GoReleaser's dist/.
//
//   node npm/build.mjs --dist dist --out dist/npm
//
// makes dist/npm/vpay88-sandbox (this folder's package, its version and its
// optionalDependencies set to the release's) and one package per binary,
// dist/npm/<os>-<arch> (@vpay88-sandbox/linux-x64, …), each with "os" and "cpu" so
// that npm installs only the one for the machine: the layout of esbuild and Biome.
// The version is GoReleaser's (dist/metadata.json), without the tag's "v".
// `npm pack` or `npm publish` each folder, platforms first.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : def;
};
const dist = path.resolve(opt("dist", "dist"));
const out = path.resolve(opt("out", path.join(dist, "npm")));

// GoReleaser's names → Node's process.platform and process.arch.
const OS = { linux: "linux", darwin: "darwin", windows: "win32" };
const ARCH = { amd64: "x64", arm64: "arm64" };

const meta = JSON.parse(fs.readFileSync(path.join(dist, "metadata.json"), "utf8"));
const version = meta.version;
if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) {
  throw new Error(`dist/metadata.json: version ${JSON.stringify(version)} is not semver`);
}
const artifacts = JSON.parse(fs.readFileSync(path.join(dist, "artifacts.json"), "utf8"));
const binaries = artifacts.filter((a) => a.type === "Binary" && a.name.startsWith("vpay88-sandbox"));

const main = JSON.parse(fs.readFileSync(path.join(here, "vpay88-sandbox", "package.json"), "utf8"));
fs.rmSync(out, { recursive: true, force: true });
const made = [];
for (const b of binaries) {
  const platform = OS[b.goos];
  const cpu = ARCH[b.goarch];
  if (!platform || !cpu) throw new Error(`artifacts.json: no npm name for ${b.goos}/${b.goarch}`);
  const name = `@vpay88-sandbox/${platform}-${cpu}`;
  if (!(name in main.optionalDependencies)) {
    throw new Error(`${name} is built but not an optionalDependency of npm/vpay88-sandbox/package.json`);
  }
  const dir = path.join(out, `${platform}-${cpu}`);
  fs.mkdirSync(path.join(dir, "bin"), { recursive: true });
  const exe = platform === "win32" ? "vpay88-sandbox.exe" : "vpay88-sandbox";
  const src = path.isAbsolute(b.path) ? b.path : path.join(dist, "..", b.path);
  fs.copyFileSync(src, path.join(dir, "bin", exe));
  fs.chmodSync(path.join(dir, "bin", exe), 0o755);
  const pkg = {
    name,
    version,
    description: `The vpay88-sandbox binary for ${platform} ${cpu}: installed by the vpay88-sandbox package on that platform only.`,
    license: main.license,
    homepage: main.homepage,
    repository: main.repository,
    os: [platform],
    cpu: [cpu],
    files: ["bin/"],
    // Yarn PnP: a binary must be on disk to be run.
    preferUnplugged: true,
  };
  fs.writeFileSync(path.join(dir, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, "README.md"), `# ${name}\n\nThe \`vpay88-sandbox\` binary for ${platform} ${cpu}. Install [vpay88-sandbox](https://www.npmjs.com/package/vpay88-sandbox) instead: it depends on this package on that platform only.\n`);
  made.push(name);
}
const missing = Object.keys(main.optionalDependencies).filter((n) => !made.includes(n));
if (missing.length) throw new Error(`dist/ has no binary for ${missing.join(", ")}`);

const mainDir = path.join(out, "vpay88-sandbox");
fs.cpSync(path.join(here, "vpay88-sandbox"), mainDir, { recursive: true });
main.version = version;
for (const n of Object.keys(main.optionalDependencies)) main.optionalDependencies[n] = version;
fs.writeFileSync(path.join(mainDir, "package.json"), `${JSON.stringify(main, null, 2)}\n`);
console.log(`npm packages ${version} in ${out}: vpay88-sandbox, ${made.join(", ")}`);
