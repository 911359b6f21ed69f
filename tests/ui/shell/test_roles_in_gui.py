"""The window hides what the signed-in role may not do (the services refuse it too)."""

from reads_support import wait_for_reads

from crm_desktop.domain.roles import Role
from crm_desktop.services.context import Context


def visible_menus(window) -> set[str]:
    return {a.text().replace("&", "") for a in window.menuBar().actions() if a.isVisible()}


def test_sales_sees_no_marketing_controls_but_can_opt_out(qtbot, make_window, ctx, add_prospect):
    pid = add_prospect("Ada", "Lovelace")
    window = make_window(Context(ctx.db, user="sam", role=Role.SALES))
    c = window.commands
    assert "Marketing" not in visible_menus(window)
    assert not c.export_campaign.isVisible() and not c.suppression_list.isVisible()
    assert not c.manage_interests.isVisible() and not c.load_demo.isVisible()
    assert c.new_prospect.isVisible() and c.log_contact.isVisible()
    assert not window.tabs.isTabVisible(3)  # Exports
    window.prospects.select_prospect(pid)
    wait_for_reads(qtbot)  # the detail pane reads on a worker
    panel = window.prospects.detail.marketing
    assert panel.consent_button.isHidden() and panel.basis_button.isHidden()
    assert panel.opt_out_action.isEnabled() and panel.object_button.isEnabled()
    assert not panel.subscriber.isEnabled()


def test_marketing_sees_marketing_but_not_admin_items(qtbot, make_window, ctx, add_prospect):
    pid = add_prospect("Ada", "Lovelace")
    window = make_window(Context(ctx.db, user="mo", role=Role.MARKETING))
    assert "Marketing" in visible_menus(window)
    assert window.commands.export_campaign.isVisible() and window.tabs.isTabVisible(3)
    assert not window.commands.manage_interests.isVisible()
    window.prospects.select_prospect(pid)
    wait_for_reads(qtbot)  # the detail pane reads on a worker
    panel = window.prospects.detail.marketing
    assert not panel.consent_button.isHidden() and panel.consent_button.isEnabled()


def test_admin_sees_everything(window):
    assert all(a.isVisible() for a in window.commands)
    assert {"File", "Prospect", "Marketing", "View", "Help"} <= visible_menus(window)
