// A jobtour server for the tests: the one at JOBTOUR_URL when set, else one started here from
// the workspace's binary (built with cargo when missing or stale) on a free port, over a fresh SQLite
// file with the demo campaign.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const DEMO_ORGANISER = { email: "organiser@demo.jobtour.example", password: "demo organiser password" };

export interface Server {
  url: string;
  stop(): Promise<void>;
}

const workspace = resolve(import.meta.dirname, "../../../..");

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address ? address.port : 0;
      s.close(() => ok(port));
    });
  });
}

/** The server to test against; `env` is given to one started here (ignored with JOBTOUR_URL). */
export async function server(env: Record<string, string> = {}): Promise<Server> {
  const given = process.env.JOBTOUR_URL;
  if (given && Object.keys(env).length === 0) {
    return { url: given.replace(/\/$/, ""), stop: async () => {} };
  }
  return start(env);
}

export async function start(env: Record<string, string> = {}): Promise<Server> {
  // Built (or found up to date) by cargo, so that the tests never meet a stale binary.
  const built = spawnSync("cargo", ["build", "-q", "-p", "jobtour-api", "--bin", "jobtour"], {
    cwd: workspace,
    stdio: "inherit",
  });
  if (built.error || built.status !== 0) {
    throw new Error(`cargo build failed: ${built.error?.message ?? `exit ${built.status}`}`);
  }
  const binary = join(workspace, "target", "debug", process.platform === "win32" ? "jobtour.exe" : "jobtour");
  const dir = mkdtempSync(join(tmpdir(), "jobtour-client-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(binary, ["serve", "--demo"], {
    env: {
      ...process.env,
      DATABASE_URL: `sqlite://${join(dir, "jobtour.db")}`,
      JOBTOUR_BIND: `127.0.0.1:${port}`,
      RUST_LOG: "warn",
      ...env,
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const exited = new Promise<void>((ok) => child.once("exit", () => ok()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error("the server did not become ready within 60 s");
    await new Promise((ok) => setTimeout(ok, 100));
  }
  return {
    url,
    async stop() {
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
