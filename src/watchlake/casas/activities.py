"""Activity classes of the sample generator: class balance, raw label variants and per-class sensor signatures.

Each canonical CASAS class gets a distinct but noisy motion and location signature, varied per participant and
per segment, so 60-s window features separate the classes well but not perfectly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Share of time per class, after the class balance of the larger ArWISE data (casas-format.md).
CLASS_BALANCE: dict[str, float] = {
    "Relax": 0.38,
    "Housework": 0.20,
    "Work": 0.09,
    "Mealtime": 0.065,
    "Travel": 0.06,
    "Exercise": 0.05,
    "Socialize": 0.04,
    "Errands": 0.04,
    "Other": 0.03,
    "Sleep": 0.03,
    "Hygiene": 0.02,
    "Hobby": 0.01,
}
CLASSES: tuple[str, ...] = tuple(CLASS_BALANCE)

# Raw label strings the generator writes for each class: case, spaces, _start/_end, a comma (quoted in the CSV).
# conf/labels.yaml must map every one of them to its class.
RAW_LABELS: dict[str, list[str]] = {
    "Relax": ["Relax", "relax", "Watch TV", "Relax_start", "Entertainment"],
    "Housework": ["Housework", "housework", "Chores", "Cook_start", "Cook_end"],
    "Work": ["Work", "work", "Computer", "Work_end"],
    "Mealtime": ["Eat", "Eat, drink", "Lunch", "eat"],
    "Travel": ["Travel", "Drive", "Car", "Bus"],
    "Exercise": ["Exercise", "walk", "Walk", "Sport", "Biking"],
    "Socialize": ["Socialize", "socialize", "Church"],
    "Errands": ["Errands", "Shop", "Service"],
    "Other": ["Other", "other"],
    "Sleep": ["Sleep", "sleep", "Sleep_start"],
    "Hygiene": ["Hygiene", "Groom", "Bathe", "Dress"],
    "Hobby": ["Hobby", "Art", "Music"],
}

PLACES: tuple[str, ...] = ("house", "work", "store", "restaurant", "road", "attraction", "other")


@dataclass(frozen=True)
class Signature:
    """How one class looks to the watch: acceleration (g), rotation (rad/s), orientation (rad), speed (m/s)."""

    acc_sd: float
    rot_sd: float
    freq_hz: float  # dominant arm-movement frequency; 0 = none
    amp: float  # amplitude of that periodic movement in g
    pitch: float
    roll: float
    orient_sd: float
    speed: float
    speed_sd: float
    places: tuple[str, ...]  # where it happens; the first is the most likely


SIGNATURES: dict[str, Signature] = {
    "Relax": Signature(0.012, 0.06, 0.0, 0.0, -0.25, 0.35, 0.10, 0.0, 0.15, ("house",)),
    "Housework": Signature(0.10, 0.55, 1.1, 0.10, -0.55, 0.10, 0.35, 0.3, 0.3, ("house",)),
    "Work": Signature(0.02, 0.14, 4.0, 0.01, -0.75, 0.05, 0.12, 0.0, 0.15, ("work", "house")),
    "Mealtime": Signature(0.04, 0.35, 0.4, 0.06, 0.45, 0.40, 0.40, 0.0, 0.2, ("house", "restaurant")),
    "Travel": Signature(0.045, 0.10, 0.0, 0.0, -0.35, -0.35, 0.15, 14.0, 5.0, ("road",)),
    "Exercise": Signature(0.30, 1.60, 2.6, 0.45, -1.00, 0.20, 0.45, 2.6, 0.8, ("other", "attraction")),
    "Socialize": Signature(0.035, 0.30, 0.0, 0.0, -0.10, 0.60, 0.30, 0.2, 0.3, ("house", "restaurant")),
    "Errands": Signature(0.12, 0.70, 1.8, 0.18, -1.20, 0.05, 0.25, 0.9, 0.4, ("store", "road")),
    "Other": Signature(0.06, 0.40, 0.9, 0.04, -0.40, 0.00, 0.45, 0.5, 0.6, ("other", "house")),
    "Sleep": Signature(0.004, 0.015, 0.0, 0.0, 0.05, 1.35, 0.08, 0.0, 0.1, ("house",)),
    "Hygiene": Signature(0.08, 0.90, 3.2, 0.12, 0.85, -0.30, 0.30, 0.1, 0.2, ("house",)),
    "Hobby": Signature(0.05, 0.45, 0.7, 0.05, -0.15, -0.55, 0.25, 0.1, 0.2, ("house", "attraction")),
}
_NUMERIC = ("acc_sd", "rot_sd", "freq_hz", "amp", "pitch", "roll", "orient_sd")
# The watch lying on its charger.
CHARGING = Signature(0.002, 0.005, 0.0, 0.0, 0.0, 0.0, 0.01, 0.0, 0.05, ("house",))


def draw_segments(rng: np.random.Generator, rows: int, breaks: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Split ``rows`` rows into activity segments of 3-20 minutes, also cut at every index in ``breaks``.

    Returns (starts, class codes) with codes indexing :data:`CLASSES`; classes follow a per-participant
    perturbation of :data:`CLASS_BALANCE`.
    """
    balance = np.array(list(CLASS_BALANCE.values()))
    weights = rng.dirichlet(balance * 60)
    starts = [0]
    while starts[-1] < rows:
        starts.append(starts[-1] + int(rng.integers(1800, 12_000)))
    cut = sorted({*starts[:-1], *(b for b in breaks if 0 < b < rows)})
    codes = rng.choice(len(CLASSES), size=len(cut), p=weights)
    return np.array(cut, dtype=np.int64), codes


def _per_row(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    return np.repeat(values, lengths)


def motion(
    rng: np.random.Generator, starts: np.ndarray, signatures: list[Signature], rows: int
) -> np.ndarray:
    """Motion values of ``rows`` rows, shape (rows, 9): yaw, pitch, roll, rotation x/y/z, acceleration x/y/z.

    ``signatures`` holds one signature per segment. Per-participant and per-segment scale factors blur the classes.
    """
    lengths = np.diff(np.append(starts, rows))
    segments = len(starts)
    scale = rng.lognormal(0.0, 0.2) * rng.lognormal(0.0, 0.25, segments)
    tilt = rng.normal(0.0, 0.15, 2)
    field = {name: np.array([getattr(sig, name) for sig in signatures]) for name in _NUMERIC}
    acc_sd = _per_row(field["acc_sd"] * scale, lengths)[:, None]
    rot_sd = _per_row(field["rot_sd"] * scale, lengths)[:, None]
    amp = _per_row(field["amp"] * scale, lengths)[:, None]
    freq = _per_row(field["freq_hz"] * rng.normal(1.0, 0.08, segments), lengths)
    phase = 2 * np.pi * freq * (np.arange(rows) * 0.1) + rng.uniform(0, 2 * np.pi)
    wave = np.stack([np.sin(phase), np.sin(phase + 1.3), np.cos(phase)], axis=1)
    values = np.empty((rows, 9))
    orient_sd = _per_row(field["orient_sd"], lengths)
    heading = _per_row(rng.uniform(-np.pi, np.pi, segments), lengths)
    values[:, 0] = np.angle(np.exp(1j * (heading + rng.normal(0.0, 1.0, rows) * orient_sd)))
    values[:, 1] = _per_row(field["pitch"] + tilt[0], lengths) + orient_sd * rng.standard_normal(rows)
    values[:, 1] += 0.3 * amp[:, 0] * wave[:, 0]
    values[:, 1] = np.clip(values[:, 1], -np.pi / 2, np.pi / 2)
    values[:, 2] = _per_row(field["roll"] + tilt[1], lengths) + orient_sd * rng.standard_normal(rows)
    values[:, 3:6] = rot_sd * rng.standard_normal((rows, 3)) + 4.0 * amp * wave[:, [2, 0, 1]]
    values[:, 6:9] = acc_sd * rng.standard_normal((rows, 3)) + amp * wave * np.array([1.0, 0.6, 0.4])
    return values


@dataclass(frozen=True)
class Fixes:
    """Location readings at some rows: ``rows`` indexes the fix rows, ``values`` is (fixes, 7), ``places`` names."""

    rows: np.ndarray
    values: np.ndarray
    places: list[str]


def location_fixes(
    rng: np.random.Generator, fix_rows: np.ndarray, signatures: list[Signature], homes: np.ndarray
) -> Fixes:
    """Location fields at each fix row: lat/lon distance from mean (deg), altitude (m), course, speed, accuracies.

    ``signatures`` holds the signature of each fix row's activity; ``homes`` is (len(PLACES), 3) per participant.
    """
    count = len(fix_rows)
    places = [sig.places[0] if rng.random() < 0.75 else str(rng.choice(sig.places)) for sig in signatures]
    where = homes[[PLACES.index(place) for place in places]]
    speed = np.array([max(0.0, rng.normal(sig.speed, sig.speed_sd)) for sig in signatures])
    moving = speed > 1.0
    values = np.empty((count, 7))
    values[:, 0:2] = (
        where[:, 0:2]
        + rng.normal(0.0, 0.0003, (count, 2))
        + moving[:, None] * rng.normal(0.0, 0.01, (count, 2))
    )
    # GPS altitude, course and speed come with few decimals; the distances from the mean are computed doubles.
    values[:, 2] = np.round(where[:, 2] + rng.normal(0.0, 3.0, count), 2)
    values[:, 3] = np.where(moving, np.round(rng.uniform(0.0, 360.0, count), 2), -1.0)
    values[:, 4] = np.round(np.where(speed < 0.05, 0.0, speed), 2)
    values[:, 5] = rng.choice([5.0, 10.0, 16.0, 32.0, 65.0], count)
    values[:, 6] = np.round(rng.uniform(3.0, 24.0, count), 1)
    # Reverse geocoding returns varied case.
    names = [place.capitalize() if rng.random() < 0.1 else place for place in places]
    return Fixes(fix_rows, values, names)


def homes_of(rng: np.random.Generator) -> np.ndarray:
    """Per-participant place coordinates: (len(PLACES), 3) lat/lon degrees from the mean and altitude metres."""
    return np.column_stack(
        [
            rng.normal(0.0, 0.02, len(PLACES)),
            rng.normal(0.0, 0.02, len(PLACES)),
            rng.normal(0, 15, len(PLACES)),
        ]
    )
