// The lab page's code editor: CodeMirror 6 over a form's <textarea>, which stays the form field.
// Built into static/vendor/codemirror/editor.min.js by build.mjs (`make editor`); the page's own
// behaviour (reset, download, drafts) lives in static/js/editor.js and uses only this small API:
//
//   AcademyEditor.supported()                 -> can this browser style the editor under our CSP?
//   AcademyEditor.attach(textarea, options)   -> an editor handle, or null where not supported
//   AcademyEditor.find(textarea)              -> the handle attached to that textarea, or null
//
// options: labelledBy, describedBy (element ids for the content's aria attributes), phrases (the
// editor's own UI strings, translated: https://codemirror.net/examples/translate/), theme ("auto",
// "light" or "dark"; auto follows prefers-color-scheme).
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap, indentLess, indentMore } from "@codemirror/commands";
import { python } from "@codemirror/lang-python";
import {
  bracketMatching,
  defaultHighlightStyle,
  getIndentUnit,
  HighlightStyle,
  indentOnInput,
  indentUnit,
  syntaxHighlighting,
} from "@codemirror/language";
import { highlightSelectionMatches, searchKeymap } from "@codemirror/search";
import { Compartment, EditorSelection, EditorState, countColumn } from "@codemirror/state";
import { oneDarkHighlightStyle, oneDarkTheme } from "@codemirror/theme-one-dark";
import {
  drawSelection,
  dropCursor,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
} from "@codemirror/view";
import { tags } from "@lezer/highlight";

const handles = new WeakMap();

// Tab: with a selection, indent its lines; with a cursor, insert spaces up to the next indent stop
// (a literal tab character would mix tabs and spaces in Python). Shift-Tab dedents. Escape, then Tab,
// still moves focus out of the editor: CodeMirror's tab-focus escape hatch (and Ctrl-M toggles it).
function indentOrInsertSpaces(view) {
  const { state } = view;
  if (state.selection.ranges.some((r) => !r.empty)) return indentMore(view);
  const unit = getIndentUnit(state);
  view.dispatch(
    state.changeByRange((range) => {
      const line = state.doc.lineAt(range.head);
      const column = countColumn(line.text.slice(0, range.head - line.from), state.tabSize);
      const spaces = " ".repeat(unit - (column % unit));
      return {
        changes: { from: range.head, insert: spaces },
        range: EditorSelection.cursor(range.head + spaces.length),
      };
    }),
    { scrollIntoView: true, userEvent: "input.indent" },
  );
  return true;
}

// Site colours (static/css/app.css) for the light editor.
const lightTheme = EditorView.theme(
  {
    "&": { color: "#1d2430", backgroundColor: "#fff" },
    ".cm-gutters": { backgroundColor: "#f6f7fb", color: "#5b6576", borderRight: "1px solid #dde1ea" },
    ".cm-activeLine": { backgroundColor: "#f1f5ff" },
    ".cm-activeLineGutter": { backgroundColor: "#e3e9fb", color: "#1d2430" },
    ".cm-panels": { backgroundColor: "#f6f7fb", color: "#1d2430" },
  },
  { dark: false },
);

// One Dark, with its grey ("stone") lifted to 4.5:1 against the background for comments and line numbers.
const readableStone = "#9aa2b1";
const darkHighlightStyle = HighlightStyle.define(
  oneDarkHighlightStyle.specs.map((spec) => {
    const tagList = Array.isArray(spec.tag) ? spec.tag : [spec.tag];
    return tagList.includes(tags.comment) ? { ...spec, color: readableStone } : spec;
  }),
);
const darkTheme = [
  oneDarkTheme,
  EditorView.theme({ ".cm-gutterElement": { color: readableStone } }, { dark: true }),
  syntaxHighlighting(darkHighlightStyle),
];
const light = [lightTheme, syntaxHighlighting(defaultHighlightStyle)];

// Both themes: the editor's frame, the keyboard focus ring and form controls in the search panel
// large enough that iOS does not zoom on focus.
const baseTheme = EditorView.baseTheme({
  "&": { border: "1px solid #dde1ea", borderRadius: "6px" },
  "&.cm-focused": { outline: "3px solid #3153d4", outlineOffset: "1px" },
  ".cm-scroller": { fontFamily: 'ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace' },
  ".cm-panel.cm-search input, .cm-panel.cm-search button": { fontSize: "16px" },
});

function prefersDark() {
  return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
}

function themeFor(name) {
  const dark = name === "dark" || (name !== "light" && prefersDark());
  return dark ? darkTheme : light;
}

export function supported() {
  // CodeMirror injects its styles at run time. Our Content-Security-Policy (style-src 'self') blocks a
  // <style> element, so the bundle uses a constructed style sheet (build.mjs); without one, no editor.
  try {
    return "adoptedStyleSheets" in Document.prototype && Boolean(new CSSStyleSheet());
  } catch (error) {
    return false;
  }
}

export function attach(textarea, options = {}) {
  if (handles.has(textarea)) return handles.get(textarea);
  if (!supported()) return null;
  const theme = new Compartment();
  const themeName = options.theme || "auto";
  const contentAttributes = { "aria-multiline": "true" };
  if (options.labelledBy) contentAttributes["aria-labelledby"] = options.labelledBy;
  if (options.describedBy) contentAttributes["aria-describedby"] = options.describedBy;

  const sync = EditorView.updateListener.of((update) => {
    if (!update.docChanged) return;
    textarea.value = update.state.doc.toString();
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  });

  const view = new EditorView({
    doc: textarea.value,
    extensions: [
      lineNumbers(),
      highlightActiveLineGutter(),
      highlightSpecialChars(),
      history(),
      drawSelection(),
      dropCursor(),
      indentOnInput(),
      bracketMatching(),
      closeBrackets(),
      autocompletion({ activateOnTyping: false }), // Ctrl-Space: a popup while typing would take Enter
      highlightActiveLine(),
      highlightSelectionMatches(),
      python(),
      indentUnit.of("    "),
      EditorState.tabSize.of(4),
      EditorState.phrases.of(options.phrases || {}),
      keymap.of([
        ...closeBracketsKeymap,
        ...defaultKeymap,
        ...searchKeymap,
        ...historyKeymap,
        ...completionKeymap,
        { key: "Tab", run: indentOrInsertSpaces, shift: indentLess },
      ]),
      EditorView.contentAttributes.of(contentAttributes),
      baseTheme,
      theme.of(themeFor(themeName)),
      sync,
    ],
  });
  textarea.parentNode.insertBefore(view.dom, textarea.nextSibling);
  textarea.hidden = true;
  if (textarea.form) {
    textarea.form.addEventListener("submit", () => {
      textarea.value = view.state.doc.toString();
    });
  }
  if (textarea.id) {
    for (const label of document.querySelectorAll(`label[for="${CSS.escape(textarea.id)}"]`)) {
      label.addEventListener("click", (event) => {
        event.preventDefault();
        view.focus();
      });
    }
  }
  if (themeName === "auto" && window.matchMedia) {
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
      view.dispatch({ effects: theme.reconfigure(themeFor(themeName)) });
    });
  }

  const handle = {
    view,
    getValue: () => view.state.doc.toString(),
    // One undoable change (Ctrl-Z brings the previous text back).
    setValue(text) {
      view.dispatch({
        changes: { from: 0, to: view.state.doc.length, insert: text },
        selection: { anchor: 0 },
        scrollIntoView: true,
        userEvent: "input.replace",
      });
    },
    focus: () => view.focus(),
  };
  handles.set(textarea, handle);
  return handle;
}

export function find(textarea) {
  return handles.get(textarea) || null;
}
