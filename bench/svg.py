"""A small SVG bar chart writer (no plotting dependency): grouped horizontal bars in panels."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

WIDTH = 760
LABEL_W = 200
BAR_W = 430
BAR_H = 13
BAR_GAP = 3
GROUP_GAP = 12
FONT = "font-family='DejaVu Sans, Arial, sans-serif'"


@dataclass
class Panel:
    """One chart: ``groups`` of ``(series, value)`` bars sharing the panel's scale."""

    title: str
    unit: str
    groups: list[tuple[str, list[tuple[str, float]]]] = field(default_factory=list)


def _nice_max(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten at or above ``value``."""
    if value <= 0:
        return 1.0
    power = 1.0
    while power * 10 <= value:
        power *= 10
    while power > value:
        power /= 10
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def chart(title: str, panels: list[Panel], colors: dict[str, str]) -> str:
    """The SVG document: a title, a legend of ``colors`` and the panels one below another."""
    out: list[str] = []
    y = 28
    out.append(f"<text x='10' y='{y}' font-size='16' font-weight='bold' {FONT}>"
               f"{escape(title)}</text>")  # fmt: skip
    y += 22
    x = 10
    for series, color in colors.items():
        out.append(f"<rect x='{x}' y='{y - 10}' width='12' height='12' fill='{color}'/>")
        out.append(f"<text x='{x + 17}' y='{y}' font-size='12' {FONT}>{escape(series)}</text>")
        x += 30 + 8 * len(series)
    y += 16
    for panel in panels:
        y += 14
        out.append(f"<text x='10' y='{y}' font-size='13' font-weight='bold' {FONT}>"
                   f"{escape(panel.title)}</text>")  # fmt: skip
        y += 8
        top = max((v for _, bars in panel.groups for _, v in bars), default=1.0)
        scale = _nice_max(top)
        axis_top = y
        for label, bars in panel.groups:
            height = len(bars) * (BAR_H + BAR_GAP)
            out.append(f"<text x='{LABEL_W - 8}' y='{y + height / 2 + 4:.1f}' font-size='11' "
                       f"text-anchor='end' {FONT}>{escape(label)}</text>")  # fmt: skip
            for series, value in bars:
                w = max(1.0, BAR_W * value / scale)
                color = colors.get(series, "#999")
                out.append(f"<rect x='{LABEL_W}' y='{y}' width='{w:.1f}' height='{BAR_H}' "
                           f"fill='{color}'><title>{escape(series)}: {value:.1f} "
                           f"{escape(panel.unit)}</title></rect>")  # fmt: skip
                out.append(f"<text x='{LABEL_W + w + 4:.1f}' y='{y + BAR_H - 3}' font-size='10' "
                           f"{FONT}>{value:.1f}</text>")  # fmt: skip
                y += BAR_H + BAR_GAP
            y += GROUP_GAP
        out.append(f"<line x1='{LABEL_W}' y1='{axis_top - 2}' x2='{LABEL_W}' y2='{y - GROUP_GAP}'"
                   " stroke='#333'/>")  # fmt: skip
        for i in range(5):
            tick = scale * i / 4
            tx = LABEL_W + BAR_W * i / 4
            out.append(f"<line x1='{tx:.1f}' y1='{y - GROUP_GAP}' x2='{tx:.1f}' "
                       f"y2='{y - GROUP_GAP + 4}' stroke='#333'/>")  # fmt: skip
            out.append(f"<text x='{tx:.1f}' y='{y - GROUP_GAP + 15}' font-size='10' "
                       f"text-anchor='middle' {FONT}>{tick:g}</text>")  # fmt: skip
        out.append(f"<text x='{LABEL_W + BAR_W + 28}' y='{y - GROUP_GAP + 15}' font-size='10' "
                   f"{FONT}>{escape(panel.unit)}</text>")  # fmt: skip
        y += 16
    height = y + 10
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{height}' "
        f"viewBox='0 0 {WIDTH} {height}' role='img'>\n"
        f"<title>{escape(title)}</title>\n"
        f"<rect width='100%' height='100%' fill='white'/>\n" + "\n".join(out) + "\n</svg>\n"
    )
