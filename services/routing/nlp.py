"""TEMPORARY alias, to drop when merging: c321abe moved this module to classification/text.py
without updating its importers (the router's work owns that move); this keeps routing importable
so this branch's tests can run."""

from services.routing.classification.text import *  # noqa: F403
