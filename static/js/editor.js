// The lab page's code field (templates/labs/lab_detail.html). Where the browser can run it, CodeMirror
// (static/vendor/codemirror/editor.min.js, built from assets/editor) edits the textarea, which stays the
// form field; elsewhere the textarea itself. Both get "Reset to starter code", "Download", and the
// learner's unsent draft kept in this browser per learner and lab. Without JavaScript the textarea
// alone submits the form. Every visible word comes from the template (translated there).
(function () {
  "use strict";
  var field = document.getElementById("code-field");
  if (!field) return;
  var data = field.dataset;
  var textarea = field.querySelector("textarea");
  var starter = JSON.parse(document.getElementById("starter-code").textContent);
  var notice = field.querySelector(".editor-notice");
  var hint = document.getElementById("editor-hint");

  var phrases = {};
  document.querySelectorAll("#editor-phrases [data-phrase]").forEach(function (li) {
    phrases[li.dataset.phrase] = li.textContent;
  });
  // Described by the hint and, after a refused submission, by the field's errors (Django's aria-describedby).
  var editor = window.AcademyEditor
    ? window.AcademyEditor.attach(textarea, {
      labelledBy: textarea.id + "_label",
      describedBy: [hint.id, textarea.getAttribute("aria-describedby")].filter(Boolean).join(" "),
      phrases: phrases
    })
    : null;
  hint.hidden = !editor;
  field.querySelector(".editor-tools").hidden = false;

  function getValue() { return editor ? editor.getValue() : textarea.value; }
  function setValue(text) {
    if (editor) {
      editor.setValue(text);  // one undoable change (Ctrl-Z); it updates the textarea
    } else {
      textarea.value = text;
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }
  }
  function focus() { if (editor) editor.focus(); else textarea.focus(); }

  // --- Reset and download ----------------------------------------------------------------------
  field.querySelector("[data-action=reset]").addEventListener("click", function () {
    if (getValue() !== starter && !window.confirm(data.confirmReset)) return;
    setValue(starter);
    focus();
  });
  field.querySelector("[data-action=download]").addEventListener("click", function () {
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([getValue()], { type: "text/x-python" }));
    link.download = data.downloadName;
    document.body.appendChild(link);
    link.click();
    link.remove();
    window.setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
  });

  // --- The unsent draft ------------------------------------------------------------------------
  // Kept under a key per learner and lab, only while it differs from what the page loaded with (the
  // last submission or the starter code): a submitted draft becomes that text and is dropped on the
  // next visit. "base" fingerprints the text the draft grew from: when the server's text has changed
  // since (a submission from the client or the API), the draft is offered, not put over it.
  var initial = textarea.value;
  var base = fingerprint(initial);
  var saveTimer = null;

  function fingerprint(text) {  // FNV-1a, 32 bits: enough to tell two versions of one file apart
    var h = 0x811c9dc5;
    for (var i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return text.length + ":" + h.toString(16);
  }
  function readDraft() {
    try {
      var draft = JSON.parse(window.localStorage.getItem(data.draftKey));
      return draft && typeof draft.code === "string" ? draft : null;
    } catch (err) {
      return null;  // storage disabled or a stray value: no draft
    }
  }
  function saveDraft() {
    window.clearTimeout(saveTimer);
    saveTimer = null;
    try {
      var code = getValue();
      if (code === initial) window.localStorage.removeItem(data.draftKey);
      else window.localStorage.setItem(data.draftKey, JSON.stringify({ code: code, base: base, saved: Date.now() }));
    } catch (err) {
      // storage full or disabled (private browsing): the page works as without drafts
    }
  }
  function showNotice(text, action, onAction) {
    notice.firstElementChild.textContent = text;
    var button = notice.querySelector("button");
    button.textContent = action;
    button.onclick = function () {
      notice.hidden = true;
      onAction();
    };
    notice.hidden = false;
  }

  var draft = readDraft();
  if (draft && draft.code === initial) {
    saveDraft();  // the server has it now
  } else if (draft && draft.base === base) {
    setValue(draft.code);
    showNotice(data.draftRestored, data.draftUndo, function () { setValue(initial); focus(); });
  } else if (draft) {
    showNotice(data.draftOlder, data.draftRestore, function () { setValue(draft.code); focus(); });
  }

  // Signing out (static/js/signout.js) forgets the drafts: none is saved after it.
  var signedOut = false;
  document.addEventListener("academy:signout", function () {
    signedOut = true;
    window.clearTimeout(saveTimer);
    saveTimer = null;
  });
  textarea.addEventListener("input", function () {
    if (saveTimer === null && !signedOut) saveTimer = window.setTimeout(saveDraft, 300);
  });
  window.addEventListener("pagehide", function () { if (saveTimer !== null) saveDraft(); });
  if (textarea.form) textarea.form.addEventListener("submit", function () { if (saveTimer !== null) saveDraft(); });
})();
