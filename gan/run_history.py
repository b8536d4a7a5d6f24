"""The sittings a run was trained in, for its checkpoints' metadata ("history").

A checkpoint's "command" is the last command that trained it, so a model trained for 11 epochs
and then resumed with `--lambda-ac 3` to epoch 22 looked as if the second command had trained
it all. "history" lists every sitting: [{"command", "from_epoch", "to_epoch", "started"}, ...],
oldest first. Each trainer saves it in its state file too, so the next sitting reads it back and
appends itself. A state saved before this was recorded has only its last command and epoch: it
becomes one sitting whose start is unknown (`from_epoch` and `started` null).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


def sitting_start() -> str:
    """Now, in UTC. To the microsecond: `gan train --interleave` trains each model in one call
    per epoch and passes one start to them all, which is how those calls are told to be one
    sitting (Sitting), and two real sittings must not share it."""
    return datetime.now(timezone.utc).isoformat()


def recorded_sittings(state_meta: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The sittings a saved state records; [] without a state (a new run or --fresh)."""
    if not state_meta:
        return []
    if isinstance(state_meta.get("history"), list):
        return [dict(entry) for entry in state_meta["history"]]
    # An older state: its command is the last sitting's; what came before it is not known.
    entry = {"command": state_meta.get("command"), "from_epoch": None, "to_epoch": state_meta.get("epoch"),
             "started": None}
    if state_meta.get("step"):  # gan train saves part-way through an epoch
        entry["to_step"] = state_meta["step"]
    return [entry]


class Sitting:
    """This run of a trainer: started at (epoch, step) by `command`, after the sittings its
    state records. `history(epoch, step)` is what each checkpoint it saves carries."""

    def __init__(self, state_meta: dict[str, Any] | None, command: str, epoch: int, step: int = 0,
                 started: str | None = None) -> None:
        self.earlier = recorded_sittings(state_meta)
        self.start = {"command": command, "from_epoch": epoch, **({"from_step": step} if step else {})}
        self.started = started or sitting_start()
        last = self.earlier[-1] if self.earlier else None
        if last and last.get("started") == self.started and last.get("command") == command:
            # The same command's next call in the same sitting (--interleave): it goes on, not a new one.
            self.earlier.pop()
            self.start = {k: v for k, v in last.items() if k in ("command", "from_epoch", "from_step")}

    def history(self, epoch: int, step: int = 0) -> list[dict[str, Any]]:
        """Every sitting, oldest first, this one trained to (epoch, step). A sitting that has
        trained nothing yet (a resume of a finished run, say) is left out."""
        if (epoch, step) == (self.start["from_epoch"], self.start.get("from_step", 0)):
            return [dict(entry) for entry in self.earlier]
        now = {**self.start, "to_epoch": epoch, **({"to_step": step} if step else {}), "started": self.started}
        return [*(dict(entry) for entry in self.earlier), now]


def recorded_in(meta: dict[str, Any]) -> dict[str, Any]:
    """The sittings a checkpoint's metadata records, for a summary row or a model card:
    {"history": [...]} and, for a fine-tuning, {"from_history": [...]} (its starting point's);
    {} for a file saved before sittings were recorded."""
    return {key: meta[key] for key in ("history", "from_history") if isinstance(meta.get(key), list)}


def describe_sittings(history: list[dict[str, Any]]) -> str:
    """One line per sitting: 'epochs A-B: `command`' (A '?' where the start is not known)."""
    return "; ".join(f"epochs {'?' if entry.get('from_epoch') is None else entry['from_epoch']}-"
                     f"{entry.get('to_epoch')}: `{entry.get('command')}`" for entry in history)
