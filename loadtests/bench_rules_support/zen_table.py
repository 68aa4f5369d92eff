"""The same purchase rules as a zen-engine (GoRules JDM) decision table: one row per rule,
hit policy `collect`. zen has no caps, limits or history: it decides which rules match."""

from __future__ import annotations

import json

from .programs import TIER_RANK, WEEKDAYS, Cond, RuleSpec

_LOCAL = 'd(at).tz("Europe/Berlin")'
# Input columns: one per thing a rule looks at; guarded so that non-purchase events pass.
COLUMNS: dict[str, str] = {
    "total": "purchase.total != null ? number(purchase.total) : null",
    "tier": "member.tier",
    "tier_rank": ('member.tier == "platinum" ? 3 : member.tier == "gold" ? 2 : '
                  'member.tier == "silver" ? 1 : 0'),
    "items": "purchase.items",
    "weekday": f"{_LOCAL}.weekday()",
    "hour": f"{_LOCAL}.hour()",
    "day": f'number({_LOCAL}.format("%Y%m%d"))',
    "store": "purchase.store",
    "consents": "member.consents",
    "type": "type",
}


def _cell(cond: Cond) -> tuple[str, str]:
    """(column, unary test) for one condition; `$` is the column's value."""
    a = cond.args
    kind = cond.kind
    if kind == "total_ge":
        return "total", f"$ >= {a[0]}"
    if kind == "tier_ge":
        return "tier_rank", f"$ >= {TIER_RANK[a[0]]}"
    if kind == "tier_eq":
        return "tier", f'$ == "{a[0]}"'
    if kind == "any_cat":
        return "items", f'some($, #.category == "{a[0]}")'
    if kind == "count_cat_ge":
        return "items", f'count($, #.category == "{a[0]}") >= {a[1]}'
    if kind == "qty_cat_ge":
        return "items", f'sum(map(filter($, #.category == "{a[0]}"), #.quantity)) >= {a[1]}'
    if kind == "weekday_in":
        return "weekday", f"$ in {json.dumps([WEEKDAYS.index(d) + 1 for d in a[0]])}"
    if kind == "hour_between":
        return "hour", f"[{a[0]}..{a[1]})"
    if kind == "store_in":
        return "store", f"$ in {json.dumps(list(a[0]))}"
    if kind == "store_eq":
        return "store", f'$ == "{a[0]}"'
    if kind == "any_cat_in":
        return "items", f"some($, #.category in {json.dumps(list(a[0]))})"
    if kind == "any_sku":
        return "items", f"some($, #.sku in {json.dumps(list(a[0]))})"
    if kind == "weekday_eq":
        return "weekday", f"$ == {WEEKDAYS.index(a[0]) + 1}"
    if kind == "fav_match":
        return "items", "some($, #.category == member.profile.favourite_drink)"
    raise ValueError(kind)


def _points(rule: RuleSpec) -> str:
    award = rule.award
    if award.kind == "fixed":
        points = str(award.points)
    elif award.kind == "per_eur":
        points = f"{award.points} * floor(number(purchase.total) / {award.per})"
    else:
        money = (f"sum(map(filter(purchase.items, #.category in {json.dumps(award.categories)}),"
                 " number(#.price) * #.quantity))")
        # Rounded to cents first: zen computes in binary floating point.
        points = f"{award.points} * floor(round({money} * 100) / {award.per * 100})"
    if rule.cap:
        points = f"min([{points}, {rule.cap[0]}])"
    return points


def decision_table(rules: list[RuleSpec]) -> dict:
    """A JDM graph: input -> decision table (collect) -> output."""
    rows = []
    for rule in rules:
        cells: dict[str, list[str]] = {"type": ['$ == "purchase"']}
        for cond in rule.conds:
            column, test = _cell(cond)
            cells.setdefault(column, []).append(test)
        if rule.purpose != "loyalty":
            cells.setdefault("consents", []).append(f'contains($, "{rule.purpose}")')
        if rule.valid:
            start, end = (int(d.strftime("%Y%m%d")) for d in rule.valid)
            cells.setdefault("day", []).append(f"[{start}..{end}]")
        row = {"_id": rule.name, "_description": rule.title,
               "out_rule": json.dumps(rule.name), "out_points": _points(rule)}
        for column in COLUMNS:
            tests = cells.get(column, [])
            # zen rejects a parenthesised `a and b` as a cell; intervals stand alone.
            row[f"in_{column}"] = tests[0] if len(tests) == 1 else " and ".join(
                f"({t})" for t in tests)
        rows.append(row)
    table = {
        "hitPolicy": "collect",
        "inputs": [{"id": f"in_{c}", "name": c, "type": "expression", "field": f}
                   for c, f in COLUMNS.items()],
        "outputs": [{"id": "out_rule", "name": "Rule", "type": "expression", "field": "rule"},
                    {"id": "out_points", "name": "Points", "type": "expression",
                     "field": "points"}],
        "rules": rows,
    }
    return {
        "contentType": "application/vnd.gorules.decision",
        "nodes": [
            {"id": "request", "type": "inputNode", "name": "Request",
             "position": {"x": 0, "y": 0}},
            {"id": "rules", "type": "decisionTableNode", "name": "Loyalty rules",
             "position": {"x": 300, "y": 0}, "content": table},
            {"id": "response", "type": "outputNode", "name": "Response",
             "position": {"x": 600, "y": 0}},
        ],
        "edges": [
            {"id": "e1", "type": "edge", "sourceId": "request", "targetId": "rules"},
            {"id": "e2", "type": "edge", "sourceId": "rules", "targetId": "response"},
        ],
    }


def matched_rules(response: dict) -> dict[str, int]:
    """Points per matching rule from a zen response, dropping awards of zero."""
    result = response["result"]
    rows = result if isinstance(result, list) else [result] if result else []
    return {row["rule"]: int(row["points"]) for row in rows if row.get("points", 0) > 0}


def zen_paths(table: dict) -> dict[str, object]:
    """The ways Python can call zen on one event, each as a callable(event) -> response.

    `engine.evaluate` with a static loader reuses the compiled decision; in zen-engine 2.1
    `ZenDecision.evaluate` is several times slower per call, whether the decision is made
    from a string or a precompiled `ZenDecisionContent` (measured, see the table). The
    async API and evaluate_batch take a whole list (zen_whole_list).
    """
    import zen

    content = json.dumps(table)
    engine = zen.ZenEngine({"loader": {"type": "static", "content": {"rules.json": table}}})
    decision = zen.ZenEngine().create_decision(content)
    precompiled = engine.create_decision(zen.ZenDecisionContent(content))
    return {
        "engine.evaluate(key, dict)": lambda event: engine.evaluate("rules.json", event),
        "engine.evaluate(key, json.dumps)": lambda event: engine.evaluate(
            "rules.json", json.dumps(event)),
        "decision.evaluate(dict)": decision.evaluate,
        "decision(ZenDecisionContent).evaluate": precompiled.evaluate,
    }


def zen_whole_list(table: dict) -> dict[str, object]:
    """The ways Python can hand zen a whole list of events, each as a callable(events):
    evaluate_batch, and the async API awaited one event after the other or all at once
    (asyncio.gather: zen may then work on several events in parallel)."""
    import asyncio

    import zen

    engine = zen.ZenEngine({"loader": {"type": "static", "content": {"rules.json": table}}})

    def batch(events: list[dict]) -> list:
        return engine.evaluate_batch([{"key": "rules.json", "context": e} for e in events])

    async def one_by_one(events: list[dict]) -> list:
        return [await engine.async_evaluate("rules.json", e) for e in events]

    async def gathered(events: list[dict]) -> list:
        return await asyncio.gather(*(engine.async_evaluate("rules.json", e) for e in events))

    return {
        "engine.evaluate_batch(all)": batch,
        "await engine.async_evaluate, one by one": lambda events: asyncio.run(one_by_one(events)),
        "asyncio.gather(engine.async_evaluate)": lambda events: asyncio.run(gathered(events)),
    }
