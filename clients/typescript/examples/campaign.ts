// What a front-end does with the client, from sign-in to a booked interview, type-checked
// against the document (`npm test` compiles it with --strict and runs it against a server).
import { randomUUID } from "node:crypto";
import { createJobtourClient, isProblem, type Problem, type Schemas } from "../src/index.js";

export interface Outcome {
  organiser: string;
  positionsSeen: number;
  application: Schemas["Application"];
  replayed: boolean;
  booking: Schemas["Booking"];
  problem: Problem;
}

export async function campaign(baseUrl: string, email: string, password: string): Promise<Outcome> {
  // Staff sign in; the session token then goes with every call of its client.
  const anonymous = createJobtourClient({ baseUrl });
  const login = await anonymous.POST("/api/v1/auth/login", { body: { email, password } });
  if (!login.data) throw new Error(`sign-in refused: ${login.error?.code}`);
  const staff = createJobtourClient({ baseUrl, token: login.data.token });
  const me = await staff.GET("/api/v1/me");
  if (!me.data) throw new Error(`me: ${me.error?.code}`);

  // The job board with filters, following the cursor to the next page.
  const positions: Schemas["Position"][] = [];
  let cursor: string | undefined;
  do {
    const page = await anonymous.GET("/api/v1/positions", {
      params: { query: { contract_type: "cdi", limit: 10, ...(cursor ? { cursor } : {}) } },
    });
    if (!page.data) throw new Error(`positions: ${page.error?.code}`);
    positions.push(...page.data.items);
    cursor = page.data.next_cursor ?? undefined;
  } while (cursor && positions.length < 20);

  // A position with slots of its employer at one of its stops.
  let target: { position: Schemas["Position"]; slot: Schemas["Slot"] } | undefined;
  for (const position of positions) {
    for (const stopId of position.stop_ids) {
      const slots = await anonymous.GET("/api/v1/stops/{id}/slots", { params: { path: { id: stopId } } });
      const slot = slots.data?.items.find((s) => s.organisation_id === position.organisation_id && s.available > 0);
      if (slot) {
        target = { position, slot };
        break;
      }
    }
    if (target) break;
  }
  if (!target) throw new Error("no position with a free slot of its employer");

  // Applying from a phone: a retry with the same Idempotency-Key replays the first answer.
  const key = randomUUID();
  const body: Schemas["NewApplication"] = {
    first_name: "Camille",
    last_name: "Durand",
    email: `camille.${key}@example.org`,
    phone: "06 12 34 56 78",
    consent: true,
  };
  const apply = () =>
    anonymous.POST("/api/v1/positions/{id}/applications", {
      params: { path: { id: target.position.id }, header: { "Idempotency-Key": key } },
      body,
    });
  const applied = await apply();
  if (!applied.data) throw new Error(`apply: ${applied.error?.code}`);
  const retried = await apply();
  const replayed = retried.response.headers.get("Idempotent-Replayed") === "true";
  const accessToken = applied.data.access_token;
  if (!accessToken) throw new Error("no access token in the answer");

  // The candidate reads the application with its token, then books an interview.
  const candidate = createJobtourClient({ baseUrl, token: accessToken });
  const read = await candidate.GET("/api/v1/applications/{id}", { params: { path: { id: applied.data.id } } });
  if (!read.data) throw new Error(`read: ${read.error?.code}`);
  const booked = await candidate.PUT("/api/v1/slots/{id}/booking", { params: { path: { id: target.slot.id } } });
  if (!booked.data) throw new Error(`booking: ${booked.error?.code}`);

  // A refusal: the problem's code and the fields at fault.
  const refused = await anonymous.POST("/api/v1/positions/{id}/applications", {
    params: { path: { id: target.position.id } },
    body: { first_name: "", last_name: "Durand", email: "not an address", consent: true },
  });
  if (!isProblem(refused.error)) throw new Error(`expected a problem, got ${refused.response.status}`);

  return {
    organiser: me.data.email,
    positionsSeen: positions.length,
    application: read.data,
    replayed,
    booking: booked.data,
    problem: refused.error,
  };
}
