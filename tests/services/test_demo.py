from datetime import date

import pytest

from crm_desktop.domain.validation import normalise_email, normalise_phone
from crm_desktop.errors import Cancelled
from crm_desktop.persistence import open_database
from crm_desktop.services import Context
from crm_desktop.services import correspondence as C
from crm_desktop.services import prospects as P
from crm_desktop.services.demo import generate_demo


def snapshot(ctx):
    return [
        (r.full_name, r.email, r.school_name, r.role, r.stage, r.last_contact_at)
        for r in P.list_prospects(ctx)
    ]


def test_same_seed_same_data(tmp_path):
    a = Context(open_database(tmp_path / "a.db", create=True), "alice")
    b = Context(open_database(tmp_path / "b.db", create=True), "alice")
    today = date(2026, 6, 1)
    ra = generate_demo(a, 120, seed=5, today=today)
    rb = generate_demo(b, 120, seed=5, today=today)
    assert ra == rb and ra.prospects == 120
    assert snapshot(a) == snapshot(b)
    c = Context(open_database(tmp_path / "c.db", create=True), "alice")
    generate_demo(c, 120, seed=6, today=today)
    assert snapshot(c) != snapshot(a)


def test_demo_data_is_valid_and_consistent(ctx):
    result = generate_demo(ctx, 300, seed=1, today=date(2026, 6, 1))
    assert P.count_prospects(ctx) == 300
    rows = P.list_prospects(ctx)
    assert len({r.email.lower() for r in rows}) == 300
    for r in rows[:50]:
        assert normalise_email(r.email) == r.email
        view = P.get_prospect(ctx, r.id)
        if view.phone:
            assert normalise_phone(view.phone).e164 == view.phone
        history = C.list_correspondence(ctx, r.id)
        assert view.last_contact_at == (history[0].occurred_at if history else None)
    assert result.contacts == sum(len(C.list_correspondence(ctx, r.id)) for r in rows)
    assert C.list_followups(ctx, today=date(2026, 6, 1))
    # A second run adds more without clashing with existing emails or URNs.
    generate_demo(ctx, 300, seed=1, today=date(2026, 6, 1))
    assert P.count_prospects(ctx) == 600


def test_cancel_leaves_nothing_and_progress_reaches_total(ctx):
    seen = []
    generate_demo(ctx, 50, seed=2, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1][0] == seen[-1][1]
    calls = {"n": 0}

    def cancel_on_second_check():
        calls["n"] += 1
        return calls["n"] > 1

    with pytest.raises(Cancelled):
        generate_demo(ctx, 12_000, seed=3, should_cancel=cancel_on_second_check)
    assert P.count_prospects(ctx) == 50


@pytest.mark.parametrize("n", [0, -1, 2_000_001])
def test_demo_size_is_bounded(ctx, n):
    with pytest.raises(ValueError, match="from 1 to 2,000,000"):
        generate_demo(ctx, n)


def test_demo_permissions_are_a_realistic_mix(ctx):
    from crm_desktop.services import exports as E
    from crm_desktop.services import marketing as M

    generate_demo(ctx, 400, seed=4, today=date(2026, 6, 1))
    preview = E.preview_export(ctx, E.ExportRequest("email", "Demo"))
    assert 100 < len(preview.included) < 400
    for reason in ("no-lawful-basis", "individual-without-consent", "opted-out", "suppressed"):
        assert preview.counts.get(reason), reason
    # Every opted-out demo person is on the suppression list, as the services would do.
    opted = [c for c in preview.excluded if "opted-out" in c.reasons]
    assert all("suppressed" in c.reasons for c in opted)
    consented = preview.included[0]
    view = M.marketing_view(ctx, consented.prospect_id)
    assert view.lawful_basis in ("consent", "legitimate-interest")
    if view.lawful_basis == "legitimate-interest":
        assert view.li_assessment_name
