// Saving the working copy, the conflict when someone saved first, and discarding edits.
import { diffSummary, nameList, plural } from "./dom.js";
import { diffSets, overlap, rebase, touchedNames } from "./model.js";
import { jobLabel, versionOf } from "./render.js";

/**
 * Resolves just after the next frame is painted: a task posted from the frame's animation
 * callback runs once that frame is on screen, so work started then neither holds that paint
 * back nor waits for a second frame. A hidden tab paints no frames; there it resolves after
 * 100 ms.
 */
function afterPaint() {
  return new Promise((resolve) => {
    requestAnimationFrame(() => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => resolve();
      channel.port2.postMessage(null);
    });
    setTimeout(resolve, 100);
  });
}

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
      // The busy state is painted first, then the client checks the whole set against the
      // server's rules and limit before sending it (its error lists every problem), so the
      // set crosses into WebAssembly once; at 4,500 secrets that takes about 15 ms. The frame
      // is on screen and its layout done before the request leaves, so the busy state shows
      // at once and the page's drawing does not compete with the server for the answer.
      await afterPaint();
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
