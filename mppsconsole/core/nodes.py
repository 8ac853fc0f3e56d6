"""Where an SCU operation goes: ``HOST:PORT`` or the name of a configured node."""

from __future__ import annotations

import dataclasses

from mppsconsole.core.errors import InputError
from mppsconsole.core.settings import DEFAULT_CALLED_AE, Node, Settings, valid_ae_title


def destination(text: str, settings: Settings, called_ae: str | None = None) -> Node:
    """The node named ``text`` in the settings, or ``HOST:PORT`` (called AE ``ANY-SCP``).

    ``called_ae`` (``--aec``) overrides the AE title either way.
    """
    if called_ae is not None and not valid_ae_title(called_ae):
        raise InputError(f"invalid called AE title {called_ae!r} (1-16 characters, no backslash)")
    node = settings.node(text)
    if node is None:
        host, sep, port_text = text.strip().rpartition(":")
        if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
            names = ", ".join(n.name for n in settings.nodes) or "none configured"
            raise InputError(f"--to {text!r}: expected HOST:PORT or a node name ({names})")
        node = Node(
            name=text, ae_title=DEFAULT_CALLED_AE, host=host.strip("[]"), port=int(port_text)
        )
    if called_ae:
        node = dataclasses.replace(node, ae_title=called_ae)
    return node
