"""axe-core in the page: inject it, run it, keep every result, report serious and critical violations.

The journey records an audit of each page it reaches (`AxeLog.audit`); a failing page
doesn't stop the journey. `test_accessibility.py` then asserts that no audit found a
violation of impact serious or critical, and lists them: page, URL, rule, elements.
Every audit, whatever its impact, is written to test-artifacts/e2e/axe-report.json.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BLOCKING = ("serious", "critical")

# WCAG 2.0/2.1/2.2 A and AA, plus axe's best practices (landmarks, headings, skip links…).
RUN_OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
}


@dataclass
class Audit:
    label: str
    url: str
    violations: list[dict[str, Any]]

    @property
    def blocking(self) -> list[dict[str, Any]]:
        return [v for v in self.violations if v.get("impact") in BLOCKING]


def describe(audits: list[Audit], impacts: tuple[str, ...] = BLOCKING) -> str:
    """A readable list: one block per page, one line per rule, the offending elements under it."""
    lines: list[str] = []
    for audit in audits:
        found = [v for v in audit.violations if v.get("impact") in impacts]
        if not found:
            continue
        lines.append(f"• {audit.label} — {audit.url}")
        for v in found:
            lines.append(f"    [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
            for node in v["nodes"][:8]:
                target = " ".join(str(t) for t in node.get("target", []))
                html = " ".join(node.get("html", "").split())
                lines.append(f"        {target}  ←  {html[:160]}")
                summary = " ".join((node.get("failureSummary") or "").split())
                if summary:
                    lines.append(f"          {summary[:240]}")
            if len(v["nodes"]) > 8:
                lines.append(f"        … and {len(v['nodes']) - 8} more elements")
    return "\n".join(lines)


@dataclass
class AxeLog:
    script: Path
    report: Path
    audits: list[Audit] = field(default_factory=list)

    def run(self, page, options: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.add_script_tag(path=str(self.script))
        result = page.evaluate("(options) => axe.run(document, options)", {**RUN_OPTIONS, **(options or {})})
        return [
            {
                "id": v["id"],
                "impact": v.get("impact"),
                "help": v["help"],
                "helpUrl": v["helpUrl"],
                "nodes": [
                    {"target": n.get("target"), "html": n.get("html"), "failureSummary": n.get("failureSummary")} for n in v["nodes"]
                ],
            }
            for v in result["violations"]
        ]

    def audit(self, page, label: str, options: dict[str, Any] | None = None) -> Audit:
        """Audits the page as it is now (wait for it to settle first); keeps and returns the result."""
        page.wait_for_load_state("load")
        entry = Audit(label=label, url=page.url, violations=self.run(page, options))
        self.audits.append(entry)
        self.save()
        return entry

    def save(self) -> None:
        self.report.parent.mkdir(parents=True, exist_ok=True)
        self.report.write_text(
            json.dumps([{"label": a.label, "url": a.url, "violations": a.violations} for a in self.audits], ensure_ascii=False, indent=1)
        )

    def blocking(self) -> list[Audit]:
        return [a for a in self.audits if a.blocking]

    def summary(self) -> str:
        return describe(self.blocking())
