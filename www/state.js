// The one state of a secrets page: the loaded set, the working copy, and what is derived from
// them (the sorted names, the pending diff, the size). Render code reads it; event handlers
// change it through its methods, which keep every derived value up to date in time
// proportional to what changed: an edit costs one entry, not the whole set.
//
// The base and the working copy share their values (`copySet`), and until the first edit after
// a load, a save or a discard they are one object: nothing here or in the views changes a
// value in place, an edit puts a new one, and the first edit copies the set (#unshare).
import { copySet, diffSets, insertionIndex, putEntry, sameValue, sortedNames } from "./model.js";

const own = (object, name) => Object.prototype.hasOwnProperty.call(object, name);
const byCodeUnit = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

export class PageState {
  /**
   * `measure` gives the package's sizes: `set(secrets)`, the bytes of a whole set in compact
   * JSON, and `entry(name, value)`, the bytes of one `"name":value` in it. Either may throw.
   */
  constructor(measure, maxSetBytes) {
    this.measure = measure;
    this.client = null;
    this.job = null; // {baseUrl, team, job}
    this.base = null; // the set as last read from or saved to the server
    this.etag = null; // the version `base` is at
    this.working = null; // base plus local edits
    this.revealed = null; // the one name whose value is shown
    this.selected = new Set();
    this.filter = "";
    this.busy = false;
    this.conflict = null; // {theirs, etag, server (diff), overlap}
    this.editing = null; // {original: name or null, touched: Set of field ids}
    this.fileSet = null; // a parsed file waiting for "Replace": {secrets, size, diff}
    this.maxSetBytes = maxSetBytes; // the connected server's limit, when it tells
    this.#clearDerived();
  }

  #names = null; // sorted names of `working`
  #status = new Map(); // name -> "added" | "changed", against `base`
  #removed = new Set(); // names of `base` not in `working`
  #diff = null; // the pending diff as sorted arrays, built from #status and #removed
  #size = NaN; // bytes of `working`
  #sizeStale = false; // an entry could not be measured: measure the whole set when asked
  #baseSize = NaN; // bytes of `base`
  #shown = null; // {names, filter, list}: the names the filter lets through
  /** Counts changes to the working copy; views compare it to know when to look again. */
  revision = 0;

  #clearDerived() {
    this.#names = null;
    this.#status = new Map();
    this.#removed = new Set();
    this.#diff = null;
    this.#shown = null;
    this.#sizeStale = false;
    this.revision += 1;
  }

  #wholeSize(set) {
    try {
      return this.measure.set(set);
    } catch {
      return NaN;
    }
  }

  /**
   * The working copy may be the base itself (after loading, saving or discarding): it is
   * copied, values shared, before its first change, so that loading and saving a large set
   * copy nothing, and a set never edited is held once.
   */
  #unshare() {
    if (this.working === this.base) this.working = copySet(this.base);
  }

  /** Makes a set read from the server both the base and the working copy, nothing pending. */
  adopt(secrets, etag) {
    this.base = secrets;
    this.working = secrets; // copied on the first edit (#unshare)
    this.etag = etag;
    this.conflict = null;
    this.revealed = null;
    this.selected.clear();
    this.#clearDerived();
    this.#size = this.#baseSize = this.#wholeSize(secrets);
  }

  /** Forgets the loaded job (another one is being loaded). */
  unload() {
    this.base = this.working = this.etag = this.conflict = null;
    this.revealed = null;
    this.selected.clear();
    this.#clearDerived();
    this.#size = this.#baseSize = NaN;
  }

  /**
   * Replaces the working copy with `set`; `diff` (from base to set) and `size` may be given
   * when already known.
   */
  replaceWorking(set, { diff = null, size = null } = {}) {
    this.working = set;
    this.revealed = null;
    for (const name of [...this.selected]) if (!own(set, name)) this.selected.delete(name);
    this.#clearDerived();
    const known = diff || diffSets(this.base, set);
    for (const name of known.added) this.#status.set(name, "added");
    for (const name of known.changed) this.#status.set(name, "changed");
    for (const name of known.removed) this.#removed.add(name);
    this.#size = size ?? this.#wholeSize(set);
  }

  /** Drops every edit: the working copy is the base again. */
  discard() {
    this.replaceWorking(this.base, {
      diff: { added: [], changed: [], removed: [] },
      size: this.#baseSize,
    });
    this.selected.clear();
  }

  /** After a save: what was sent is now the base, at `etag`. */
  saved(etag) {
    this.base = this.working; // copied on the next edit (#unshare)
    this.etag = etag;
    this.#baseSize = this.#size;
    this.#status.clear();
    this.#removed.clear();
    this.#diff = null;
    this.revision += 1;
  }

  /** After a conflict: the server's set becomes the base, my edits replayed on it. */
  rebaseOn(theirs, etag, working) {
    this.base = theirs;
    this.etag = etag;
    this.#baseSize = this.#wholeSize(theirs);
    this.conflict = null;
    this.replaceWorking(working);
  }

  #entrySize(name, value) {
    return this.measure.entry(name, value);
  }

  /** Adds or changes one secret. */
  put(name, value) {
    this.#unshare();
    const existed = own(this.working, name);
    try {
      if (existed) this.#size += this.#entrySize(name, value) - this.#entrySize(name, this.working[name]);
      else this.#size += this.#entrySize(name, value) + (this.count > 0 ? 1 : 0);
    } catch {
      this.#sizeStale = true;
    }
    putEntry(this.working, name, value);
    if (!existed && this.#names) this.#names.splice(insertionIndex(this.#names, name), 0, name);
    this.#restate(name);
  }

  /** Removes one secret (from the working copy; the server keeps it until a save). */
  remove(name) {
    if (!own(this.working, name)) return;
    this.#unshare();
    try {
      this.#size -= this.#entrySize(name, this.working[name]) + (this.count > 1 ? 1 : 0);
    } catch {
      this.#sizeStale = true;
    }
    delete this.working[name];
    if (this.#names) {
      const at = insertionIndex(this.#names, name);
      if (this.#names[at] === name) this.#names.splice(at, 1);
    }
    this.selected.delete(name);
    if (this.revealed === name) this.revealed = null;
    this.#restate(name);
  }

  /** Removes many secrets at once; past a few hundred, the size is measured again as a whole. */
  removeAll(names) {
    this.#unshare();
    if (names.length < 200) {
      for (const name of names) this.remove(name);
      return;
    }
    for (const name of names) {
      if (!own(this.working, name)) continue;
      delete this.working[name];
      this.selected.delete(name);
      if (this.revealed === name) this.revealed = null;
      this.#restateOnly(name);
    }
    this.#names = null;
    this.#size = this.#wholeSize(this.working);
    this.#diff = null;
    this.#shown = null;
    this.revision += 1;
  }

  /** Recomputes the pending status of one name. */
  #restateOnly(name) {
    const inBase = own(this.base, name);
    const inWorking = own(this.working, name);
    this.#status.delete(name);
    this.#removed.delete(name);
    if (inWorking && !inBase) this.#status.set(name, "added");
    else if (inWorking && !sameValue(this.base[name], this.working[name])) this.#status.set(name, "changed");
    else if (!inWorking && inBase) this.#removed.add(name);
  }

  #restate(name) {
    this.#restateOnly(name);
    this.#diff = null;
    this.#shown = null;
    this.revision += 1;
  }

  /** The number of secrets in the working copy. */
  get count() {
    return this.#names ? this.#names.length : this.working ? Object.keys(this.working).length : 0;
  }

  /** Names of the working copy, sorted by code unit (the server's order). Do not change it. */
  get names() {
    if (!this.#names) this.#names = this.working ? sortedNames(this.working) : [];
    return this.#names;
  }

  /** The names the filter lets through, in order; the same array until something changes. */
  get shownNames() {
    const needle = this.filter.trim().toLowerCase();
    const names = this.names;
    if (!this.#shown || this.#shown.names !== names || this.#shown.filter !== needle) {
      const list = needle ? names.filter((n) => n.toLowerCase().includes(needle)) : names;
      this.#shown = { names, filter: needle, list };
    }
    return this.#shown.list;
  }

  /** "added", "changed" or null: what the working copy does to this name. */
  statusOf(name) {
    return this.#status.get(name) || null;
  }

  /** The pending diff from base to working: {added, changed, removed}, each sorted. */
  get diff() {
    if (!this.working) return { added: [], changed: [], removed: [] };
    if (!this.#diff) {
      const added = [];
      const changed = [];
      for (const [name, status] of this.#status) (status === "added" ? added : changed).push(name);
      this.#diff = {
        added: added.sort(byCodeUnit),
        changed: changed.sort(byCodeUnit),
        removed: [...this.#removed].sort(byCodeUnit),
      };
    }
    return this.#diff;
  }

  isDirty() {
    return this.working != null && (this.#status.size > 0 || this.#removed.size > 0);
  }

  /** Bytes of the working copy in compact JSON, or NaN when it cannot be measured. */
  get size() {
    if (this.#sizeStale && this.working) {
      this.#sizeStale = false;
      this.#size = this.#wholeSize(this.working);
    }
    return this.#size;
  }
}
