"""axe-core finds no serious or critical WCAG 2 A/AA problem on public pages."""

import pytest


def serious(violations: list[dict]) -> list[str]:
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at "
        + ", ".join(" ".join(node["target"]) for node in v["nodes"])
        for v in violations
        if v["impact"] in {"serious", "critical"}
    ]


@pytest.mark.parametrize("name", ["home", "post", "search"])
def test_page_has_no_serious_accessibility_violation(page, axe, site, name):
    url = {
        "home": "/",
        "post": site.article.get_absolute_url(),
        "search": "/search/?q=back+spasm",
    }[name]
    page.goto(url)

    assert serious(axe(page, name)) == []
