"""The search index core: relevance, typo tolerance, filters, facets, sorting, event ordering, rebuild."""

from __future__ import annotations

import threading
import time

import pytest

from mercato.services.search.index import (
    MAX_LIMIT,
    MAX_SUGGESTIONS,
    SCHEMA_VERSION,
    ProductIndex,
    SearchResults,
)
from tests.search.factories import (
    HOME,
    at,
    catalog,
    deleted,
    inventory,
    product,
    reprice,
    updated,
    variant,
)

CATALOG = catalog()
BY_ID = {p.product_id: p for p in CATALOG}


@pytest.fixture
def index(tmp_path):
    with ProductIndex(tmp_path / "search") as ix:
        assert ix.apply_many(CATALOG) == len(CATALOG)
        yield ix


def ids(results: SearchResults) -> list[str]:
    return [h.product_id for h in results.hits]


def everything(ix: ProductIndex, query: str = "", **filters) -> SearchResults:
    return ix.search(query, limit=MAX_LIMIT, facets=False, **filters)


def min_price(pid: str) -> int:
    return min(v.price.amount for v in BY_ID[pid].variants)


# --- relevance --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("Classic T-Shirt", "classic-tee"),
        ("classic t-shirt", "classic-tee"),
        ("Linen Shirt", "linen-shirt"),
        ("Organic Cotton T-Shirt", "organic-tee"),
        ("leather boot", "leather-boot"),
    ],
)
def test_an_exact_name_match_ranks_first(index, query, first):
    results = index.search(query)
    assert ids(results)[0] == first


def test_the_exact_name_beats_names_that_contain_it(index):
    index.apply(
        product(
            product_id="linen-shirt-long",
            name="Linen Shirt Long Sleeve Linen",
            category_path=("apparel", "tops"),
            variants=[variant(sku="LSL-1", price=5999)],
        )
    )
    assert ids(index.search("linen shirt"))[:2] == ["linen-shirt", "linen-shirt-long"]


@pytest.mark.parametrize("query", ["tshirt", "t-shirt", "t shirt", "T-SHIRT", "t-shrit", "tshrit", "tshirts"])
def test_spellings_and_typos_of_t_shirt_find_the_t_shirts(index, query):
    results = index.search(query)
    assert {"classic-tee", "organic-tee", "vneck-tee"} <= set(ids(results))
    assert "T-Shirt" in results.hits[0].name


def test_typos_in_single_words(index):
    assert ids(index.search("sneakr"))[0] == "canvas-sneaker"
    assert ids(index.search("hoddie"))[0] == "zip-hoodie"
    assert ids(index.search("leathr boots"))[0] == "leather-boot"
    # "shrit": a transposition costs one edit
    assert {"linen-shirt", "classic-tee"} <= set(ids(index.search("shrit")))
    # words under four letters must be exact: "mog" is not "mug"
    assert ids(index.search("mog")) == []


def test_exact_matches_rank_above_fuzzy_ones(index):
    index.apply(
        product(
            product_id="shirt-dress",
            name="Shirt Dress",
            category_path=("apparel",),
            variants=[variant(sku="SD-1", price=3999)],
        )
    )
    index.apply(
        product(
            product_id="skirt",
            name="Pleated Skirt",
            category_path=("apparel",),
            variants=[variant(sku="SK-1", price=3999)],
        )
    )
    found = ids(index.search("skirt"))
    assert found[0] == "skirt"
    assert "shirt-dress" in found  # one edit away: found, but below the exact match


def test_a_name_match_beats_a_description_match(index):
    results = index.search("merino")
    assert ids(results) == ["merino-sweater", "wool-throw"]
    assert results.hits[0].score > results.hits[1].score


def test_brand_and_category_matches_rank_between_name_and_description(index):
    index.apply(
        product(
            product_id="stride-bag",
            name="Gym Bag",
            category_path=("apparel",),
            brand="Alder",
            description="Carry your stride shoes.",
            variants=[variant(sku="GB-1", price=2999)],
        )
    )
    found = ids(index.search("stride"))
    assert found.index("trail-shoe") < found.index("stride-bag")  # brand above description
    assert {"trail-shoe", "canvas-sneaker", "leather-boot"} <= set(ids(index.search("shoes")))


def test_search_words_come_from_name_brand_category_attributes_and_description(index):
    assert set(ids(everything(index, "hearth"))) == {p.product_id for p in CATALOG if p.brand == "Hearth"}
    assert "classic-tee" in ids(everything(index, "tshirts"))
    assert "trail-shoe" in ids(everything(index, "apparel"))
    assert ids(everything(index, "navy")) == ["vneck-tee"]
    assert ids(everything(index, "resoleable")) == ["leather-boot"]


def test_an_empty_query_browses_everything_newest_first(index):
    results = index.search("", limit=MAX_LIMIT)
    assert results.total == len(CATALOG)
    assert ids(results) == [p.product_id for p in reversed(CATALOG)]


# --- filters ------------------------------------------------------------------------------------------


def test_category_filter_includes_sub_categories(index):
    apparel = {p.product_id for p in CATALOG if p.category_path[0] == "apparel"}
    tops = {p.product_id for p in CATALOG if p.category_path[:2] == ("apparel", "tops")}
    tshirts = {p.product_id for p in CATALOG if p.category_path == ("apparel", "tops", "tshirts")}
    assert len(apparel) == 11 and len(tops) == 7 and len(tshirts) == 4

    assert set(ids(everything(index, category="apparel"))) == apparel
    assert set(ids(everything(index, category="apparel/tops"))) == tops
    assert set(ids(everything(index, category="/apparel/tops/"))) == tops
    assert set(ids(everything(index, category="tops"))) == tops  # a slug alone works too
    assert set(ids(everything(index, category="apparel/tops/tshirts"))) == tshirts
    assert everything(index, category="home").total == 4
    assert everything(index, category="garden").total == 0
    assert everything(index, category="tops/apparel").total == 0
    assert set(ids(everything(index, "linen", category="home"))) == {"linen-cushion"}


def test_price_range_is_on_the_cheapest_variant(index):
    results = everything(index, price_min=2000, price_max=6000)
    expected = {p.product_id for p in CATALOG if 2000 <= min_price(p.product_id) <= 6000}
    assert set(ids(results)) == expected and expected
    assert all(2000 <= h.price <= 6000 for h in results.hits)
    assert ids(everything(index, price_min=17999)) == ["leather-boot"]
    assert set(ids(everything(index, price_max=1299))) == {"running-socks", "ceramic-mug"}  # mug: 12.99/13.99
    assert everything(index, price_min=6000, price_max=2000).total == 0


def test_attribute_filters_any_of_within_all_across(index):
    sized_m = {p.product_id for p in CATALOG if any(v.attributes.get("size") == "M" for v in p.variants)}
    assert set(ids(everything(index, attributes={"size": ["M"]}))) == sized_m

    m_or_xl = everything(index, attributes={"size": ["M", "XL"]})
    assert set(ids(m_or_xl)) == sized_m | {"vneck-tee"}

    black_m = set(ids(everything(index, attributes={"size": ["M"], "colour": ["Black"]})))
    assert black_m == {"classic-tee", "graphic-tee", "zip-hoodie", "running-socks"}
    # values match whatever their case; a single string is one value
    assert set(ids(everything(index, attributes={"Size": "m", "COLOUR": ["black"]}))) == black_m
    assert everything(index, attributes={"size": ["XXS"]}).total == 0
    assert ids(everything(index, "mug", attributes={"colour": ["Black", "Blue"]})) == ["ceramic-mug"]


def test_in_stock_filter_follows_inventory_changes(index):
    in_stock = everything(index, in_stock=True)
    assert in_stock.total == len(CATALOG)
    mug = BY_ID["ceramic-mug"]

    for v in mug.variants:
        assert index.apply_inventory(
            inventory(product_id="ceramic-mug", sku=v.sku, available=0, changed_at=at(1))
        )
    assert "ceramic-mug" not in ids(everything(index, in_stock=True))
    assert everything(index, in_stock=True).total == len(CATALOG) - 1
    assert "ceramic-mug" in ids(everything(index))  # sold out, still findable
    assert index.search("mug").hits[0].in_stock is False
    assert [v.available for v in index.product("ceramic-mug").variants] == [0, 0]

    index.apply(inventory(product_id="ceramic-mug", sku="CM-BLA", available=3, changed_at=at(2)))
    assert "ceramic-mug" in ids(everything(index, in_stock=True))
    assert index.search("mug").hits[0].in_stock is True
    # with in-stock only, attribute filters and counts look at the variants in stock
    assert ids(everything(index, "mug", in_stock=True, attributes={"colour": ["White"]})) == []
    assert ids(everything(index, "mug", in_stock=True, attributes={"colour": ["Black"]})) == ["ceramic-mug"]
    facets = index.search("mug", in_stock=True).facets
    assert [v.value for v in facets.attributes["colour"]] == ["Black"]


def test_inventory_changes_for_unknown_products_or_skus_change_nothing(index):
    assert not index.apply_inventory(inventory(product_id="nope", sku="X", available=0, changed_at=at(1)))
    assert not index.apply_inventory(
        inventory(product_id="ceramic-mug", sku="X", available=0, changed_at=at(1))
    )


def test_an_older_inventory_change_is_ignored(index):
    index.apply(inventory(product_id="scented-candle", sku="SC-1", available=0, changed_at=at(10)))
    assert not index.apply(inventory(product_id="scented-candle", sku="SC-1", available=7, changed_at=at(5)))
    assert "scented-candle" not in ids(everything(index, in_stock=True))
    # nor does a snapshot taken before the stock change bring the old stock back
    candle = BY_ID["scented-candle"]
    assert index.apply(updated(candle, updated_at=at(8), name="Scented Candle Fig"))
    assert index.search("candle").hits[0].name == "Scented Candle Fig"
    assert "scented-candle" not in ids(everything(index, in_stock=True))
    # a snapshot taken after it is the truth
    assert index.apply(updated(candle, updated_at=at(12), name="Scented Candle Cedar"))
    assert "scented-candle" in ids(everything(index, in_stock=True))


# --- facets -------------------------------------------------------------------------------------------


def test_facet_counts_for_the_whole_catalog(index):
    facets = index.search("").facets
    categories = {c.path: c.count for c in facets.categories}
    assert categories == {
        ("apparel",): 11,
        ("apparel", "shoes"): 3,
        ("apparel", "tops"): 7,
        ("apparel", "tops", "tshirts"): 4,
        ("home",): 4,
    }
    colours = {v.value: v.count for v in facets.attributes["colour"]}
    assert colours == {
        "Black": 6, "White": 7, "Green": 1, "Navy": 1, "Blue": 2, "Grey": 3, "Brown": 1,
    }  # fmt: skip
    assert (facets.attributes["colour"][0].value, facets.attributes["colour"][0].count) == ("White", 7)
    assert {v.value: v.count for v in facets.attributes["size"]}["M"] == 8
    assert sum(b.count for b in facets.price) == len(CATALOG)
    assert [(b.min, b.max) for b in facets.price][:2] == [(None, 2500), (2500, 5000)]


def _check_facets_match_filters(ix: ProductIndex, query: str, **filters) -> None:
    """Each facet value's count is the total you get by selecting it, the other filters kept (for the
    dimensions already filtered: instead of that dimension's selection)."""
    results = ix.search(query, **filters)
    facets = results.facets
    assert facets is not None
    for c in facets.categories:
        narrowed = {**filters, "category": "/".join(c.path)}
        assert ix.search(query, **narrowed, facets=False).total == c.count, c
    for name, values in facets.attributes.items():
        for value in values:
            attributes = {**(filters.get("attributes") or {}), name: [value.value]}
            narrowed = {**filters, "attributes": attributes}
            assert ix.search(query, **narrowed, facets=False).total == value.count, (name, value)
    for bucket in facets.price:
        narrowed = {
            **filters,
            "price_min": bucket.min,
            "price_max": None if bucket.max is None else bucket.max - 1,
        }
        assert ix.search(query, **narrowed, facets=False).total == bucket.count, bucket


@pytest.mark.parametrize(
    ("query", "filters"),
    [
        ("", {}),
        ("shirt", {}),
        ("", {"category": "apparel"}),
        ("", {"attributes": {"size": ["M"]}}),
        ("", {"attributes": {"size": ["M", "L"], "colour": ["Black"]}, "category": "apparel/tops"}),
        ("", {"price_min": 1000, "price_max": 5000, "attributes": {"colour": ["White"]}}),
        ("linen", {"in_stock": True}),
    ],
)
def test_facet_counts_are_consistent_with_filters(index, query, filters):
    _check_facets_match_filters(index, query, **filters)


def test_facets_of_a_filtered_dimension_keep_the_alternatives(index):
    facets = index.search("", attributes={"size": ["M"]}).facets
    sizes = {v.value for v in facets.attributes["size"]}
    assert {"S", "M", "L", "XL", "42"} <= sizes  # still offered while M is selected
    colours = {v.value: v.count for v in facets.attributes["colour"]}
    assert "Brown" not in colours  # the boot comes in no size M


def test_facet_counts_follow_changes(index):
    def black() -> int:
        return {v.value: v.count for v in index.search("").facets.attributes["colour"]}["Black"]

    assert black() == black() == 6  # the second one from the cache
    index.apply(deleted(product_id="graphic-tee", deleted_at=at(1)))
    assert black() == 5
    index.apply(inventory(product_id="zip-hoodie", sku="ZH-BLA-M", available=0, changed_at=at(2)))
    index.apply(inventory(product_id="zip-hoodie", sku="ZH-BLA-L", available=0, changed_at=at(2)))
    live = {v.value: v.count for v in index.search("", in_stock=True).facets.attributes["colour"]}
    assert live["Black"] == 4 and black() == 5


def test_custom_price_buckets(index):
    facets = index.search("", price_edges=[5000, 1000, 1000]).facets
    assert [(b.min, b.max, b.count) for b in facets.price] == [
        (None, 1000, 1),
        (1000, 5000, 8),
        (5000, None, 6),
    ]


# --- changes ------------------------------------------------------------------------------------------


def test_a_deleted_product_disappears(index):
    assert index.apply(deleted(product_id="zip-hoodie", deleted_at=at(5)))
    assert "zip-hoodie" not in ids(everything(index))
    assert index.search("zip hoodie").total == 0
    assert index.suggest("zip") == []
    assert {c.path: c.count for c in index.search("").facets.categories}[("apparel", "tops")] == 6
    assert index.count() == len(CATALOG) - 1
    # a redelivered snapshot from before the deletion does not bring it back
    assert not index.apply(updated(BY_ID["zip-hoodie"], updated_at=at(4)))
    assert index.search("hoodie").total == 0


def test_delete_without_a_tombstone(index):
    assert index.delete("leather-boot")
    assert not index.delete("leather-boot")
    assert index.search("leather boot").total == 0
    assert index.product("leather-boot") is None


def test_a_price_change_is_reflected(index):
    assert index.apply(reprice(BY_ID["leather-boot"], price=499, updated_at=at(1)))
    hit = index.search("leather boot").hits[0]
    assert (hit.price, hit.price_max) == (499, 499)
    assert ids(everything(index, price_max=500)) == ["leather-boot"]
    assert ids(index.search("", sort="price_asc"))[0] == "leather-boot"
    assert everything(index, price_min=17000).total == 0


def test_an_older_snapshot_after_a_newer_one_is_ignored(index):
    boot = BY_ID["leather-boot"]
    assert index.apply(updated(boot, updated_at=at(10), name="Leather Chelsea Boot"))
    assert not index.apply(updated(boot, updated_at=at(5), name="Leather Boot Old"))
    assert not index.apply(boot)  # the original ProductCreated, redelivered
    assert index.search("boot").hits[0].name == "Leather Chelsea Boot"
    assert "Leather Boot Old" not in [h.name for h in everything(index, "boot").hits]
    # the same snapshot again is harmless
    assert index.apply(updated(boot, updated_at=at(10), name="Leather Chelsea Boot"))
    assert index.search("chelsea").total == 1


def test_archived_products_are_not_found_and_can_come_back(index):
    candle = BY_ID["scented-candle"]
    assert index.apply(updated(candle, updated_at=at(1), status="archived"))
    assert index.search("candle").total == 0
    assert index.suggest("scen") == []
    assert index.product("scented-candle").status == "archived"
    assert not index.apply(updated(candle, updated_at=at(0.5)))  # older active snapshot: still archived
    assert index.search("candle").total == 0
    assert index.apply(updated(candle, updated_at=at(2), status="active"))
    assert index.search("candle").total == 1


def test_apply_many_commits_once_and_counts_what_changed(index):
    lamp = product(
        product_id="lamp",
        name="Brass Desk Lamp",
        category_path=HOME,
        variants=[variant(sku="L-1", price=4500)],
    )
    changes = [
        lamp,
        reprice(lamp, price=3900, updated_at=at(1)),
        inventory(product_id="lamp", sku="L-1", available=0, changed_at=at(2)),
        updated(lamp, updated_at=at(0.5), name="stale"),  # older than what this batch wrote: ignored
        deleted(product_id="graphic-tee", deleted_at=at(3)),
    ]
    assert index.apply_many(changes) == 4
    hit = index.search("desk lamp").hits[0]
    assert (hit.name, hit.price, hit.in_stock) == ("Brass Desk Lamp", 3900, False)
    assert "graphic-tee" not in ids(everything(index))


def test_the_index_survives_a_restart(tmp_path):
    with ProductIndex(tmp_path / "ix") as ix:
        assert ix.needs_rebuild  # nothing there yet
        ix.apply_many(CATALOG)
        ix.apply(deleted(product_id="zip-hoodie", deleted_at=at(1)))
    with ProductIndex(tmp_path / "ix") as ix:
        assert ix.count() == len(CATALOG) - 1
        assert not ix.apply(updated(BY_ID["zip-hoodie"], updated_at=at(0.5)))
        assert ids(ix.search("Classic T-Shirt"))[0] == "classic-tee"
        assert ix.needs_rebuild is False


def test_an_index_of_another_schema_version_is_replaced_and_flagged(tmp_path):
    with ProductIndex(tmp_path / "ix") as ix:
        ix.apply_many(CATALOG)
    pointer = tmp_path / "ix" / "CURRENT"
    pointer.write_text(pointer.read_text().replace(f'"schema":{SCHEMA_VERSION}', '"schema":0'))
    with ProductIndex(tmp_path / "ix") as ix:
        assert ix.needs_rebuild
        assert ix.count() == 0
        ix.rebuild(CATALOG)
        assert ix.count() == len(CATALOG)


# --- sorting and paging -------------------------------------------------------------------------------


def test_sort_by_price(index):
    ascending = index.search("", sort="price_asc", limit=MAX_LIMIT)
    prices = [h.price for h in ascending.hits]
    assert prices == sorted(prices) and len(prices) == len(CATALOG)
    descending = index.search("", sort="price_desc", limit=MAX_LIMIT)
    assert [h.price for h in descending.hits] == sorted(prices, reverse=True)
    shirts = index.search("shirt", sort="price_asc", limit=MAX_LIMIT)
    assert [h.price for h in shirts.hits] == sorted(h.price for h in shirts.hits)
    assert all(h.score is None for h in shirts.hits)


def test_sort_by_newest(index):
    newest = index.search("linen", sort="newest")
    assert ids(newest) == ["linen-cushion", "linen-shirt"]
    everything_newest = index.search("", sort="newest", limit=MAX_LIMIT)
    assert ids(everything_newest) == [p.product_id for p in reversed(CATALOG)]


def test_pages_add_up(index):
    seen: list[str] = []
    for offset in range(0, 20, 4):
        page = index.search("", sort="newest", offset=offset, limit=4, facets=False)
        assert page.total == len(CATALOG)
        seen += ids(page)
    assert seen == [p.product_id for p in reversed(CATALOG)]
    assert index.search("", offset=15, limit=4).hits == []


def test_unknown_sort_is_a_value_error(index):
    with pytest.raises(ValueError, match="sort"):
        index.search("shirt", sort="cheapest")  # type: ignore[arg-type]


# --- suggestions --------------------------------------------------------------------------------------


def test_suggest_completes_product_names(index):
    for prefix in ["tsh", "t-sh", "T-Sh", "t sh"]:
        names = [s.text for s in index.suggest(prefix)]
        assert set(names) == {"Classic T-Shirt", "Organic Cotton T-Shirt", "V-Neck T-Shirt Slim"}, prefix
    assert [s.text for s in index.suggest("classic t")] == ["Classic T-Shirt"]
    first = index.suggest("lin")
    assert [s.text for s in first] == [
        "Linen Shirt",
        "Linen Cushion Cover",
    ]  # name starts with it, shorter first
    assert first[0].product_id == "linen-shirt" and first[0].slug == "linen-shirt"
    assert index.suggest("sh")[0].text == "Linen Shirt"  # "Shirt" starts a word in it
    assert len(index.suggest("s", limit=2)) == 2
    assert index.suggest("") == index.suggest("  -- ") == index.suggest("zzz") == []


# --- hostile input ------------------------------------------------------------------------------------

HOSTILE = [
    '"',
    '"unterminated phrase',
    "name:shirt",
    "brand:(Alder OR",
    "((((",
    "*",
    "shirt*",
    "~",
    "shirt~2",
    "^",
    "shirt^100",
    "-shirt",
    "- -- ---",
    "shirt AND OR NOT",
    "[1 TO *]",
    "{}",
    "\\",
    "\x00\x01\x02",
    "😀👕",
    "a" * 10_000,
    "shirt " * 2_000,
    '":(*~^-' * 1_500,
    "ü" * 5_000 + " tshirt",
]


@pytest.mark.parametrize("query", HOSTILE, ids=lambda q: repr(q[:12]))
def test_hostile_queries_return_sane_results(index, query):
    results = index.search(query, limit=10**9, offset=0)
    assert 0 <= results.total <= len(CATALOG)
    assert len(results.hits) <= MAX_LIMIT
    assert results.facets is not None
    assert isinstance(index.suggest(query, limit=10**9), list)
    assert len(index.suggest(query, limit=10**9)) <= MAX_SUGGESTIONS


def test_syntax_characters_are_just_separators(index):
    assert ids(index.search("shirt*"))[:1] == ids(index.search("shirt"))[:1]
    assert "classic-tee" in ids(index.search('"classic" (t-shirt)^2'))
    assert index.search("a" * 10_000).total == 0  # one enormous word matches nothing
    assert index.search('":(*~^-').total == len(CATALOG)  # no words at all: browse
    assert index.search("shirt " * 2_000).total == index.search("shirt").total  # only the first terms count


@pytest.mark.parametrize(
    "kwargs",
    [
        {"limit": 10**9},
        {"limit": -5},
        {"limit": 0},
        {"offset": 10**12},
        {"offset": -3},
        {"price_min": -100, "price_max": 10**30},
        {"price_min": 10**30},
        {"category": "/../%%\\\x00"},
        {"category": "a/" * 5_000},
        {"category": "///"},
        {"attributes": {"": ["x"], "size": [""], "=": ["="], "colour": ["x" * 10_000]}},
        {"attributes": {f"k{i}": [str(j) for j in range(1_000)] for i in range(100)}},
        {"attributes": {"size": None, "colour": [None, "Black"]}},
        {"price_edges": [-5, 0, 10**30, 7]},
        {"price_edges": []},
    ],
)
def test_absurd_parameters_return_sane_results(index, kwargs):
    results = index.search("shirt", **kwargs)
    assert 0 <= results.total <= len(CATALOG)
    assert len(results.hits) <= MAX_LIMIT


def test_limits_are_capped_and_zero_still_counts(index):
    capped = index.search("", limit=10**9)
    assert capped.limit == MAX_LIMIT and len(capped.hits) == len(CATALOG)
    none = index.search("", limit=0)
    assert none.hits == [] and none.total == len(CATALOG) and none.facets is not None
    far = index.search("", offset=10**12)
    assert far.hits == [] and far.total == len(CATALOG)


# --- rebuild ------------------------------------------------------------------------------------------


def test_rebuild_swaps_while_a_searcher_keeps_answering(tmp_path):
    ix = ProductIndex(tmp_path / "ix")
    ix.apply_many(CATALOG)
    old_generation = ix.generation

    stop = threading.Event()
    answers: list[int] = []
    errors: list[BaseException] = []

    def keep_searching():
        while not stop.is_set():
            try:
                answers.append(ix.search("shirt", facets=True).total)
                ix.suggest("lin")
            except BaseException as exc:  # reported by the assertion below
                errors.append(exc)

    lamp = product(
        product_id="lamp",
        name="Brass Desk Lamp",
        category_path=HOME,
        variants=[variant(sku="L-1", price=4500)],
    )
    progress: list[int] = []
    during: list[int] = []

    def snapshots():
        # the new catalog: everything but the hoodie, the boot repriced
        for i, p in enumerate(CATALOG):
            if p.product_id == "zip-hoodie":
                continue
            if p.product_id == "leather-boot":
                p = reprice(p, price=9999, updated_at=at(1))
            if i == 5:
                # an event arrives mid-rebuild: the live index has it at once, the new one after the swap
                assert ix.apply(lamp)
                assert ix.apply(
                    inventory(product_id="classic-tee", sku="CT-BLA-M", available=0, changed_at=at(2))
                )
                during.append(ix.search("desk lamp").total)
            time.sleep(0.01)
            yield p

    searcher = threading.Thread(target=keep_searching)
    searcher.start()
    try:
        time.sleep(0.05)
        before = len(answers)
        indexed = ix.rebuild(snapshots(), on_progress=progress.append)
        assert len(answers) > before  # queries were answered while the rebuild ran
    finally:
        stop.set()
        searcher.join()

    assert errors == []
    assert indexed == len(CATALOG) - 1 and progress[-1] == indexed
    assert during == [1]
    assert ix.generation != old_generation
    assert all(n > 0 for n in answers)
    assert ix.search("hoodie").total == 0  # not in the rebuilt catalog
    assert ix.search("leather boot").hits[0].price == 9999
    assert ix.search("desk lamp").total == 1  # replayed into the new generation
    assert [v.available for v in ix.product("classic-tee").variants if v.sku == "CT-BLA-M"] == [0]
    ix.close()

    reopened = ProductIndex(tmp_path / "ix")
    assert reopened.generation == ix.generation
    assert reopened.count() == len(CATALOG)  # minus the hoodie, plus the lamp
    assert sorted(p.name for p in (tmp_path / "ix").iterdir() if p.is_dir()) == [reopened.generation]
    reopened.close()


def test_a_failed_rebuild_leaves_the_live_index_alone(tmp_path):
    with ProductIndex(tmp_path / "ix") as ix:
        ix.apply_many(CATALOG)
        generation = ix.generation

        def broken():
            yield CATALOG[0]
            raise RuntimeError("catalog went away")

        with pytest.raises(RuntimeError, match="went away"):
            ix.rebuild(broken())
        assert ix.generation == generation
        assert ix.count() == len(CATALOG)
        assert ix.apply(deleted(product_id="zip-hoodie", deleted_at=at(1)))
        assert ix.count() == len(CATALOG) - 1
        assert sorted(p.name for p in (tmp_path / "ix").iterdir() if p.is_dir()) == [generation]
