// What the table's controls do: show, copy, edit and delete one secret; select some or all;
// delete the selected or all of them.
import { nameList } from "./dom.js";
import { jsonText } from "./model.js";
import { jobLabel } from "./render.js";

const own = (object, name) => Object.prototype.hasOwnProperty.call(object, name);

export function createActions(ctx) {
  const { $, state } = ctx;

  async function onRowClick(event) {
    const button = event.target.closest("button[data-action]");
    if (!button || state.busy) return;
    const name = button.dataset.name;
    if (!own(state.working, name)) return;
    switch (button.dataset.action) {
      case "reveal":
        // One value at a time: showing another hides the previous one.
        state.revealed = state.revealed === name ? null : name;
        if (state.revealed && ctx.history) ctx.history.conceal();
        ctx.rows.update();
        break;
      case "copy":
        await copyValue(name);
        break;
      case "edit":
        ctx.editor.open(name);
        break;
      case "delete":
        await deleteNames([name], `Delete ${name}?`);
        break;
    }
  }

  function onRowChange(event) {
    const box = event.target;
    if (box.type !== "checkbox" || !box.dataset.name) return;
    if (box.checked) state.selected.add(box.dataset.name);
    else state.selected.delete(box.dataset.name);
    ctx.renderCounts();
  }

  function onSelectAll() {
    const all = $("select-all").checked;
    for (const name of state.shownNames) {
      if (all) state.selected.add(name);
      else state.selected.delete(name);
    }
    ctx.rows.syncSelection();
    ctx.renderCounts();
  }

  async function copyValue(name) {
    const value = state.working[name];
    const text = typeof value === "string" ? value : jsonText(value);
    try {
      await navigator.clipboard.writeText(text);
      ctx.announce(`Copied the value of ${name} to the clipboard.`);
    } catch {
      ctx.showError({
        what: `The value of ${name} was not copied`,
        why: "the browser did not allow this page to write to the clipboard",
        countermeasures: "Allow clipboard access for this page, or show the value and copy it by hand.",
      });
    }
  }

  async function deleteNames(names, title) {
    const confirmed = await ctx.confirm({
      title,
      body: [
        names.length > 1 ? nameList(names) : null,
        names.length === 1
          ? "It is removed from your working copy; the server keeps it until you save."
          : "They are removed from your working copy; the server keeps them until you save.",
      ].filter(Boolean),
      ok: names.length === 1 ? "Delete" : `Delete ${names.length}`,
      apply() {
        state.removeAll(names);
        ctx.render();
      },
    });
    if (!confirmed) return;
    ctx.announce(`Deleted ${names.length === 1 ? names[0] : `${names.length} secrets`} (not saved yet).`);
    $("secrets-heading").focus();
  }

  async function deleteSelected() {
    if (state.busy) return;
    const names = state.names.filter((n) => state.selected.has(n));
    if (!names.length) ctx.announce("Nothing selected: tick the secrets to delete first.");
    else await deleteNames(names, `Delete ${names.length} selected ${names.length === 1 ? "secret" : "secrets"}?`);
  }

  async function deleteAll() {
    if (state.busy) return;
    const names = [...state.names];
    if (!names.length) ctx.announce("There are no secrets to delete.");
    else await deleteNames(names, `Delete all ${names.length} secrets of ${jobLabel(state)}?`);
  }

  function onFilter() {
    state.filter = $("filter").value;
    ctx.rows.update();
    ctx.renderCounts();
  }

  return { onRowClick, onRowChange, onSelectAll, deleteSelected, deleteAll, onFilter };
}
