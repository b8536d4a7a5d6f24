"""What of the page runs in the browser rather than in Python: its CSS and the
JavaScript of the events that need no server (`app.py` wires them)."""

import json

CSS = """
.gradio-container { max-width: 1280px !important; margin: auto; }
#intro { margin-bottom: 0.5rem; }
/* "Faces found": the thumbnails start below the gallery's label, and each caption shows in full below its face */
#faces-found .grid-wrap { padding-top: 2.6rem; }
/* as many thumbnails a row as fit (Gradio's fixed 4 x 100 px made a phone's page scroll sideways) */
#faces-found .grid-container, #crops .grid-container {
  grid-template-columns: repeat(auto-fill, minmax(88px, 1fr)) !important; }
/* ... and so do "What the generator saw"'s (photo, reconstruction, generated: cut to "Face 2:..." before) */
#faces-found .thumbnail-item, #crops .thumbnail-item { aspect-ratio: auto; height: auto; display: flex;
  flex-direction: column; overflow: visible; }
#faces-found .thumbnail-item img, #crops .thumbnail-item img { aspect-ratio: 1; height: auto; }
#faces-found .caption-label, #crops .caption-label { position: static; max-width: none; white-space: normal;
  overflow: visible; opacity: 1; border: none; background: none; text-align: center; padding: 2px 0 0;
  font-size: var(--text-sm); line-height: 1.2; }
/* a mistake, shown once beside its control until the next action; no room taken without one */
.notice:not(:has(p)) { display: none; }
.notice p { margin: 0; padding: 0.5rem 0.75rem; border-radius: var(--radius-md); color: var(--error-text-color);
  background: var(--error-background-fill); border: 1px solid var(--error-border-color); }
/* the before/after divider, reached with Tab (ACCESSIBLE_CONTROLS), shows that it has the keyboard */
[role=slider][data-divider]:focus-visible { outline: 3px solid var(--color-accent); outline-offset: 2px; }
/* Random faces on a phone: the two columns stack, and the face came below six tall sliders, a screen
   away from New face; first, it shows above the controls that change it */
@media (max-width: 700px) { #random-face-column { order: -1; } }
"""

# Saves the file the hidden download box holds: a link to it, clicked, as a download button does.
SAVE_FILE = """(file) => {
    if (!file || !file.url) return;
    const link = document.createElement("a");
    link.href = file.url;
    link.download = file.orig_name || "";
    document.body.appendChild(link);
    link.click();
    link.remove();
}"""


# Gradio 6 gives the example photos' buttons no name (a thumbnail with alt="") and the before/after
# divider (ImageSlider) no keyboard access at all. Run once when the page loads, and again whenever
# Gradio draws them anew (each edit draws a new divider): each example button gets its label, and
# each divider is made a focusable slider whose arrow keys move it. The divider moves as a drag does
# (a mouse press at the spot, on the handle Gradio's drag listens to), so Gradio keeps its own
# position; aria-valuenow follows the handle, however it was moved.
ACCESSIBLE_CONTROLS = """() => {
    const exampleLabels = __EXAMPLE_LABELS__;
    const dividers = {
        result: "Before/after divider: the original photo on its left, the edit on its right",
        closeup: "Close-up before/after divider: the original faces on its left, the edited on its right",
    };
    const STEP = 5, PAGE = 25;  // percent of the photo's width per arrow key, per Page Up/Down
    const clamp = (value) => Math.max(0, Math.min(100, value));

    function photoBox(handle) {  // where the photo lies across the divider's frame, as Gradio measures it
        const img = handle.parentElement.querySelector("img");
        const frame = img && img.parentElement.getBoundingClientRect();
        if (!img || !img.naturalWidth || !frame.width || !frame.height) return null;
        const ratio = img.naturalWidth / img.naturalHeight;
        const width = ratio > frame.width / frame.height ? frame.width : frame.height * ratio;
        return {left: (frame.width - width) / 2, width};
    }
    function position(handle) {  // the divider's place: 0 (left edge of the photo) to 100 (right edge)
        const box = photoBox(handle);
        const x = parseFloat((handle.style.transform.match(/translateX\\(([-\\d.e]+)px\\)/) || [])[1]);
        return box && !isNaN(x) ? Math.round(clamp((x - box.left) / box.width * 100)) : 50;
    }
    function moveTo(handle, percent) {
        const box = photoBox(handle);
        if (!box) return;
        const frame = handle.parentElement.getBoundingClientRect();
        const at = {bubbles: true, cancelable: true, view: window, button: 0,
                    clientX: frame.left + box.left + box.width * percent / 100, clientY: frame.top + frame.height / 2};
        handle.dispatchEvent(new MouseEvent("mousedown", at));
        window.dispatchEvent(new MouseEvent("mouseup", at));
    }
    function tell(handle) {
        const now = position(handle);
        handle.setAttribute("aria-valuenow", now);
        handle.setAttribute("aria-valuetext", `${now}% across: original to the left, edit to the right`);
    }
    function makeDivider(handle, label) {
        handle.dataset.divider = "";
        Object.entries({tabindex: "0", role: "slider", "aria-label": label, "aria-orientation": "horizontal",
                        "aria-valuemin": "0", "aria-valuemax": "100"}).forEach(([k, v]) => handle.setAttribute(k, v));
        tell(handle);
        new MutationObserver(() => tell(handle)).observe(handle, {attributes: true, attributeFilter: ["style"]});
        handle.addEventListener("keydown", (event) => {
            const now = position(handle);
            const to = {ArrowLeft: now - STEP, ArrowDown: now - STEP, ArrowRight: now + STEP, ArrowUp: now + STEP,
                        PageDown: now - PAGE, PageUp: now + PAGE, Home: 0, End: 100}[event.key];
            if (to === undefined) return;
            event.preventDefault();  // not the page's scrolling
            moveTo(handle, clamp(to));
        });
    }
    function improve() {
        document.querySelectorAll("#example-photos button.gallery-item").forEach((button, i) => {
            if (exampleLabels[i] && button.getAttribute("aria-label") !== exampleLabels[i]) {
                button.setAttribute("aria-label", exampleLabels[i]);
                button.title = exampleLabels[i];
            }
        });
        Object.entries(dividers).forEach(([id, label]) => {
            document.querySelectorAll(`#${id} [data-testid=slider]:not([data-divider])`)
                .forEach((handle) => makeDivider(handle, label));
        });
    }
    let queued = false;  // one pass for a burst of changes
    new MutationObserver(() => {
        if (!queued) { queued = true; setTimeout(() => { queued = false; improve(); }, 50); }
    }).observe(document.body, {childList: true, subtree: true});
    improve();
}"""


def accessible_controls(example_labels: list[str]) -> str:
    """ACCESSIBLE_CONTROLS for a page whose example photos' buttons, in order, are named `example_labels`."""
    return ACCESSIBLE_CONTROLS.replace("__EXAMPLE_LABELS__", json.dumps(example_labels))


# On a phone the page is one column and the result lies a screen or more below the Edit button, so
# an edit's progress (shown on the result) went unseen: Edit brings the result into view when it is
# off the screen, and leaves a desktop's side-by-side page where it is.
SHOW_RESULT = """() => {
    const result = document.getElementById("result");
    if (result) {
        const box = result.getBoundingClientRect();
        if (box.top >= window.innerHeight || box.bottom <= 0) result.scrollIntoView({block: "start"});
    }
    return [];
}"""


def cleared(notices: int, files: int = 0) -> str:
    """The JavaScript of an event that empties `notices` notices, then `files` file boxes, at once
    in the browser (its outputs in that order)."""
    return "() => [" + ", ".join(["''"] * notices + ["null"] * files) + "]"
