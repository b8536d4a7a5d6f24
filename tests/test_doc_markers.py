"""The generated sections of README.md and MODEL_CARD.md are refreshed in place."""

from __future__ import annotations

import pytest

from scripts.doc_markers import replace_between_markers

from .conftest import REPO


def test_replaces_only_the_named_section(tmp_path):
    path = tmp_path / "card.md"
    path.write_text("intro\n<!-- a:start -->\nold a\n<!-- a:end -->\nmiddle\n<!-- b:start -->\nold b\n<!-- b:end -->\n")
    replace_between_markers(path, "a", "new a\n")
    assert path.read_text() == ("intro\n<!-- a:start -->\nnew a\n<!-- a:end -->\nmiddle\n"
                                "<!-- b:start -->\nold b\n<!-- b:end -->\n")


@pytest.mark.parametrize("text", ["no markers\n", "<!-- a:start -->\nx\n<!-- a:end -->\n<!-- a:start -->\n"])
def test_missing_or_repeated_markers_are_refused_and_the_file_kept(tmp_path, text):
    path = tmp_path / "card.md"
    path.write_text(text)
    with pytest.raises(ValueError, match="a:start"):
        replace_between_markers(path, "a", "new\n")
    assert path.read_text() == text


@pytest.mark.parametrize(("document", "name"), [("README.md", "quality"), ("README.md", "expression-loss"),
                                                ("checkpoints/MODEL_CARD.md", "summary"),
                                                ("checkpoints/MODEL_CARD.md", "classifier")])
def test_the_shipped_documents_have_the_sections_the_scripts_fill(document, name):
    text = (REPO / document).read_text()
    assert text.count(f"<!-- {name}:start -->\n") == 1 and text.count(f"<!-- {name}:end -->") == 1
