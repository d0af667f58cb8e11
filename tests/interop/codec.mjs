// Drives the published `@openim/protocol` codec for the cross-codec conformance suite
// (`tests/tests/interop_openim_protocol.rs`).
//
// Reads one JSON request on stdin and writes one JSON report on stdout. This script only
// translates between JSON and the package's codec: it compares nothing and decides nothing; every
// verdict is taken on the Rust side, which knows our schema.
//
// Request: { "cases": [ { "id": string, "type": <js key>, "hex": string, "input": <js form> } ] }
// Report:  { "package": { "name", "version" },
//            "codecs":  [<js key>, …],                       runtime codecs exported as `PbCoder`
//            "enums":   [<js key>, …],                       enums declared in the .d.ts files
//            "schema":  { <js key>: { "<field>": <coarse type>, … } },   every declared interface
//            "results": [ { "id", "type", "status": "ok" | "no-codec",
//                           "decoded" | "decodeError": <js form> | string,     (of "hex")
//                           "hex" | "encodeError": string } ] }                 (of "input")
//
// A <js key> is `<proto package>.<TS interface name>`, e.g. `openim.sdkws.MsgData` or
// `openim.sdkws.MsgData_OptionsEntry` (nested types are joined with `_`, as the package names
// them). The package's `PbCoder` namespace is flat, so its entries are mapped back to their proto
// package through the `MessageFns<Module.Name>` declarations in `pbcoder.d.ts`.
//
// The "js form" of a value is JSON with two tags that plain JSON cannot express:
//   * bytes are `{"$bytes": "<base64>"}` (the codec uses Uint8Array);
//   * on input, every message object carries `"$type": <js key>`, so that fields the JS type has
//     and the input lacks can be filled with the type's defaults (the codec's `encode` reads every
//     field and throws on a missing repeated field).
// An absent message field is `undefined` in the codec: it is omitted (or null) on input and null
// in the report.
//
// Coarse types: "string" | "number" | "boolean" | "bytes" | "enum:<Name>" | "message:<Name>" |
// "repeated:<coarse>" | "map:<coarse>", with a trailing "?" for members of a oneof (optional
// properties in the declarations).
//
// `node codec.mjs --describe` prints the report without cases (for a look at the package).

import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const require = createRequire(import.meta.url);
const PACKAGE = "@openim/protocol";

function fail(message) {
  process.stderr.write(`codec.mjs: ${message}\n`);
  process.exit(2);
}

let entry;
try {
  entry = require.resolve(PACKAGE);
} catch {
  fail(`${PACKAGE} is not installed: run \`npm ci --prefix tests/interop\` (or \`cargo xtask test\`)`);
}
const { PbCoder } = require(PACKAGE);
// `main` is lib/index.js; package.json sits one level above.
const libDir = path.dirname(entry);
const packageJson = JSON.parse(fs.readFileSync(path.join(libDir, "..", "package.json"), "utf8"));

// ---------------------------------------------------------------------------------------------
// Declarations (.d.ts): interfaces, enums, and which proto package each TS module belongs to.

/** Returns the `protobufPackage` a generated declaration file states. */
function protobufPackageOf(source, file) {
  const m = source.match(/export declare const protobufPackage = "([^"]+)";/);
  if (!m) throw new Error(`${file}: no protobufPackage declaration`);
  return m[1];
}

/** Maps a TS type expression to a coarse type; `enums` holds the enum names of the package. */
function coarse(tsType, enums) {
  let t = tsType.trim();
  if (t.endsWith(" | undefined")) t = t.slice(0, -" | undefined".length).trim();
  if (t.endsWith("[]")) return `repeated:${coarse(t.slice(0, -2), enums)}`;
  switch (t) {
    case "string":
    case "number":
    case "boolean":
      return t;
    case "Uint8Array":
      return "bytes";
    default:
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(t)) throw new Error(`unsupported TS type \`${tsType}\``);
      return enums.has(t) ? `enum:${t}` : `message:${t}`;
  }
}

/**
 * Parses the `export interface X { … }` and `export declare enum X { … }` blocks of one
 * generated declaration file. The files are machine-written with a fixed layout: blocks start at
 * column 0, fields are `    name: Type;` (or `name?:` for oneof members), and map fields span
 * `    name: {` / `        [key: string]: Type;` / `    };`.
 */
function parseDeclarations(source, file) {
  const lines = source.split("\n");
  const enums = new Set();
  for (const line of lines) {
    const m = line.match(/^export declare enum ([A-Za-z0-9_]+) \{/);
    if (m) enums.add(m[1]);
  }
  const interfaces = new Map();
  let current = null;
  let mapField = null;
  for (const [i, raw] of lines.entries()) {
    const where = `${file}:${i + 1}`;
    const line = raw.replace(/\/\*\*.*\*\//, "").trimEnd();
    if (current === null) {
      const m = line.match(/^export interface ([A-Za-z0-9_]+) \{$/);
      if (m) {
        current = { name: m[1], fields: {}, service: false };
        if (interfaces.has(m[1])) throw new Error(`${where}: interface ${m[1]} declared twice`);
      }
      continue;
    }
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("/**") || trimmed.startsWith("*")) continue;
    if (mapField !== null) {
      const m = trimmed.match(/^\[key: (string|number)\]: (.+);$/);
      if (m) {
        current.fields[mapField.name] = `map:${coarse(m[2], enums)}${mapField.optional ? "?" : ""}`;
        continue;
      }
      if (trimmed === "};") {
        if (!(mapField.name in current.fields)) throw new Error(`${where}: map without value type`);
        mapField = null;
        continue;
      }
      throw new Error(`${where}: unexpected line in map field: ${trimmed}`);
    }
    if (line === "}") {
      // Service interfaces (RPC method lists) describe no message.
      if (!current.service) interfaces.set(current.name, current.fields);
      current = null;
      continue;
    }
    if (/^[A-Za-z0-9_]+\(request: [A-Za-z0-9_]+\): Promise<[A-Za-z0-9_]+>;$/.test(trimmed)) {
      current.service = true;
      continue;
    }
    const m = trimmed.match(/^([A-Za-z0-9_]+)(\??): (.+?)(;?)$/);
    if (!m) throw new Error(`${where}: unrecognised line in interface ${current.name}: ${trimmed}`);
    const [, name, optional, type, semicolon] = m;
    if (type === "{" && semicolon === "") {
      mapField = { name, optional: optional === "?" };
      continue;
    }
    if (semicolon !== ";") throw new Error(`${where}: field without ';': ${trimmed}`);
    current.fields[name] = `${coarse(type, enums)}${optional}`;
  }
  if (current !== null) throw new Error(`${file}: interface ${current.name} not closed`);
  return { enums, interfaces };
}

const schema = {};
const enumKeys = [];
const moduleToPackage = new Map(); // "./pb/sdkws/sdkws" -> "openim.sdkws"
const pbDir = path.join(libDir, "pb");
for (const dir of fs.readdirSync(pbDir).sort()) {
  const file = path.join(pbDir, dir, `${dir}.d.ts`);
  if (!fs.existsSync(file)) continue;
  const source = fs.readFileSync(file, "utf8");
  const pkg = protobufPackageOf(source, file);
  moduleToPackage.set(`./pb/${dir}/${dir}`, pkg);
  const { enums, interfaces } = parseDeclarations(source, path.relative(libDir, file));
  for (const e of enums) enumKeys.push(`${pkg}.${e}`);
  for (const [name, fields] of interfaces) schema[`${pkg}.${name}`] = fields;
}

// Runtime codecs: PbCoder.X is declared as `MessageFns<Module.Name>`.
const codecs = new Map(); // js key -> codec
{
  const file = path.join(libDir, "pbcoder.d.ts");
  const source = fs.readFileSync(file, "utf8");
  const aliases = new Map();
  for (const m of source.matchAll(/^import \* as ([A-Za-z0-9_]+) from "([^"]+)";$/gm)) {
    const pkg = moduleToPackage.get(m[2]);
    if (pkg !== undefined) aliases.set(m[1], pkg);
  }
  for (const m of source.matchAll(
    /^export declare const ([A-Za-z0-9_]+): MessageFns<([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)>;$/gm,
  )) {
    const [, exported, alias, name] = m;
    const pkg = aliases.get(alias);
    if (pkg === undefined) throw new Error(`pbcoder.d.ts: unknown module alias ${alias}`);
    const codec = PbCoder[exported];
    if (codec === undefined) throw new Error(`pbcoder.d.ts declares ${exported}, the runtime lacks it`);
    codecs.set(`${pkg}.${name}`, codec);
  }
  const declared = new Set(
    [...source.matchAll(/^export declare const ([A-Za-z0-9_]+):/gm)].map((m) => m[1]),
  );
  for (const exported of Object.keys(PbCoder)) {
    if (!declared.has(exported)) throw new Error(`PbCoder.${exported} has no declaration`);
  }
}

// ---------------------------------------------------------------------------------------------
// Value translation.

/** A fresh object holding the defaults of every field the JS type has. */
function defaultsFor(key) {
  const codec = codecs.get(key);
  if (codec !== undefined) return codec.decode(new Uint8Array(0));
  const fields = schema[key];
  if (fields === undefined) throw new Error(`no JS declaration for ${key}`);
  const out = {};
  for (const [name, type] of Object.entries(fields)) {
    if (type.endsWith("?")) continue; // oneof member: absent by default
    if (type.startsWith("repeated:")) out[name] = [];
    else if (type.startsWith("map:")) out[name] = {};
    else if (type.startsWith("message:")) out[name] = undefined;
    else if (type.startsWith("enum:") || type === "number") out[name] = 0;
    else if (type === "string") out[name] = "";
    else if (type === "boolean") out[name] = false;
    else if (type === "bytes") out[name] = new Uint8Array(0);
    else throw new Error(`${key}.${name}: unknown coarse type ${type}`);
  }
  return out;
}

/** Turns the js form of a value into what the codec's `encode` expects. */
function revive(value) {
  if (value === null) return undefined;
  if (Array.isArray(value)) return value.map(revive);
  if (typeof value !== "object") return value;
  if ("$bytes" in value) return new Uint8Array(Buffer.from(value.$bytes, "base64"));
  if ("$type" in value) {
    const out = defaultsFor(value.$type);
    for (const [k, v] of Object.entries(value)) if (k !== "$type") out[k] = revive(v);
    return out;
  }
  // A map: plain keys.
  const out = {};
  for (const [k, v] of Object.entries(value)) out[k] = revive(v);
  return out;
}

/** Turns a decoded value into its js form. */
function normalise(value) {
  if (value === undefined) return null;
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString("base64") };
  if (Array.isArray(value)) return value.map(normalise);
  if (typeof value === "bigint") throw new Error(`unexpected bigint ${value}`);
  if (typeof value === "number" && !Number.isFinite(value)) throw new Error(`non-finite number ${value}`);
  if (value === null || typeof value !== "object") return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) out[k] = normalise(v);
  return out;
}

function runCase(c) {
  const codec = codecs.get(c.type);
  if (codec === undefined) return { id: c.id, type: c.type, status: "no-codec" };
  const result = { id: c.id, type: c.type, status: "ok" };
  try {
    result.decoded = normalise(codec.decode(new Uint8Array(Buffer.from(c.hex, "hex"))));
  } catch (e) {
    result.decodeError = String(e);
  }
  try {
    result.hex = Buffer.from(codec.encode(revive(c.input)).finish()).toString("hex");
  } catch (e) {
    result.encodeError = String(e);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------

function readStdin() {
  return fs.readFileSync(0, "utf8");
}

const describeOnly = process.argv.includes("--describe");
const request = describeOnly ? { cases: [] } : JSON.parse(readStdin());
if (!Array.isArray(request.cases)) fail("request has no `cases` array");

const report = {
  package: { name: packageJson.name, version: packageJson.version },
  codecs: [...codecs.keys()].sort(),
  enums: enumKeys.sort(),
  schema,
  results: request.cases.map(runCase),
};
process.stdout.write(JSON.stringify(report, null, describeOnly ? 2 : 0));
process.stdout.write("\n");
