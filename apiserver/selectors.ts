/**
 * Label selectors (full syntax: `=`, `==`, `!=`, `in`, `notin`, `key`, `!key`, `>`, `<`) and
 * field selectors (`metadata.name`, `metadata.namespace` with `=`, `==`, `!=`).
 * @module
 */
import { badRequest } from "./errors.ts";

export type LabelOp = "=" | "!=" | "in" | "notin" | "exists" | "!" | ">" | "<";

export interface Requirement {
  readonly key: string;
  readonly op: LabelOp;
  readonly values: readonly string[];
}

export type Labels = Readonly<Record<string, string>> | undefined;

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const SPECIAL = new Set(["=", "!", "(", ")", ",", "<", ">"]);

function keyError(key: string): string | undefined {
  const slash = key.indexOf("/");
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `prefix part of "${key}" must be a lowercase DNS subdomain of at most 253 characters`;
  }
  if (name.length === 0 || name.length > 63 || !NAME.test(name)) {
    return `name part of "${key}" must be at most 63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric`;
  }
  return undefined;
}

function valueError(value: string): string | undefined {
  if (value.length <= 63 && VALUE.test(value)) return undefined;
  return `"${value}" must be empty or at most 63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric`;
}

/** Tokens: identifiers and the operators = == != ! ( ) , < >. */
function lex(input: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if ((c === "=" || c === "!") && input[i + 1] === "=") {
      tokens.push(c + "=");
      i += 2;
    } else if (SPECIAL.has(c)) {
      tokens.push(c);
      i++;
    } else {
      let j = i;
      while (j < input.length && !SPECIAL.has(input[j] as string) && !/\s/.test(input[j] as string)) j++;
      tokens.push(input.slice(i, j));
      i = j;
    }
  }
  return tokens;
}

function isIdent(t: string | undefined): t is string {
  return t !== undefined && !SPECIAL.has(t) && t !== "==" && t !== "!=";
}

class Cursor {
  readonly tokens: string[];
  pos = 0;
  constructor(tokens: string[]) {
    this.tokens = tokens;
  }
  peek(): string | undefined {
    return this.tokens[this.pos];
  }
  take(): string | undefined {
    return this.tokens[this.pos++];
  }
}

function fail(selector: string, why: string): never {
  throw badRequest(`unable to parse requirement: labelSelector "${selector}": ${why}`);
}

function parseSet(c: Cursor, selector: string): string[] {
  if (c.take() !== "(") fail(selector, "expected '(' after in/notin");
  const values: string[] = [];
  if (c.peek() === ")") {
    c.take();
    return values;
  }
  for (;;) {
    values.push(isIdent(c.peek()) ? (c.take() as string) : "");
    const t = c.take();
    if (t === ")") return values;
    if (t !== ",") fail(selector, "expected ',' or ')' in a value set");
  }
}

function parseOperand(c: Cursor, selector: string, key: string, op: string): Requirement {
  if (op === "in" || op === "notin") return { key, op, values: parseSet(c, selector) };
  if (op === "=" || op === "==" || op === "!=") {
    const value = isIdent(c.peek()) ? (c.take() as string) : "";
    return { key, op: op === "!=" ? "!=" : "=", values: [value] };
  }
  if (op === ">" || op === "<") {
    const value = c.take();
    if (!isIdent(value) || !/^-?\d+$/.test(value)) fail(selector, `for '${op}', the value must be an integer`);
    return { key, op, values: [value] };
  }
  return fail(selector, `unknown operator ${JSON.stringify(op)}; accepted: =, ==, !=, in, notin, >, <`);
}

function parseRequirement(c: Cursor, selector: string): Requirement {
  if (c.peek() === "!") {
    c.take();
    const key = c.take();
    if (!isIdent(key)) fail(selector, "expected a key after '!'");
    return { key, op: "!", values: [] };
  }
  const key = c.take();
  if (!isIdent(key)) fail(selector, `expected a key, found ${JSON.stringify(key ?? "end of input")}`);
  const op = c.peek();
  if (op === undefined || op === ",") return { key, op: "exists", values: [] };
  c.take();
  return parseOperand(c, selector, key, op);
}

function validate(req: Requirement, selector: string): void {
  const kerr = keyError(req.key);
  if (kerr) fail(selector, kerr);
  if (req.op === ">" || req.op === "<") return;
  for (const v of req.values) {
    const verr = valueError(v);
    if (verr) fail(selector, verr);
  }
}

/** Parses a label selector; throws 400 BadRequest naming what would be accepted. */
export function parseLabelSelector(selector: string | undefined): Requirement[] {
  if (selector === undefined || selector.trim() === "") return [];
  const c = new Cursor(lex(selector));
  const out: Requirement[] = [];
  for (;;) {
    const req = parseRequirement(c, selector);
    validate(req, selector);
    out.push(req);
    const t = c.take();
    if (t === undefined) return out;
    if (t !== ",") fail(selector, `expected ',' between requirements, found ${JSON.stringify(t)}`);
  }
}

function compareInt(r: Requirement, value: string | undefined): boolean {
  if (value === undefined || !/^-?\d+$/.test(value)) return false;
  const diff = Number(value) - Number(r.values[0]);
  return r.op === ">" ? diff > 0 : diff < 0;
}

function matchesOne(r: Requirement, labels: Labels): boolean {
  const value = labels !== undefined && Object.hasOwn(labels, r.key) ? labels[r.key] : undefined;
  const has = value !== undefined;
  switch (r.op) {
    case "=":
    case "in":
      return has && r.values.includes(value);
    case "!=":
    case "notin":
      return !has || !r.values.includes(value);
    case "exists":
      return has;
    case "!":
      return !has;
    default:
      return compareInt(r, value);
  }
}

export function matchesLabels(reqs: readonly Requirement[], labels: Labels): boolean {
  return reqs.every((r) => matchesOne(r, labels));
}

export const FIELD_KEYS = ["metadata.name", "metadata.namespace"] as const;
export type FieldKey = (typeof FIELD_KEYS)[number];

export interface FieldRequirement {
  readonly field: FieldKey;
  readonly equal: boolean;
  readonly value: string;
}

/** Splits on unescaped `sep`; `\x` keeps x literally. */
function splitEscaped(s: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === "\\" && i + 1 < s.length) {
      cur += c + (s[i + 1] as string);
      i++;
    } else if (c === sep) {
      parts.push(cur);
      cur = "";
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

const unescape = (s: string): string => s.replace(/\\(.)/g, "$1");

/** Position and text of the first unescaped =, == or != in `term`. */
function findOperator(term: string): { at: number; op: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    const c = term[i];
    if (c === "\\") i++;
    else if (c === "!" && term[i + 1] === "=") return { at: i, op: "!=" };
    else if (c === "=") return { at: i, op: term[i + 1] === "=" ? "==" : "=" };
  }
  return undefined;
}

function parseTerm(term: string): FieldRequirement {
  const found = findOperator(term);
  if (found === undefined) throw badRequest(`invalid field selector: "${term}": expected <field>=<value>, <field>==<value> or <field>!=<value>`);
  const field = unescape(term.slice(0, found.at)).trim();
  if (field !== "metadata.name" && field !== "metadata.namespace") {
    throw badRequest(`"${field}" is not a known field selector: only "metadata.name", "metadata.namespace"`);
  }
  return { field, equal: found.op !== "!=", value: unescape(term.slice(found.at + found.op.length)) };
}

export function parseFieldSelector(selector: string | undefined): FieldRequirement[] {
  if (selector === undefined || selector.trim() === "") return [];
  return splitEscaped(selector, ",")
    .filter((t) => t.trim() !== "")
    .map(parseTerm);
}

export function matchesFields(reqs: readonly FieldRequirement[], meta: { name?: string; namespace?: string }): boolean {
  return reqs.every((r) => ((r.field === "metadata.name" ? meta.name : meta.namespace) === r.value) === r.equal);
}
