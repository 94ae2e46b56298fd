// Overwriting the working copy from a JSON file: every problem of the file at once, or a
// preview of what would change, before anything is replaced.
import * as vdk from "./vendor/vdk-secrets/index.js";
import { groupBlocks, diffGroups, h, plural, problemList } from "./dom.js";
import { diffSets, isEmptyDiff } from "./model.js";

/**
 * Reads a secrets document once: {secrets, problems, size}. The package's one-call check when
 * it has it; otherwise its validation, then its parser.
 */
function readDocument(text, maxSetBytes) {
  if (typeof vdk.checkSecretsDocument === "function") return vdk.checkSecretsDocument(text, maxSetBytes);
  const problems = vdk.validateSecretsDocument(text, maxSetBytes);
  if (problems.length) return { secrets: null, problems, size: 0 };
  const secrets = vdk.parseSecretsDocument(text);
  return { secrets, problems, size: null };
}

export function createFile(ctx) {
  const { $, state } = ctx;

  async function onChosen() {
    const input = $("file-input");
    if (state.busy) {
      input.value = "";
      return;
    }
    const file = input.files && input.files[0];
    if (!file) return;
    let text;
    try {
      text = await file.text();
    } catch {
      ctx.showError({
        what: `${file.name} could not be read`,
        why: "the browser could not read the file",
        countermeasures: "Choose the file again.",
      });
      return;
    } finally {
      // Choosing the same file again must trigger a new preview.
      input.value = "";
    }
    const { secrets, problems, size } = readDocument(text, state.maxSetBytes);
    const apply = $("file-apply");
    if (problems.length || !secrets) {
      state.fileSet = null;
      $("file-title").textContent = "This file cannot be used";
      $("file-summary").textContent = `${file.name} breaks ${plural(problems.length, "rule")}; nothing was changed.`;
      $("file-details").replaceChildren(problemList(problems, "document"));
      apply.hidden = true;
      $("file-cancel").textContent = "Close";
    } else {
      const preview = diffSets(state.working, secrets);
      const count = Object.keys(secrets).length;
      // Applying it is measured against the loaded set, as every edit is.
      state.fileSet = { secrets, size };
      $("file-title").textContent = "Overwrite all from a file";
      $("file-summary").textContent = isEmptyDiff(preview)
        ? `${file.name} holds the same ${plural(count, "secret")} as your working copy; nothing would change.`
        : `${file.name} holds ${plural(count, "secret")}. Replacing your working copy with it changes these ` +
          "(values stay hidden; nothing is sent until you save):";
      const groups = groupBlocks(diffGroups(preview));
      const unchanged = count - preview.added.length - preview.changed.length;
      if (unchanged > 0 && !isEmptyDiff(preview)) groups.push(h("p", { class: "hint" }, `${unchanged} unchanged.`));
      $("file-details").replaceChildren(...groups);
      apply.hidden = isEmptyDiff(preview);
      $("file-cancel").textContent = "Cancel";
    }
    $("file-dialog").showModal();
    $("file-cancel").focus();
  }

  function onApply() {
    if (!state.fileSet) return;
    if (state.busy) {
      // A save started while the file was being read: its answer must not be taken for
      // the file's set. The dialog stays open.
      ctx.announce("Wait until the save has finished, then replace your working copy.");
      return;
    }
    const { secrets, size } = state.fileSet;
    state.fileSet = null;
    state.replaceWorking(secrets, { size });
    state.selected.clear();
    $("file-dialog").close();
    ctx.render();
    ctx.announce("Your working copy now holds the file's secrets (not saved yet).");
    $("secrets-heading").focus();
  }

  function wire() {
    $("file-input").addEventListener("change", onChosen);
    $("file-cancel").addEventListener("click", () => $("file-dialog").close());
    $("file-apply").addEventListener("click", onApply);
    $("file-dialog").addEventListener("close", () => {
      state.fileSet = null;
      $("file-details").replaceChildren();
    });
  }

  return { wire };
}
