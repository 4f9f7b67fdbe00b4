"""A graph that follows a prompt by label (``greeting@production``) gets a new release when that label moves.

Every release label whose release resolved ``name@label`` to another version is moved to a new release of
the same graph version with the prompt's new version: recorded as a move for that reason, with the prompt
change in the release's ``cause``, never a silent change of what a release runs. The move goes through
``release_label_move``, so it needs the same role as any other move of that label (and will pass the
eval gate in front of production).
"""
from __future__ import annotations

from typing import Any

from backend.graphs.models import Prompt, PromptVersion
from backend.graphs.signals import prompt_label_moved

from .models import LabelMove, Release, ReleaseLabel
from .services import release_for_version, release_label_move


def follow_prompt_label(*, prompt: Prompt, label: str, before: PromptVersion | None, after: PromptVersion,
                        user: Any, **_: Any) -> list[LabelMove]:
    ref = f"{prompt.name}@{label}"
    pinned = f"{prompt.name}@{after.number}"
    following = (ReleaseLabel.objects.filter(graph__workspace_id=prompt.workspace_id, release__prompts__has_key=ref)
                 .select_related("graph__workspace", "release__version__graph__workspace").order_by("graph_id", "name"))
    moves = []
    for pointer in following:
        if pointer.release.prompts.get(ref) == pinned:
            continue
        cause = {"prompt": prompt.name, "label": label, "from": before.number if before else None,
                 "to": after.number}
        note = f"{ref} moved from version {cause['from']} to {after.number}"
        release = release_for_version(user=user, version=pointer.release.version, note=note,
                                      reason=Release.Reason.PROMPT_LABEL_MOVED, cause=cause)
        move = release_label_move(user=user, graph=pointer.graph, label=pointer.name, release=release, note=note,
                                  reason=LabelMove.Reason.PROMPT_LABEL_MOVED)
        if move is not None:
            moves.append(move)
    return moves


def _on_prompt_label_moved(sender: Any, **kwargs: Any) -> None:
    follow_prompt_label(**kwargs)


prompt_label_moved.connect(_on_prompt_label_moved, dispatch_uid="releases.follow_prompt_label")
