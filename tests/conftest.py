"""Test session settings.

Property tests draw new random examples on every run where ``CI`` is unset, so that
local runs keep exploring; under ``CI`` (the clean-clone run of ``.ci/run``) they draw
the same examples every time (Hypothesis ``derandomize``), so that whether a commit
lands does not depend on the luck of the draw. An example a local run finds is added
to its test with ``@example``.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
