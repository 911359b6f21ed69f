import pytest

from crm_desktop.domain.validation import ProspectInput, SchoolInput, ValidationError
from crm_desktop.errors import DuplicateError
from crm_desktop.services import interests as I
from crm_desktop.services import prospects as P
from crm_desktop.services import schools as S


def test_school_crud_and_unique_urn(ctx):
    oak = S.create_school(
        ctx, SchoolInput(name="Oakfield Primary", urn="100001", phase="primary")
    ).record
    assert oak.phase == "primary"
    with pytest.raises(DuplicateError, match="URN 100001 already belongs to Oakfield Primary"):
        S.create_school(ctx, SchoolInput(name="Other", urn="100001"))
    updated = S.update_school(
        ctx, oak.id, SchoolInput(name="Oakfield Primary", urn="100001", postcode="ls1 4ap")
    ).record
    assert updated.postcode == "LS1 4AP" and updated.version == 2
    assert [s.name for s in S.list_schools(ctx, "ls1")] == ["Oakfield Primary"]
    assert S.list_schools(ctx, "%") == []  # LIKE wildcards are literal


def test_deleting_school_keeps_its_prospects(ctx):
    p = P.create_prospect(
        ctx, ProspectInput(first_name="A", last_name="B", email="a@b.org", school="Oak")
    ).record
    assert S.get_school(ctx, p.school_id).prospect_count == 1
    S.delete_school(ctx, p.school_id)
    assert P.get_prospect(ctx, p.id).school_id is None


def test_ambiguous_school_name_is_refused(ctx):
    S.create_school(ctx, SchoolInput(name="St Mary's", urn="100001"))
    S.create_school(ctx, SchoolInput(name="St Mary's", urn="100002"))
    with pytest.raises(ValidationError, match="more than one school"):
        P.create_prospect(
            ctx, ProspectInput(first_name="A", last_name="B", email="a@b.org", school="st mary's")
        )


def test_interest_list_management(ctx):
    names = [n for _, n, _ in I.list_interests(ctx)]
    assert "SEND support" in names  # seeded by the first migration
    new_id = I.add_interest(ctx, "Robotics clubs")
    with pytest.raises(DuplicateError):
        I.add_interest(ctx, "robotics CLUBS")
    with pytest.raises(ValidationError):
        I.add_interest(ctx, "   ")
    I.rename_interest(ctx, new_id, "Robotics")
    P.create_prospect(
        ctx,
        ProspectInput(first_name="A", last_name="B", email="a@b.org", interests=["Robotics"]),
    )
    assert (new_id, "Robotics", 1) in I.list_interests(ctx)
    I.delete_interest(ctx, new_id)
    assert P.find_prospect(ctx, "a@b.org").interests == []
