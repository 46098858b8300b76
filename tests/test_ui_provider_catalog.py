"""The first page with the larger catalogue: search field, audience next to each name, regional servers picked
from the address or the region box (real widgets, offscreen)."""

from __future__ import annotations

from tests.fixtures.ui import make_wizard


def _visible_ids(page):
    lst = page.provider_list
    return [lst.item(i).data(0x0100) for i in range(lst.count()) if not lst.item(i).isHidden()]


def test_search_filters_by_name_and_domain(qtbot):
    w = make_wizard(qtbot)
    page = w.provider_page
    total = page.provider_list.count()
    page.search.setText("zoho")
    visible = _visible_ids(page)
    assert "zoho" in visible and "gmail" not in visible
    page.search.setText("gmx.co.uk")  # a domain of a region
    assert "gmx" in _visible_ids(page) and "yahoo" not in _visible_ids(page)
    page.search.setText("")
    assert len(_visible_ids(page)) == total


def test_audience_is_visible(qtbot):
    w = make_wizard(qtbot)
    texts = {w.provider_page.provider_list.item(i).text() for i in range(w.provider_page.provider_list.count())}
    assert "Amazon SES — sending service for apps" in texts
    assert "Zoho Mail — business mail" in texts
    assert "iCloud Mail — personal mail" in texts


def test_address_picks_the_regional_servers(qtbot):
    w = make_wizard(qtbot)
    page = w.provider_page
    page.email.setText("anna@zohomail.eu")
    p = page.selected_provider()
    assert p.id == "zoho" and p.region == "eu" and p.smtp[0].host == "smtp.zoho.eu"
    assert page.region_box.isVisibleTo(page) and page.region_box.currentData() == "eu"
    page.email.setText("anna@gmail.com")
    assert page.selected_provider().id == "gmail" and not page.region_box.isVisibleTo(page)


def test_region_box_chooses_ses_region(qtbot):
    w = make_wizard(qtbot)
    page = w.provider_page
    assert page.select_provider("amazon_ses")
    assert page.region_box.isVisibleTo(page) and page.region_box.count() >= 20
    page.region_box.setCurrentIndex(page.region_box.findData("eu-central-1"))
    p = page.selected_provider()
    assert p.region == "eu-central-1" and p.smtp[0].host == "email-smtp.eu-central-1.amazonaws.com"


async def test_background_mx_lookup_asks_no_autoconfig(dns_server):
    from app.core.catalog import load_catalogue
    from app.ui.wizard.pages.provider import lookup_provider_by_mx

    dns_server.zone["typing.test"] = {"A": ["127.0.0.1"], "MX": ["10 mx.typing.test."]}
    found = await lookup_provider_by_mx("typing.test", load_catalogue(), resolver=dns_server.resolver(1.0))
    assert found is None
    asked = {name for name, _type in dns_server.queries}
    assert "typing.test" in asked
    assert not any(n.startswith("autoconfig.") or n.startswith("_autodiscover") for n in asked), asked
