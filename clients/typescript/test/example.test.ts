// The example of examples/campaign.ts, run against a live server.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { campaign } from "../examples/campaign.js";
import { DEMO_ORGANISER, server, type Server } from "./server.js";

let api: Server;
before(async () => {
  api = await server();
});
after(async () => {
  await api.stop();
});

test("the example signs in, pages, applies, reads, books and reads a problem", async () => {
  const outcome = await campaign(api.url, DEMO_ORGANISER.email, DEMO_ORGANISER.password);
  assert.equal(outcome.organiser, DEMO_ORGANISER.email);
  assert.ok(outcome.positionsSeen > 10, "followed the cursor past the first page");
  assert.equal(outcome.application.status, "submitted");
  assert.ok(outcome.replayed, "the retry with the same key was a replay");
  assert.equal(outcome.booking.application_id, outcome.application.id);
  assert.equal(outcome.problem.status, 422);
  assert.equal(outcome.problem.code, "validation_failed");
  const fields = (outcome.problem.errors ?? []).map((e) => e.field).sort();
  assert.deepEqual(fields, ["email", "first_name"]);
});
