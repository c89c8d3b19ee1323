"""Identifiers.

Run ids are 32 random hex characters (128 bits): unique without coordination, so any process
on any host can create runs, and distinct from their first characters, so the short form
users see and type (any unique prefix, 8 characters shown) tells runs apart at a glance.
"""

from __future__ import annotations

import os
import re

RUN_ID_LENGTH = 32
_HEX = re.compile(r"[0-9a-f]+\Z")


def new_run_id() -> str:
    """A fresh run id."""
    return os.urandom(16).hex()


def is_id_prefix(text: str) -> bool:
    """True when ``text`` could be a run id or a prefix of one."""
    return 0 < len(text) <= RUN_ID_LENGTH and _HEX.match(text) is not None
