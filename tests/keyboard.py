"""The keyboard alone in the tests' Chromium: walk a page's controls with Tab and check that
each one is reached, in the page's order, and shows a focus ring one can see."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator, Page

# what Tab stops at: links, buttons, form fields (not hidden ones), and tabindex >= 0
FOCUSABLE = (
    "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), "
    "select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex='-1'])"
)
MIN_RING = 2.0  # CSS pixels of outline: WCAG 2.2's focus appearance asks for a 2px perimeter
MIN_CONTRAST = 3.0  # the ring against what is around it (WCAG 1.4.11, non-text contrast)

# the focused element's ring and the colour it is drawn on: the first ancestor's background
# that is not transparent (the outline is drawn outside the element, over its parent)
RING = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
  let behind = [255, 255, 255];
  for (let n = el.parentElement; n; n = n.parentElement) {
    const c = rgb(getComputedStyle(n).backgroundColor);
    if (c.length === 3 || c[3] > 0) { behind = c.slice(0, 3); break; }
  }
  const s = getComputedStyle(el);
  return {
    order: el.dataset.tabOrder === undefined ? -1 : Number(el.dataset.tabOrder),
    html: el.outerHTML.slice(0, 120),
    visible: el.matches(":focus-visible"),
    style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: rgb(s.outlineColor),
    behind: behind,
  };
}"""


def luminance(rgb: list[float]) -> float:
    """Return a colour's relative luminance (WCAG's formula)."""

    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else float(((c + 0.055) / 1.055) ** 2.4)

    r, g, b = (channel(v) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: list[float], other: list[float]) -> float:
    """Return the contrast ratio of two colours, 1 to 21."""
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def ring_problem(ring: dict[str, Any]) -> str | None:
    """Say what is wrong with a focused element's ring, or None when one can see it."""
    if not ring["visible"]:
        return "not :focus-visible"
    if ring["style"] in ("none", "hidden") or ring["width"] < MIN_RING:
        return f"outline {ring['style']} {ring['width']}px (want {MIN_RING}px at least)"
    ratio = contrast(ring["color"], ring["behind"])
    if ratio < MIN_CONTRAST:
        return f"outline {ring['color']} on {ring['behind']}: contrast {ratio:.2f}"
    return None


def controls(page: Page) -> int:
    """Number the page's visible controls in document order (data-tab-order); return how many."""
    return int(
        page.evaluate(
            """(selector) => {
              const all = [...document.querySelectorAll(selector)].filter(
                el => el.getClientRects().length && getComputedStyle(el).visibility !== "hidden");
              all.forEach((el, i) => { el.dataset.tabOrder = String(i); });
              return all.length;
            }""",
            FOCUSABLE,
        )
    )


def tab_through(page: Page) -> list[int]:
    """Press Tab round the whole page; return the controls reached, in the order reached
    (each once), after checking each one's focus ring."""
    count = controls(page)
    reached: list[int] = []
    problems: list[str] = []
    for _ in range(2 * count + 4):  # round once at least, wherever focus starts
        page.keyboard.press("Tab")
        ring = page.evaluate(RING)
        if ring is None:  # focus left the page's controls, between the last and the first
            continue
        problem = ring_problem(ring)
        if problem:
            problems.append(f"{ring['html']}: {problem}")
        if ring["order"] >= 0 and ring["order"] not in reached:  # (-1: not a control we know)
            reached.append(ring["order"])
    assert not problems, "focus rings one cannot see:\n" + "\n".join(dict.fromkeys(problems))
    return reached


def in_page_order(reached: list[int]) -> bool:
    """Whether Tab reached the controls in the page's order (from wherever it started)."""
    start = reached.index(min(reached)) if reached else 0
    return reached[start:] + reached[:start] == sorted(reached)


def tab_to(page: Page, target: Locator, limit: int = 40) -> None:
    """Press Tab until `target` has the focus, checking the ring of every stop on the way."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        ring = page.evaluate(RING)
        if ring is not None:
            problem = ring_problem(ring)
            assert problem is None, f"{ring['html']}: {problem}"
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"Tab did not reach {target} in {limit} presses")
