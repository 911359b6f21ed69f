"""An audit entry whose stored values are not JSON never stops a screen or a pack.

History shows it as unreadable; the access pack and a request's list of what
was done to answer it leave its values empty; ``verify`` names it.
"""

import pytest
from sqlalchemy import update

from crm_desktop.domain.models import AuditEntry
from crm_desktop.domain.validation import ProspectInput
from crm_desktop.services import audit, history, requests, sar, settings
from crm_desktop.services import prospects as P

CONTROLLER = {
    "name": "Acme Learning Ltd", "address": "1 Park Row\nLeeds LS1 5AB",
    "email": "privacy@acme-learning.co.uk", "dpo_name": "Priya Shah",
}  # fmt: skip


@pytest.mark.parametrize("junk", ["{not json", "", "[1, 2]", '"text"', "null"])
def test_unreadable_values_show_as_such_and_break_nothing(ctx, junk):
    settings.set_controller(ctx, **CONTROLLER)
    pid = P.create_prospect(
        ctx, ProspectInput(first_name="Ada", last_name="Lovelace", email="ada@oak.sch.uk")
    ).record.id
    request = requests.add_request(ctx, "access", prospect_ref=pid)
    with ctx.db.transaction() as session:
        requests.link_action(session, ctx, request.id, "pack-made", {"file": "ada.json"},
                             prospect_id=pid)  # fmt: skip
    with ctx.db.transaction() as session:
        session.execute(update(AuditEntry).values(values=junk))

    shown = audit.entries(ctx, entity="prospect", entity_id=pid)
    assert shown and all(not e.readable and e.values == {} for e in shown)
    created = [e for e in history.history(ctx, pid) if e.title == "Record created"]
    assert len(created) == 1 and created[0].detail == audit.UNREADABLE
    pack = sar.build_pack(ctx, pid)
    assert pack["processing_log"] and all(e["values"] == {} for e in pack["processing_log"])
    actions = requests.request_actions(ctx, request.id)
    assert [a.action for a in actions] == ["pack-made"] and actions[0].values == {}
    result = audit.verify(ctx)
    assert not result.ok and result.first_bad_id is not None
