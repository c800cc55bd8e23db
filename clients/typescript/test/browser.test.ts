// The API from a real browser (Debian's Chromium, driven by playwright-core): CORS as a
// front-end on another origin meets it, and the documentation page rendered with the network
// cut off but for 127.0.0.1. Skipped when Chromium is missing, except on CI (CI=true).
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { createServer, type Server as HttpServer } from "node:http";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { chromium, type Browser } from "playwright-core";
import { freePort, start, type Server } from "./server.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const missing = !existsSync(CHROMIUM);
if (missing && process.env.CI === "true") {
  throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium package`);
}
const skip = missing ? `no Chromium at ${CHROMIUM}` : false;
const output = resolve(import.meta.dirname, "../../test-output");

let api: Server;
let browser: Browser;
const pages: HttpServer[] = [];
let allowed = "";
let other = "";

/** A blank page served from http://127.0.0.1:<port>: an origin of its own. */
async function origin(): Promise<string> {
  const port = await freePort();
  const page = createServer((_, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end("<!doctype html><title>front-end</title>");
  });
  await new Promise<void>((ok) => page.listen(port, "127.0.0.1", ok));
  pages.push(page);
  return `http://127.0.0.1:${port}`;
}

before(async () => {
  if (skip) return;
  allowed = await origin();
  other = await origin();
  api = await start({ JOBTOUR_CORS_ORIGINS: allowed });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

after(async () => {
  await browser?.close();
  await api?.stop();
  for (const page of pages) page.close();
});

/** What a page's script sees calling the API with fetch. */
async function calls(from: string) {
  const page = await browser.newPage();
  await page.goto(from);
  const seen = await page.evaluate(async (url) => {
    const out: Record<string, unknown> = {};
    try {
      const list = await fetch(`${url}/api/v1/positions?limit=1`);
      const body = await list.json();
      out.listStatus = list.status;
      const id = body.items[0].id as string;
      const one = await fetch(`${url}/api/v1/positions/${id}`);
      out.etag = one.headers.get("ETag");
      out.requestId = one.headers.get("x-request-id");
      // A preflighted write: JSON body and an Idempotency-Key.
      const applied = await fetch(`${url}/api/v1/positions/${id}/applications`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Idempotency-Key": crypto.randomUUID() },
        body: JSON.stringify({
          first_name: "Camille",
          last_name: "Durand",
          email: `camille.${crypto.randomUUID()}@example.org`,
          consent: true,
        }),
      });
      out.appliedStatus = applied.status;
      out.location = applied.headers.get("Location");
      const refused = await fetch(`${url}/api/v1/positions/${id}/applications`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ first_name: "", last_name: "Durand", email: "nope", consent: true }),
      });
      out.refusedStatus = refused.status;
      out.refused = await refused.json();
    } catch (e) {
      out.failed = String(e);
    }
    return out;
  }, api.url);
  await page.close();
  return seen;
}

test("a page of an allowed origin reads ETag, Location, x-request-id and a 422's body", { skip }, async () => {
  const seen = await calls(allowed);
  assert.equal(seen.failed, undefined, String(seen.failed));
  assert.equal(seen.listStatus, 200);
  assert.match(String(seen.etag), /^(W\/)?"/);
  assert.ok(seen.requestId, "x-request-id is exposed");
  assert.equal(seen.appliedStatus, 201);
  assert.match(String(seen.location), /^\/api\/v1\/applications\//);
  assert.equal(seen.refusedStatus, 422);
  const problem = seen.refused as { code: string; errors: { field: string }[] };
  assert.equal(problem.code, "validation_failed");
  assert.deepEqual(problem.errors.map((e) => e.field).sort(), ["email", "first_name"]);
});

test("a page of another origin is refused by the browser", { skip }, async () => {
  const seen = await calls(other);
  assert.match(String(seen.failed), /TypeError/);
  assert.equal(seen.listStatus, undefined);
});

test("the documentation renders every tag with no request leaving the machine", { skip }, async () => {
  const spec = (await (await fetch(`${api.url}/api/v1/openapi.json`)).json()) as { tags?: { name: string }[] };
  const tags = (spec.tags ?? []).map((t) => t.name);
  assert.ok(tags.length > 5, "the document lists its tags");
  const page = await browser.newPage();
  const left: string[] = [];
  await page.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1") return route.continue();
    left.push(url.href);
    return route.abort();
  });
  await page.goto(`${api.url}/docs/`);
  await page.waitForSelector(".opblock", { timeout: 20_000 });
  const shown = await page.$$eval(".opblock-tag", (els) => els.map((e) => e.getAttribute("data-tag")));
  for (const tag of tags) assert.ok(shown.includes(tag), `tag ${tag} is listed`);
  mkdirSync(output, { recursive: true });
  await page.screenshot({ path: join(output, "docs.png"), fullPage: false });
  assert.deepEqual(left, [], "no request left 127.0.0.1");
  await page.close();
});
