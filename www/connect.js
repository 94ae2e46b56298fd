// Connecting to a job and loading its secrets: the job form, the server's size limit, the
// first read, and reading again.
import * as vdk from "./vendor/vdk-secrets/index.js";
import { nameList, plural, setFieldMessage } from "./dom.js";
import { hasUnsafeInteger, listNames, sortedNames, touchedNames } from "./model.js";
import { jobLabel, versionOf } from "./render.js";

export const DEFAULT_MAX_SET_BYTES = vdk.limits().maxSetBytes;

/** The connect form's handlers, for one page. */
export function createConnect(ctx) {
  const { $, state } = ctx;
  const field = (id, problems, key) => setFieldMessage($(id), $(`${id}-msg`), problems, key);

  async function connect() {
    if (state.busy) return false;
    ctx.clearAlert();
    const baseUrl = $("base-url").value.trim() || ctx.defaultBaseUrl();
    const team = $("team").value.trim();
    const job = $("job").value.trim();
    const token = $("token").value.trim();

    const problems = vdk.validateJob(team, job);
    field(
      "team",
      problems.filter((p) => p.key === "team"),
      "team",
    );
    field(
      "job",
      problems.filter((p) => p.key === "job"),
      "job",
    );
    field("base-url", [], "url");
    field("token", [], "token");
    if (problems.length) {
      $(problems[0].key === "job" ? "job" : "team").focus();
      return false;
    }

    const sameJob = state.job && state.job.baseUrl === baseUrl && state.job.team === team && state.job.job === job;
    if (state.isDirty()) {
      const discard = await ctx.confirm({
        title: "Discard unsaved changes?",
        body: [
          `Loading ${sameJob ? "again" : `${team}/${job}`} drops your unsaved changes to ${jobLabel(state)}.`,
          nameList(touchedNames(state.diff)),
        ],
        ok: "Discard and load",
      });
      if (!discard) return false;
    }

    let client;
    state.busy = true; // no second connect while the limit is asked for
    try {
      const config = { baseUrl, team, job, token: token || undefined };
      client = new vdk.SecretsClient(config);
      const maxSetBytes = await serverLimit(client, baseUrl);
      if (maxSetBytes !== DEFAULT_MAX_SET_BYTES) {
        // The client checks sets against its limit before sending: give it the server's.
        client.free();
        client = new vdk.SecretsClient({ ...config, maxSetBytes });
      }
      if (state.client) state.client.free();
      state.client = client;
      state.maxSetBytes = maxSetBytes;
    } catch (error) {
      const fields = { base_url: "base-url", token: "token" };
      const placed = (error.problems || []).filter((p) => fields[p.key]);
      for (const p of placed) field(fields[p.key], [p], p.key);
      if (placed.length) $(fields[placed[0].key]).focus();
      else ctx.showError(error);
      return false;
    } finally {
      state.busy = false;
    }
    state.job = { baseUrl, team, job };
    // A new job starts from nothing: never show one job's secrets under another's name.
    state.unload();
    state.filter = "";
    $("filter").value = "";
    ctx.jobChosen(team, job, baseUrl);
    ctx.render();
    if (await load()) {
      $("secrets-heading").focus();
      return true;
    }
    return false;
  }

  /**
   * The set size limit the server reports on /health (the reference server does), or the
   * package's default when it reports none, as the Control Service does not: the size meter and
   * the check before Save then use the limit of the server that will judge the set. Asked
   * through the client when the package can; a server that cannot say gives the default.
   */
  async function serverLimit(client, baseUrl) {
    try {
      let limit;
      if (typeof client.serverLimits === "function") {
        limit = (await client.serverLimits()).maxSetBytes;
      } else {
        const url = new URL("health", baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
        const response = await fetch(url, {
          credentials: "omit",
          cache: "no-store",
          signal: AbortSignal.timeout(5000),
        });
        limit = (await response.json()).maxSetBytes;
      }
      return Number.isSafeInteger(limit) && limit > 0 ? limit : DEFAULT_MAX_SET_BYTES;
    } catch {
      return DEFAULT_MAX_SET_BYTES;
    }
  }

  async function load() {
    ctx.setBusy(true, `Loading the secrets of ${jobLabel(state)}…`);
    try {
      const { secrets, etag } = await state.client.getAllSecretsVersioned();
      state.adopt(secrets, etag);
      ctx.announce(`Loaded ${plural(state.count, "secret")} of ${jobLabel(state)} (version ${versionOf(etag)}).`);
      warnAboutRounding(secrets);
      ctx.emit("loaded", { team: state.job.team, job: state.job.job, version: versionOf(etag), count: state.count });
      return true;
    } catch (error) {
      ctx.showError(error);
      ctx.announce("");
      return false;
    } finally {
      ctx.setBusy(false);
    }
  }

  /** The package keeps integers exact up to 64 bits; anything larger arrives rounded. */
  function warnAboutRounding(secrets) {
    const names = sortedNames(secrets).filter((name) => hasUnsafeInteger(secrets[name]));
    if (!names.length) return;
    ctx.showError({
      what: "Some numbers cannot be kept exactly by this page",
      why:
        `${listNames(names)} ${names.length === 1 ? "holds" : "hold"} an integer beyond the 64-bit range, ` +
        "which arrives rounded",
      countermeasures:
        "The set cannot be saved from this page while such a secret holds the rounded number: store the " +
        "number as a string, or change it with a tool that keeps exact numbers.",
    });
  }

  async function reload() {
    if (state.busy) return;
    if (state.isDirty()) {
      const discard = await ctx.confirm({
        title: "Discard unsaved changes?",
        body: ["Reloading replaces your working copy with the server's secrets.", nameList(touchedNames(state.diff))],
        ok: "Discard and reload",
      });
      if (!discard) return;
    }
    ctx.clearAlert();
    await load();
  }

  /** Live feedback on team and job once a field was flagged; no nagging before the first Load. */
  function recheck(id) {
    if (!$(id).hasAttribute("aria-invalid")) return;
    const problems = vdk.validateJob($("team").value.trim(), $("job").value.trim()).filter((p) => p.key === id);
    field(id, problems, id);
  }

  return { connect, reload, recheck, warnAboutRounding };
}
