import pytest

from crm_desktop.domain.validation import ProspectInput, ValidationError
from crm_desktop.errors import ConflictError, DuplicateError, NotFoundError
from crm_desktop.services import prospects as P
from crm_desktop.services import schools as S


def add(ctx, first="Jane", last="Smith", email="jane.smith@oakfield.sch.uk", **kw):
    return P.create_prospect(
        ctx, ProspectInput(first_name=first, last_name=last, email=email, **kw)
    ).record


def test_create_stores_normalised_values_and_links_new_school(ctx):
    saved = P.create_prospect(
        ctx,
        ProspectInput(
            first_name="Jane",
            last_name="Smith",
            email="Jane.Smith@Oakfield.SCH.UK",
            phone="020 7946 0000",
            school="Oakfield Primary",
            role="SENCo",
            interests=["SEND support"],
        ),
    )
    view = P.get_prospect(ctx, saved.record.id)
    assert view.email == "Jane.Smith@oakfield.sch.uk"
    assert view.phone == "+442079460000"
    assert view.school_name == "Oakfield Primary"
    assert view.interests == ["SEND support"]
    assert view.owner == "alice"  # the acting user by default
    assert saved.warnings == []
    # A second prospect naming the same school (any case) links, not duplicates.
    other = add(ctx, "Tom", "Brown", "tom@oakfield.sch.uk", school="OAKFIELD primary")
    assert other.school_id == view.school_id
    assert len(S.list_schools(ctx)) == 1


def test_duplicate_email_is_refused_case_insensitively_naming_the_existing(ctx):
    first = add(ctx)
    with pytest.raises(DuplicateError) as exc:
        add(ctx, "J", "S", "JANE.SMITH@oakfield.sch.uk")
    assert f"Jane Smith (prospect #{first.id})" in str(exc.value)
    assert P.count_prospects(ctx) == 1


def test_failed_save_stores_nothing_not_even_the_new_school(ctx):
    with pytest.raises(ValidationError):
        add(ctx, school="Brand New School", interests=["Not a service we sell"])
    assert P.count_prospects(ctx) == 0
    assert S.list_schools(ctx) == []


def test_update_replaces_fields_and_bumps_version(ctx):
    view = add(ctx)
    saved = P.update_prospect(
        ctx,
        view.id,
        ProspectInput(first_name="Janet", last_name="Smith", email=view.email, stage="trial"),
        expected_version=view.version,
    )
    assert saved.record.first_name == "Janet"
    assert saved.record.stage == "trial"
    assert saved.record.version == view.version + 1


def test_stale_edit_is_a_conflict_not_a_silent_overwrite(ctx):
    view = add(ctx)
    data = ProspectInput(first_name="A", last_name="B", email=view.email)
    P.update_prospect(ctx, view.id, data, expected_version=view.version)
    with pytest.raises(ConflictError, match="changed by someone else"):
        P.update_prospect(
            ctx,
            view.id,
            ProspectInput(first_name="C", last_name="D", email=view.email),
            expected_version=view.version,
        )
    assert P.get_prospect(ctx, view.id).first_name == "A"


def test_update_to_anothers_email_is_refused(ctx):
    add(ctx)
    other = add(ctx, "Tom", "Brown", "tom@oakfield.sch.uk")
    with pytest.raises(DuplicateError):
        P.update_prospect(
            ctx,
            other.id,
            ProspectInput(first_name="T", last_name="B", email="jane.smith@OAKFIELD.sch.uk"),
        )


def test_find_by_id_or_email_and_delete(ctx):
    view = add(ctx)
    assert P.find_prospect(ctx, str(view.id)).id == view.id
    assert P.find_prospect(ctx, f"#{view.id}").id == view.id
    assert P.find_prospect(ctx, "JANE.smith@oakfield.sch.uk").id == view.id
    P.delete_prospect(ctx, view.id)
    with pytest.raises(NotFoundError):
        P.find_prospect(ctx, view.id)


def test_search_prefix_matches_name_email_and_school(ctx):
    add(ctx, school="Oakfield Primary")
    add(ctx, "Tom", "Brown", "tom.brown@riverside.sch.uk", school="Riverside Academy")
    add(ctx, "Ann", "Jones", "ann@gmail.com")

    def names(q):
        return [r.full_name for r in P.list_prospects(ctx, P.ProspectQuery(search=q))]

    assert names("jan") == ["Jane Smith"]
    assert names("river") == ["Tom Brown"]
    assert names("gmail") == ["Ann Jones"]
    assert names("oak smi") == ["Jane Smith"]
    assert names("oak brown") == []
    assert P.count_prospects(ctx, P.ProspectQuery(search="a")) == 2  # Ann; Academy
    # FTS syntax in the input means nothing special and never errors.
    assert names('"OR* NEAR(') == []


def test_search_follows_school_rename(ctx):
    view = add(ctx, school="Oakfield Primary")
    school = S.get_school(ctx, view.school_id)
    from crm_desktop.domain.validation import SchoolInput

    S.update_school(ctx, school.id, SchoolInput(name="Willow Academy"))
    assert [r.id for r in P.list_prospects(ctx, P.ProspectQuery(search="willow"))] == [view.id]
    assert P.list_prospects(ctx, P.ProspectQuery(search="primary")) == []


def test_filters_sorting_and_paging(ctx):
    for i, (last, stage, role) in enumerate(
        [("Adams", "lead", "SENCo"), ("Baker", "customer", "Teacher"), ("Cole", "trial", "SENCo")]
    ):
        add(
            ctx,
            "P",
            last,
            f"p{i}@x.org",
            stage=stage,
            role=role,
            interests=["Safeguarding"] if i else [],
        )

    def lasts(**kw):
        return [r.last_name for r in P.list_prospects(ctx, P.ProspectQuery(**kw))]

    assert lasts() == ["Adams", "Baker", "Cole"]
    assert lasts(descending=True) == ["Cole", "Baker", "Adams"]
    assert lasts(sort="stage") == ["Adams", "Cole", "Baker"]  # pipeline order
    assert lasts(role="senco") == ["Adams", "Cole"]
    assert lasts(stage="customer") == ["Baker"]
    interest_id = next(
        i
        for i, n, _ in __import__("crm_desktop.services.interests", fromlist=["x"]).list_interests(
            ctx
        )
        if n == "Safeguarding"
    )
    assert lasts(interest_id=interest_id) == ["Baker", "Cole"]
    page = P.list_prospects(ctx, P.ProspectQuery(), offset=1, limit=1)
    assert [r.last_name for r in page] == ["Baker"]
    with pytest.raises(ValueError):
        P.list_prospects(ctx, P.ProspectQuery(sort="drop table"))


def test_blank_name_refused_with_field_messages(ctx):
    with pytest.raises(ValidationError) as exc:
        P.create_prospect(ctx, ProspectInput(first_name="", last_name="X", email="bad"))
    assert exc.value.errors["first_name"] == "is required"
    assert "is not a valid email address" in exc.value.errors["email"]
    assert P.count_prospects(ctx) == 0


def test_conflict_helpers_list_changes_and_merge_my_edit_on_top(ctx):
    view = add(ctx, role="Teacher", interests=["Safeguarding"])
    P.update_prospect(
        ctx, view.id,
        ProspectInput(first_name="Janet", last_name="Smith", email=view.email, role="Teacher",
                      interests=["Safeguarding", "SEND support"], stage="trial", owner="alice"),
    )  # fmt: skip
    theirs = P.get_prospect(ctx, view.id)
    assert P.differences(view, theirs) == [
        ("First name", "Jane", "Janet"),
        ("Interests", "Safeguarding", "Safeguarding, SEND support"),
        ("Stage", "Lead", "Trial"),
    ]
    mine = P.as_input(view)
    mine.role = "SENCo"
    merged = P.merge_edit(view, mine, theirs)
    assert (merged.first_name, merged.role, merged.stage) == ("Janet", "SENCo", "trial")
    assert sorted(merged.interests) == ["SEND support", "Safeguarding"]
