// Saving the working copy, the conflict when someone saved first, and discarding edits.
import { diffSummary, nameList, plural } from "./dom.js";
import { diffSets, overlap, rebase, touchedNames } from "./model.js";
import { jobLabel, versionOf } from "./render.js";

/** Whether the client refused a set before sending it: a rule broken, listed in `problems`. */
function refusedBeforeSending(error) {
  return Boolean(error && error.code === "invalid-input" && error.status == null && Array.isArray(error.problems));
}

export function createSave(ctx) {
  const { $, state } = ctx;

  async function save() {
    if (state.busy) return;
    if (state.conflict) {
      ctx.announce("Choose first: reload the server's version, or reapply your edits on it.");
      $("conflict-heading").focus();
      return;
    }
    if (!state.isDirty()) {
      ctx.announce("Nothing to save: there are no unsaved changes.");
      return;
    }
    ctx.clearAlert();
    const diff = state.diff;
    ctx.setBusy(true, `Saving the secrets of ${jobLabel(state)}…`);
    try {
      // The client checks the whole set against the server's rules and limit and sends it
      // at once (its error lists every problem; at 4,500 secrets the check takes about
      // 15 ms), and the busy state is painted while the server works on the request.
      // Painting it first would put a whole frame (about 15 ms at 4,500 secrets) between
      // the click and the request: the saved state then came about 13 ms later
      // (docs/BENCHMARKS.md), while the busy state shows within about 45 ms either way.
      const etag = await state.client.setAllSecrets(state.working, state.etag);
      if (etag) {
        state.saved(etag);
      } else {
        // Without a version in the answer, read one so that the next save can be checked.
        const read = await state.client.getAllSecretsVersioned();
        state.adopt(read.secrets, read.etag);
      }
      ctx.announce(`Saved: ${diffSummary(diff)}. Server version ${versionOf(state.etag)}.`);
      ctx.emit("saved", { version: versionOf(state.etag), ...diff });
    } catch (error) {
      if (error && error.code === "conflict") {
        await showConflict(error);
      } else if (refusedBeforeSending(error)) {
        ctx.announce("");
        ctx.showError({
          what: "Not saved: the secrets break the server's rules",
          why: `${plural(error.problems.length, "problem was", "problems were")} found before sending anything.`,
          countermeasures: "Fix each secret listed below, then save again.",
          problems: error.problems,
        });
      } else {
        ctx.showError(error);
        ctx.announce("");
      }
    } finally {
      ctx.setBusy(false);
    }
    if (state.conflict) $("conflict-heading").focus();
  }

  async function showConflict(error) {
    try {
      const { secrets, etag } = await state.client.getAllSecretsVersioned();
      const mine = state.diff;
      const server = diffSets(state.base, secrets);
      state.conflict = { theirs: secrets, etag, server, overlap: overlap(mine, server) };
      ctx.showError(error);
      ctx.announce("Not saved: the secrets changed on the server. Choose how to go on.");
      ctx.emit("conflict", { version: versionOf(etag), ...server, overlap: state.conflict.overlap });
    } catch (readError) {
      ctx.showError(readError);
    }
  }

  function conflictReload() {
    if (state.busy || !state.conflict) return;
    const { theirs, etag } = state.conflict;
    state.adopt(theirs, etag);
    ctx.clearAlert();
    ctx.render();
    ctx.announce(`Loaded server version ${versionOf(etag)}; your edits were discarded.`);
    $("secrets-heading").focus();
  }

  function conflictReapply() {
    if (state.busy || !state.conflict) return;
    const { theirs, etag } = state.conflict;
    state.rebaseOn(theirs, etag, rebase(state.base, state.working, theirs));
    ctx.clearAlert();
    ctx.render();
    ctx.announce(`Your edits are applied on server version ${versionOf(etag)}. Review them, then save.`);
    $("changes-heading").focus();
  }

  async function discard() {
    if (state.busy) return;
    if (!state.isDirty()) {
      ctx.announce("Nothing to discard: there are no unsaved changes.");
      return;
    }
    const confirmed = await ctx.confirm({
      title: "Discard unsaved changes?",
      body: ["Your working copy goes back to the secrets as loaded.", nameList(touchedNames(state.diff))],
      ok: "Discard changes",
      apply() {
        state.discard();
        ctx.render();
      },
    });
    if (!confirmed) return;
    ctx.announce("Changes discarded.");
    $("secrets-heading").focus();
  }

  return { save, conflictReload, conflictReapply, discard };
}
