"""The priority model: criteria, indicators, normalisation, weights, gates and bands.

Data, not code: a model is a JSON document (stored versioned in ``priority_models``) that this
module checks and turns into scores. Defaults follow docs/domain.md §4.7 (GICHD briefs: 2-5
indicators per criterion, gates are pass/fail, not weights).

Every indicator is a raw value computed set-based in PostGIS (``api.services.priorities``) and
normalised to 0..1 by one of:

* ``cap``: ``min(value / cap, 1)`` (e.g. 3 or more accidents = 1);
* ``log_cap``: ``min(ln(1 + value) / ln(1 + cap), 1)`` (population: diminishing returns);
* ``inverse_cap``: ``1 - min(value / cap, 1)`` (area: a smaller task is more feasible);
* ``identity``: the value is already 0..1 (threat class, evidence class).

A criterion's score is the mean of its indicators' normalised values; the hazard's score is
``100 * sum(weight * criterion score) / sum(weights)``. Normalisation uses fixed caps rather
than the data's min and max, so one hazard's score does not move when another hazard changes
(Ukraine's anti-manipulation concern) and every number in the explanation can be checked by
hand.
"""

import math
from typing import Any

# The raw indicators computed for every hazard (name -> what it measures).
INDICATORS: dict[str, str] = {
    "accidents_1km_24m": "accidents within 1 km in the last 24 months",
    "threat_class": "most dangerous contamination (AP mine, IED, booby trap 1.0; CMR 0.8; AV mine 0.6; UXO 0.4; AXO/other 0.3)",
    "evidence_class": "classification (CHA 1.0, SHA 0.5)",
    "population_1km": "people living within 1 km",
    "facilities_500m": "schools, health facilities and water points within 500 m",
    "roads_50m": "roads or tracks within 50 m",
    "blocked_land_uses": "distinct land uses blocked (reported, or mapped land use inside the area)",
    "area_m2": "hazard area, m²",
    "development_requests": "requests or plans for the land (not yet recorded: 0)",
}
NORMALISATIONS = ("cap", "log_cap", "inverse_cap", "identity")
GATES = {
    "security_exclusion": "the hazard touches an active security exclusion zone",
    "do_no_harm": "a coordinator flagged a do-no-harm concern (e.g. a land dispute)",
}
BANDS = ("high", "medium", "low")
# How an explanation names a counted indicator that adds to a score: (one, several).
REASONS: dict[str, tuple[str, str]] = {
    "accidents_1km_24m": (
        "{n} accident within 1 km in the last 24 months",
        "{n} accidents within 1 km in the last 24 months",
    ),
    "population_1km": ("{n} person within 1 km", "{n} people within 1 km"),
    "facilities_500m": (
        "{n} school, health post or water point within 500 m",
        "{n} schools, health posts or water points within 500 m",
    ),
    "roads_50m": ("{n} road or track within 50 m", "{n} roads or tracks within 50 m"),
    "blocked_land_uses": ("{n} land use blocked", "{n} land uses blocked"),
    "development_requests": ("{n} request for the land", "{n} requests for the land"),
}

DEFAULT_MODEL: dict[str, Any] = {
    "criteria": {
        "threat_to_life": {
            "weight": 0.30,
            "indicators": {
                "accidents_1km_24m": {"normalise": "cap", "cap": 3},
                "threat_class": {"normalise": "identity"},
                "evidence_class": {"normalise": "identity"},
            },
        },
        "exposure": {
            "weight": 0.20,
            "indicators": {
                "population_1km": {"normalise": "log_cap", "cap": 5000},
                "facilities_500m": {"normalise": "cap", "cap": 3},
                "roads_50m": {"normalise": "cap", "cap": 1},
            },
        },
        "socio_economic_blockage": {
            "weight": 0.25,
            "indicators": {"blocked_land_uses": {"normalise": "cap", "cap": 3}},
        },
        "feasibility": {
            "weight": 0.15,
            "indicators": {"area_m2": {"normalise": "inverse_cap", "cap": 500_000}},
        },
        "development_linkage": {
            "weight": 0.10,
            "indicators": {"development_requests": {"normalise": "cap", "cap": 1}},
        },
    },
    "gates": ["security_exclusion", "do_no_harm"],
    "bands": {"high": 60, "medium": 30},
}


class ModelError(ValueError):
    """A model document is not valid; ``pointer`` says where."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(f"{pointer}: {message}")
        self.pointer = pointer
        self.message = message


def validate(model: dict[str, Any]) -> dict[str, Any]:
    """Check a model document; returns it normalised (floats, known names only)."""
    if not isinstance(model, dict) or not isinstance(model.get("criteria"), dict):
        raise ModelError("/criteria", "a model has criteria")
    criteria: dict[str, dict[str, Any]] = {}
    for name, spec in model["criteria"].items():
        ptr = f"/criteria/{name}"
        if not isinstance(spec, dict):
            raise ModelError(ptr, "a criterion has a weight and indicators")
        weight = spec.get("weight")
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not 0 <= weight <= 1
        ):
            raise ModelError(ptr + "/weight", "a weight is a number from 0 to 1")
        indicators = spec.get("indicators")
        if not isinstance(indicators, dict) or not 1 <= len(indicators) <= 5:
            raise ModelError(ptr + "/indicators", "a criterion has 1 to 5 indicators")
        checked = {}
        for ind, rule in indicators.items():
            iptr = f"{ptr}/indicators/{ind}"
            if ind not in INDICATORS:
                raise ModelError(
                    iptr, f"unknown indicator; known: {', '.join(INDICATORS)}"
                )
            how = (rule or {}).get("normalise")
            if how not in NORMALISATIONS:
                raise ModelError(
                    iptr + "/normalise", f"one of {', '.join(NORMALISATIONS)}"
                )
            out = {"normalise": how}
            if how != "identity":
                cap = rule.get("cap")
                if (
                    isinstance(cap, bool)
                    or not isinstance(cap, int | float)
                    or not 0 < cap < math.inf  # NaN and infinity are not JSON
                ):
                    raise ModelError(iptr + "/cap", "a cap is a positive finite number")
                out["cap"] = float(cap)
            checked[ind] = out
        criteria[name] = {"weight": float(weight), "indicators": checked}
    if not any(c["weight"] > 0 for c in criteria.values()):
        raise ModelError("/criteria", "at least one criterion needs a positive weight")
    gates = model.get("gates", [])
    for i, gate in enumerate(gates):
        if gate not in GATES:
            raise ModelError(f"/gates/{i}", f"unknown gate; known: {', '.join(GATES)}")
    bands = model.get("bands", DEFAULT_MODEL["bands"])
    high, medium = bands.get("high"), bands.get("medium")
    if (
        not all(isinstance(v, int | float) for v in (high, medium))
        or not 0 <= medium <= high <= 100
    ):
        raise ModelError(
            "/bands",
            "bands are {high, medium}: score thresholds, 0 <= medium <= high <= 100",
        )
    return {
        "criteria": criteria,
        "gates": list(gates),
        "bands": {"high": float(high), "medium": float(medium)},
    }


def normalise(value: float, rule: dict[str, Any]) -> float:
    """An indicator's normalised value (0..1) by its rule (the SQL uses the same formulas)."""
    how = rule["normalise"]
    if how == "identity":
        return min(max(value, 0.0), 1.0)
    cap = rule["cap"]
    if how == "cap":
        return min(value / cap, 1.0)
    if how == "log_cap":
        return min(math.log1p(value) / math.log1p(cap), 1.0)
    return 1.0 - min(value / cap, 1.0)  # inverse_cap


def breakdown(
    values: dict[str, Any], model: dict[str, Any]
) -> tuple[float, dict[str, Any]]:
    """A hazard's score and its per-criterion breakdown from its raw indicator values.

    The same arithmetic as the SQL that ranks every hazard (a test holds them equal): each
    indicator's raw value, normalised value and rule; each criterion's weight, score (the mean
    of its indicators) and contribution in points out of 100.
    """
    criteria = model["criteria"]
    total = sum(c["weight"] for c in criteria.values())
    out, score = {}, 0.0
    for name, crit in criteria.items():
        indicators = {}
        for ind, rule in crit["indicators"].items():
            n = normalise(float(values[ind]), rule)
            indicators[ind] = {
                "value": values[ind],
                "normalised": round(n, 4),
                "rule": rule["normalise"]
                + (f" (cap {rule['cap']:g})" if "cap" in rule else ""),
            }
        mean = sum(
            normalise(float(values[i]), r) for i, r in crit["indicators"].items()
        ) / len(crit["indicators"])
        contribution = 100 * crit["weight"] * mean / total
        score += contribution
        out[name] = {
            "weight": crit["weight"],
            "score": round(mean, 4),
            "contribution": round(contribution, 2),
            "indicators": indicators,
        }
    return score, out


def band(score: float, bands: dict[str, float]) -> str:
    """High, medium or low."""
    if score >= bands["high"]:
        return "high"
    if score >= bands["medium"]:
        return "medium"
    return "low"


def _reasons(criterion: dict[str, Any]) -> str:
    """': 1,200 people within 1 km, 1 road or track within 50 m' (counted indicators > 0)."""
    said = []
    for name, (one, several) in REASONS.items():
        indicator = criterion["indicators"].get(name)
        if indicator and indicator["value"] and indicator["normalised"] > 0:
            value = indicator["value"]
            said.append((one if value == 1 else several).format(n=f"{value:,.0f}"))
    return ": " + ", ".join(said) if said else ""


def explain(
    rank: int | None,
    score: float | None,
    breakdown: dict[str, Any],
    gates: dict[str, bool],
) -> str:
    """One plain sentence saying why a hazard ranks where it does.

    It names the three criteria that add most, and what was counted for them: "Ranked 1
    with 75.8 of 100, mostly for exposure (19.4 points: 4,780 people within 1 km, ...), ...
    and ...".
    """
    failed = [GATES[g] for g, ok in gates.items() if not ok]
    if failed:
        return "Not ranked for tasking: " + "; ".join(failed) + "."
    parts = sorted(
        ((c["contribution"], name) for name, c in breakdown.items()), reverse=True
    )
    top = [
        f"{name.replace('_', ' ')} ({points:.1f} points{_reasons(breakdown[name])})"
        for points, name in parts
        if points > 0
    ][:3]
    lead = f"Ranked {rank} with {score:.1f} of 100"
    if not top:
        return lead + ": no criterion adds to its priority."
    listed = ", ".join(top[:-1]) + " and " + top[-1] if len(top) > 1 else top[0]
    return f"{lead}, mostly for {listed}."
