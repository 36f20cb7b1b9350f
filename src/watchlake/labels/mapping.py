"""The raw-label -> activity-class mapping (``conf/labels.yaml``) and the normalisation applied before lookup.

The same normalisation exists twice, as a Python function for the mapping's keys and as a Spark column expression
for the data; both use the same regular expressions (ASCII classes only, so Java and Python agree).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml
from pyspark.sql import Column
from pyspark.sql import functions as F

from watchlake.errors import ConfigError

log = logging.getLogger(__name__)

# Runs of whitespace and punctuation become one "_"; the class is written so Java and Python read it alike.
SEPARATORS = r"[\s\-_/,.;:'\"()&+!?]+"
EDGE_UNDERSCORES = r"^_+|_+$"
START_END_SUFFIX = r"_(start|end)$"


def normalise_label(raw: str) -> str:
    """The lookup key of a raw label: lower-case, trimmed, separators -> "_", ``_start``/``_end`` removed."""
    text = re.sub(SEPARATORS, "_", raw.strip().lower())
    text = re.sub(EDGE_UNDERSCORES, "", text)
    text = re.sub(START_END_SUFFIX, "", text)
    return re.sub(EDGE_UNDERSCORES, "", text)


def normalised_label_col(raw: Column) -> Column:
    """Spark twin of :func:`normalise_label`; null stays null."""
    text = F.regexp_replace(F.lower(F.trim(raw)), SEPARATORS, "_")
    text = F.regexp_replace(text, EDGE_UNDERSCORES, "")
    text = F.regexp_replace(text, START_END_SUFFIX, "")
    return F.regexp_replace(text, EDGE_UNDERSCORES, "")


@dataclass(frozen=True)
class LabelMapping:
    """Canonical classes (without the ignore class), the ignore class, and normalised raw label -> class."""

    classes: tuple[str, ...]
    ignore: str
    lookup: dict[str, str]

    def class_of(self, raw: str | None) -> str | None:
        """The class of one raw label: None for a missing label, the ignore class for an unknown one."""
        if raw is None or not raw.strip():
            return None
        return self.lookup.get(normalise_label(raw), self.ignore)

    def class_col(self, raw: Column) -> Column:
        """Spark twin of :meth:`class_of`: null for null/blank, the ignore class for unknown labels."""
        pairs = [F.lit(part) for key, value in sorted(self.lookup.items()) for part in (key, value)]
        key = normalised_label_col(raw)
        found = F.try_element_at(F.create_map(*pairs), key)
        blank = raw.isNull() | (F.trim(raw) == "")
        return F.when(blank, F.lit(None).cast("string")).otherwise(F.coalesce(found, F.lit(self.ignore)))

    def known_col(self, raw: Column) -> Column:
        """True when the normalised raw label is a key of the mapping (null for null labels)."""
        return normalised_label_col(raw).isin(list(self.lookup))


def load_mapping(path: str = "") -> LabelMapping:
    """Read and validate a mapping file; ``path`` empty means the packaged ``conf/labels.yaml``.

    Raises :class:`ConfigError` for an unreadable file, a class not declared, or a raw label given two classes.
    """
    source = Path(path) if path else Path(str(resources.files("watchlake") / "conf" / "labels.yaml"))
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"labels.mapping_file: cannot read {source}: {error}") from None
    classes = tuple(str(name) for name in data.get("classes", []))
    ignore = str(data.get("ignore", "Ignore"))
    if not classes:
        raise ConfigError(f"labels.mapping_file: {source} declares no classes")
    lookup: dict[str, str] = {}
    for target, raws in (data.get("mapping") or {}).items():
        if target not in (*classes, ignore):
            raise ConfigError(f"labels.mapping_file: {source} maps to undeclared class {target!r}")
        for raw in [target, *raws]:
            key = normalise_label(str(raw))
            if lookup.get(key, target) != target:
                raise ConfigError(
                    f"labels.mapping_file: {source}: {raw!r} maps to both {lookup[key]!r} and {target!r}"
                )
            lookup[key] = target
    log.debug("label mapping %s: %d raw labels -> %d classes", source, len(lookup), len(classes))
    return LabelMapping(classes=classes, ignore=ignore, lookup=lookup)
