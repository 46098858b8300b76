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


class CountingSource:
    """A CatalogueSource whose providers count how often they are built."""

    def __init__(self):
        from app.core.catalog import CatalogueSource, entries_of, load_catalogue

        self.catalogue = load_catalogue()
        self.builds = 0

        def build():
            self.builds += 1
            return self.catalogue

        self.source = CatalogueSource(entries_of(self.catalogue.providers), build)


def _wizard_on(qtbot, source):
    from app.ui.wizard.wizard import SetupWizard

    w = SetupWizard(source, lang="en")
    qtbot.addWidget(w, before_close_func=lambda w: setattr(w.model, "dirty", False))
    return w


def test_the_list_and_where_next_leads_come_from_the_entries_without_loading_providers(qtbot):
    from app.ui.wizard.ids import PageId

    counting = CountingSource()
    w = _wizard_on(qtbot, counting.source)
    page = w.provider_page
    cat = counting.catalogue
    rows = [page.provider_list.item(i) for i in range(page.provider_list.count())]
    assert [it.data(0x0100) for it in rows] == [p.id for p in cat.providers]
    assert "Zoho Mail — business mail" in {it.text() for it in rows}
    assert not page.isComplete()
    assert page.select_provider("gmail") and page.isComplete() and page.nextId() == int(PageId.GUIDE)
    assert page.select_provider("custom") and page.nextId() == int(PageId.ACCOUNT)
    assert page.select_provider("sandbox") and page.nextId() == int(PageId.ACCOUNT)
    assert not page.region_box.isVisibleTo(page)
    assert not page.badges.badge("gmail", 24).isNull() and page.badges.badge("no-such-id", 24) is None
    assert counting.builds == 0 and not counting.source.loaded
    # a provider with regional servers: the region box needs the provider itself
    assert page.select_provider("zoho")
    assert counting.builds == 1 and page.region_box.isVisibleTo(page) and page.region_box.count() >= 2
    assert page.selected_provider() is cat.by_id("zoho")
    page.select_provider("gmail")
    assert counting.builds == 1  # built once


def test_the_providers_load_while_the_first_page_is_idle(qtbot):
    counting = CountingSource()
    w = _wizard_on(qtbot, counting.source)
    assert counting.builds == 0
    w.show()
    qtbot.waitUntil(lambda: counting.source.loaded, timeout=5000)
    assert counting.builds == 1 and w.catalogue is counting.catalogue


def test_next_builds_the_providers_if_the_user_is_faster_than_the_idle_load(qtbot):
    from app.ui.wizard.ids import PageId

    counting = CountingSource()
    w = _wizard_on(qtbot, counting.source)
    w.show()
    page = w.provider_page
    page.email.setText("jane@example.org")
    assert page.select_provider("custom")
    w.next()  # before the idle slice ran
    assert w.currentId() == int(PageId.ACCOUNT)
    assert counting.builds == 1 and w.model.provider is counting.catalogue.by_id("custom")


def test_a_list_filled_from_lying_entries_is_corrected_once_the_providers_load(qtbot):
    from app.core.catalog import CatalogueSource, entries_of, load_catalogue

    cat = load_catalogue()
    lying = tuple(e._replace(name={"en": "Evil"}) for e in entries_of(cat.providers))
    lying += (lying[0]._replace(id="ghost"),)  # a row no provider stands behind
    source = CatalogueSource(lying, lambda: cat)
    w = _wizard_on(qtbot, source)
    page = w.provider_page
    assert page.select_provider("ghost") and page.provider_list.item(0).text().startswith("Evil")
    w.show()
    qtbot.waitUntil(lambda: page.provider_list.count() == len(cat.providers), timeout=5000)
    assert not page.select_provider("ghost") and page.provider_list.item(0).text().startswith("Yandex")
    assert page.provider_list.currentItem() is None and not page.isComplete()


def test_next_on_a_row_no_provider_stands_behind_stays_and_corrects_the_list(qtbot):
    from app.core.catalog import CatalogueSource, entries_of, load_catalogue
    from app.ui.wizard.ids import PageId

    cat = load_catalogue()
    entries = entries_of(cat.providers)
    source = CatalogueSource((*entries, entries[0]._replace(id="ghost")), lambda: cat)
    w = _wizard_on(qtbot, source)
    w.show()
    page = w.provider_page
    assert page.select_provider("ghost")
    w.next()  # before the idle load
    assert w.currentId() == int(PageId.PROVIDER) and page.provider_list.count() == len(cat.providers)
    assert w.model.provider is None


def test_next_from_a_row_whose_cached_flags_lie_stays_and_the_corrected_list_keeps_the_search(qtbot):
    from app.core.catalog import CatalogueSource, entries_of, load_catalogue
    from app.ui.wizard.ids import PageId

    cat = load_catalogue()
    lying = tuple(e._replace(guided=False) if e.id == "gmail" else e for e in entries_of(cat.providers))
    w = _wizard_on(qtbot, CatalogueSource(lying, lambda: cat))
    w.show()
    page = w.provider_page
    page.search.setText("zoho")
    assert page.select_provider("gmail") and page.nextId() == int(PageId.ACCOUNT)  # what the row says
    w.next()
    assert w.currentId() == int(PageId.PROVIDER)  # the list was corrected instead of skipping the guide
    assert page.nextId() == int(PageId.GUIDE)
    assert [i for i in _visible_ids(page) if i != "gmail"] == ["zoho"]  # the search still applies
    w.next()
    assert w.currentId() == int(PageId.GUIDE)
