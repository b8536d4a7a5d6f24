"""What of the page runs in the browser rather than in Python: its CSS and the
JavaScript of the events that need no server (`app.py` wires them)."""

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


def cleared(notices: int, files: int = 0) -> str:
    """The JavaScript of an event that empties `notices` notices, then `files` file boxes, at once
    in the browser (its outputs in that order)."""
    return "() => [" + ", ".join(["''"] * notices + ["null"] * files) + "]"
