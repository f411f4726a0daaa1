"""The dashboard in a real browser: Playwright driving Debian's Chromium against the app on loopback.

One browser for the module, a fresh context (cookies) per test. Screenshots of
the queue and the review page go to test-artifacts/.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests.support.browser import BROWSER
from tests.support.dashboard import PASSWORD

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

pytestmark = BROWSER


def sign_in(page, name: str) -> None:
    page.goto("/dashboard/login")
    page.fill('input[name="name"]', name)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url("**/dashboard/")


def open_next(page) -> str:
    """From the queue, press C and wait until the review page can be edited; returns the ticket."""
    page.keyboard.press("c")
    page.wait_for_selector('#review[data-ready="1"]')
    return page.get_attribute("#review", "data-ticket")


def image_point_on_screen(page, x: float, y: float) -> tuple[float, float]:
    """Where image pixel (x, y) is on the cutout pane, in page coordinates."""
    stage = page.eval_on_selector("#stage", "s => ({...s.dataset})")
    box = page.locator("#cutout-view").bounding_box()
    scale, dpr = float(stage["scale"]), float(stage["dpr"])
    return (box["x"] + float(stage["offsetX"]) + x * scale / dpr,
            box["y"] + float(stage["offsetY"]) + y * scale / dpr)


def paint(page, x: float, y: float) -> None:
    sx, sy = image_point_on_screen(page, x, y)
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move(sx + 2, sy + 1, steps=3)
    page.mouse.up()


def stored_mask(app, ticket: str) -> Image.Image:
    from infrastructure import storage
    from infrastructure.extensions import db
    from orders.lookups import order_by_ticket

    with app.app_context():
        path = order_by_ticket(ticket).mask_path
        db.session.remove()
        with Image.open(storage.open_stream(path)) as mask:
            return mask.convert("L")


def order_row(app, ticket: str):
    from infrastructure.extensions import db
    from orders.lookups import order_by_ticket

    with app.app_context():
        order = order_by_ticket(ticket)
        db.session.expunge(order)
        return order


# The tiny box model keeps x 24..72, y 8..40 of the 96x64 test photo and removes the rest.
OUTSIDE_LEFT = (10, 54)
OUTSIDE_RIGHT = (86, 54)


def test_an_operator_signs_in_and_sees_the_queue(page, reviewable, make_operator):
    reviewable(2)
    make_operator()
    sign_in(page, "olga")

    assert page.inner_text("#queue-count") == "2"
    assert page.locator("#queue-table tbody tr").count() == 2
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "queue.png"), full_page=True)


def test_claim_next_opens_the_review_page_with_both_images(app, page, reviewable, make_operator):
    ticket = reviewable(1)[0]
    make_operator()
    sign_in(page, "olga")

    assert open_next(page) == ticket
    assert order_row(app, ticket).status == 50
    page.screenshot(path=str(ARTIFACTS / "review.png"))


def test_a_brush_stroke_is_stored_in_the_new_mask_version(app, page, reviewable, make_operator):
    ticket = reviewable(1)[0]
    make_operator()
    sign_in(page, "olga")
    open_next(page)
    assert stored_mask(app, ticket).getpixel(OUTSIDE_LEFT) == 0

    paint(page, *OUTSIDE_LEFT)
    page.keyboard.press("s")
    page.wait_for_selector("#version:text('version 1')")

    mask = stored_mask(app, ticket)
    assert mask.getpixel(OUTSIDE_LEFT) == 255
    assert mask.getpixel(OUTSIDE_RIGHT) == 0


def test_undo_takes_back_the_last_stroke_before_saving(app, page, reviewable, make_operator):
    ticket = reviewable(1)[0]
    make_operator()
    sign_in(page, "olga")
    open_next(page)

    paint(page, *OUTSIDE_LEFT)
    paint(page, *OUTSIDE_RIGHT)
    page.keyboard.press("Control+z")
    page.keyboard.press("s")
    page.wait_for_selector("#version:text('version 1')")

    mask = stored_mask(app, ticket)
    assert mask.getpixel(OUTSIDE_LEFT) == 255
    assert mask.getpixel(OUTSIDE_RIGHT) == 0


def test_pressing_a_approves_and_opens_the_next_order(app, page, reviewable, make_operator):
    first, second = reviewable(2)
    make_operator()
    sign_in(page, "olga")
    opened = open_next(page)

    page.keyboard.press("a")
    page.wait_for_function("t => document.querySelector('#review')?.dataset.ticket !== t && "
                           "document.querySelector('#review')?.dataset.ready === '1'", arg=opened)

    assert order_row(app, opened).status == 60
    other = second if opened == first else first
    assert page.get_attribute("#review", "data-ticket") == other


def test_rejecting_with_a_reason_tells_the_customer_why(app, page, reviewable, make_operator):
    ticket = reviewable(1)[0]
    make_operator()
    sign_in(page, "olga")
    open_next(page)

    page.keyboard.press("r")
    page.wait_for_selector("#reject-dialog[open]")
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    page.wait_for_url("**/dashboard/")

    order = order_row(app, ticket)
    assert (order.status, order.failure_reason) == (95, "subjectUnclear")


def test_bulk_approve_approves_every_selected_draft(app, page, reviewable, make_operator):
    tickets = reviewable(2)
    make_operator()
    sign_in(page, "olga")

    page.goto("/dashboard/bulk?min=0.8")
    page.keyboard.press("Control+a")
    page.keyboard.press("a")
    page.wait_for_selector(".flash:text('Approved 2 orders')")

    assert [order_row(app, t).status for t in tickets] == [60, 60]


def test_an_operator_is_refused_the_admin_pages(page, make_operator):
    make_operator()
    sign_in(page, "olga")

    assert page.locator("nav >> text=Customers").count() == 0
    page.expected_errors.append("status of 403")
    response = page.goto("/dashboard/admin/customers")
    assert response.status == 403
    assert "admin role" in page.inner_text("main")


def test_question_mark_lists_the_review_shortcuts(page, reviewable, make_operator):
    reviewable(1)
    make_operator()
    sign_in(page, "olga")
    open_next(page)

    page.keyboard.press("?")

    help_text = page.inner_text("#help")
    for shortcut in ("Approve", "Reject", "Skip", "Brush", "eraser", "Undo", "Redo", "Brush smaller",
                     "overlay", "Cycle backgrounds", "Keep / remove marker", "Hair band", "Cleanup with your settings"):
        assert shortcut in help_text
    page.keyboard.press("Escape")
    assert page.locator("#help[open]").count() == 0


def _canvas_centre(page) -> list[int]:
    return page.evaluate("""() => {
        const c = document.getElementById('original-view');
        return Array.from(c.getContext('2d').getImageData(c.width / 2, c.height / 2, 1, 1).data);
    }""")


def test_u_shows_a_redo_s_markup_over_the_original(client, page, customer, deliver, image_server, run_jobs,
                                                  make_operator):
    import io

    (ticket,) = deliver(1)
    buffer = io.BytesIO()
    Image.new("RGB", (96, 64), (255, 0, 0)).save(buffer, "PNG")
    markup = image_server.serve_bytes("/markup.png", buffer.getvalue(), "image/png")
    client.post(f"/REST.svc/Image/{ticket}/Reject/", json={**customer.creds(), "Comment": "see the circle",
                                                          "MarkupImageURL": markup})
    run_jobs()
    make_operator()
    sign_in(page, "olga")

    assert open_next(page) == ticket
    assert "see the circle" in page.inner_text("#redo-comment")
    assert _canvas_centre(page)[:3] != [255, 0, 0]
    page.keyboard.press("u")
    page.wait_for_selector('#markup[aria-pressed="true"]')
    page.wait_for_function("""() => {
        const c = document.getElementById('original-view');
        const d = c.getContext('2d').getImageData(c.width / 2, c.height / 2, 1, 1).data;
        return d[0] > 240 && d[1] < 15 && d[2] < 15;
    }""")
    page.keyboard.press("u")
    page.wait_for_selector('#markup[aria-pressed="false"]')


# --- the server's mask tools on the review page -----------------------------------------------------


def replace_latest_mask(app, ticket: str, mask) -> None:
    """Store `mask` (an H x W uint8 array) as the order's latest mask, before the page first shows it."""
    import io

    from infrastructure import storage
    from infrastructure.extensions import db
    from orders.lookups import order_by_ticket

    buffer = io.BytesIO()
    Image.fromarray(mask, "L").save(buffer, "PNG")
    with app.app_context():
        storage.write_bytes(order_by_ticket(ticket).mask_path, buffer.getvalue())
        db.session.remove()


def stroke(page, points: list[tuple[float, float]]) -> None:
    """Press, drag through `points` (image pixels), release."""
    sx, sy = image_point_on_screen(page, *points[0])
    page.mouse.move(sx, sy)
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(*image_point_on_screen(page, x, y), steps=8)
    page.mouse.up()


def set_brush_size(page, size: int) -> None:
    page.eval_on_selector("#brush-size", "(el, size) => { el.value = size; el.dispatchEvent(new Event('input')); }",
                          size)


@pytest.fixture
def missed_arm_order(app, client, customer, template_id, image_server, run_jobs):
    """An order of the generated missed-arm photo whose draft (version 0) is the body without the arm."""
    import io

    from tests.support.api import post_image, ticket_of
    from tests.support.mask_cases import missed_arm_case

    case = missed_arm_case()
    buffer = io.BytesIO()
    Image.fromarray(case.image, "RGB").save(buffer, "PNG")
    url = image_server.serve_bytes("/arm.png", buffer.getvalue(), "image/png")
    ticket = ticket_of(post_image(client, customer, templateId=template_id, ImageURL=url))
    run_jobs()
    replace_latest_mask(app, ticket, case.model_mask)
    return ticket, case


def test_a_keep_marker_over_a_missed_arm_adds_it_as_a_new_version_then_approve(app, page, missed_arm_order,
                                                                               make_operator):
    import numpy as np

    from tests.support.mask_cases import iou

    ticket, case = missed_arm_order
    make_operator()
    sign_in(page, "olga")
    assert open_next(page) == ticket
    assert iou(np.asarray(stored_mask(app, ticket)), case.exact_alpha) < 0.9

    page.keyboard.press("g")
    set_brush_size(page, 6)
    stroke(page, [(170, 100), (250, 100)])  # along the 10 px arm, x 150..260, y 95..105
    page.wait_for_selector("#version:text('version 1')")
    page.wait_for_selector("#tool-progress", state="hidden")

    refined = np.asarray(stored_mask(app, ticket))
    assert iou(refined, case.exact_alpha) > 0.98
    assert (refined[100, 170:251] == 255).all()
    assert "keep marker made version 1" in page.inner_text("#status")
    # The tool's version is one step of the history: undo takes it back (an unsaved edit), redo restores it.
    page.keyboard.press("z")
    page.wait_for_selector("#save:not([disabled])")
    page.keyboard.press("y")
    page.wait_for_selector("#save[disabled]")

    page.keyboard.press("a")
    page.wait_for_url("**/dashboard/")
    assert order_row(app, ticket).status == 60
    assert iou(np.asarray(stored_mask(app, ticket)), case.exact_alpha) > 0.98


def test_a_stale_marker_says_so_and_loads_the_version_another_tab_saved(app, page, missed_arm_order, make_operator):
    import numpy as np

    ticket, _case = missed_arm_order
    make_operator()
    sign_in(page, "olga")
    open_next(page)
    # Another tab of olga's saves a version meanwhile: the body and the arm, filled by hand.
    page.evaluate("""async ([url, token]) => {
        const canvas = new OffscreenCanvas(300, 200);
        const ctx = canvas.getContext('2d');
        ctx.fillStyle = '#fff';
        ctx.beginPath();
        ctx.arc(100, 100, 50, 0, Math.PI * 2);
        ctx.fill();
        ctx.fillRect(150, 95, 110, 10);
        const blob = await canvas.convertToBlob({type: 'image/png'});
        const headers = {'X-CSRFToken': token, 'Content-Type': 'image/png'};
        const r = await fetch(url, {method: 'POST', body: blob, headers});
        if (!r.ok) throw new Error('save failed ' + r.status);
    }""", [page.get_attribute("#review", "data-api") + "mask",
          page.get_attribute('meta[name="csrf-token"]', "content")])
    page.expected_errors.append("status of 409")

    page.keyboard.press("x")
    stroke(page, [(200, 100), (210, 100)])
    page.wait_for_selector("#version:text('version 1')")

    assert "version 1 was saved meanwhile" in page.inner_text("#status")
    assert (np.asarray(stored_mask(app, ticket))[100, 150:260] == 255).all()  # the marker removed nothing
    assert page.is_disabled("#save")  # the editor holds version 1 as stored
    # Drawn again, the marker works on version 1.
    stroke(page, [(240, 92), (240, 108)])
    page.wait_for_selector("#version:text('version 2')")
    assert (np.asarray(stored_mask(app, ticket))[95:105, 240] == 0).all()


def set_cleanup(page, **values: int) -> None:
    """Type each cleanup setting into the panel and wait until the server stored it."""
    page.click(".cleanup-settings summary")
    for name, value in values.items():
        with page.expect_response("**/api/settings/cleanup"):
            page.fill(f'#cleanup-fields input[name="{name}"]', str(value))
            page.locator(f'#cleanup-fields input[name="{name}"]').blur()


def test_c_runs_cleanup_with_the_operator_s_remembered_settings(app, page, reviewable, make_operator):
    import numpy as np

    ticket = reviewable(1)[0]
    mask = np.zeros((64, 96), np.uint8)
    mask[8:40, 24:72] = 255  # the box model's subject
    mask[20:23, 40:43] = 0  # a 9 px hole
    mask[50:52, 8:10] = 255  # a 4 px island
    replace_latest_mask(app, ticket, mask)
    make_operator()
    sign_in(page, "olga")
    open_next(page)
    set_cleanup(page, fill_holes=20, remove_islands=10)

    page.keyboard.press("c")
    page.wait_for_selector("#version:text('version 1')")

    cleaned = np.asarray(stored_mask(app, ticket))
    assert (cleaned[20:23, 40:43] == 255).all() and (cleaned[50:52, 8:10] == 0).all()
    assert (cleaned[8:40, 24:72] == 255).all()


def undo_and_save(page, key: str, version: int) -> None:
    """Undo the last step with `key`, save, and wait until the page shows the saved version."""
    page.keyboard.press(key)
    page.keyboard.press("s")
    page.wait_for_selector(f"#version:text('version {version}')")


def test_undo_after_a_region_re_run_brings_back_the_mask_before_it(app, page, reviewable, make_operator, run_jobs):
    import numpy as np

    ticket = reviewable(1)[0]
    empty = np.zeros((64, 96), np.uint8)  # the model's box is what a re-run brings back
    replace_latest_mask(app, ticket, empty)
    make_operator()
    sign_in(page, "olga")
    open_next(page)

    page.keyboard.press("m")
    stroke(page, [(1, 1), (95, 63)])
    page.wait_for_selector("#status:text('Re-running the model')")
    run_jobs()
    page.wait_for_selector("#version:text('version 1')")
    assert np.asarray(stored_mask(app, ticket)).any()

    undo_and_save(page, "Control+z", 2)
    assert (np.asarray(stored_mask(app, ticket)) == empty).all()


def test_cleanup_settings_follow_the_operator_to_another_browser(app, page, browser, live_server, reviewable,
                                                                make_operator):
    ticket = reviewable(1)[0]
    make_operator()
    sign_in(page, "olga")
    open_next(page)
    set_cleanup(page, fill_holes=20, grow=-3)

    other = browser.new_context(base_url=live_server.base)
    try:
        elsewhere = other.new_page()
        sign_in(elsewhere, "olga")
        elsewhere.goto(f"/dashboard/review/{ticket}")
        elsewhere.wait_for_selector('#review[data-ready="1"]')
        assert elsewhere.input_value('#cleanup-fields input[name="fill_holes"]') == "20"
        assert elsewhere.input_value('#cleanup-fields input[name="grow"]') == "-3"
        assert elsewhere.input_value('#cleanup-fields input[name="remove_islands"]') == "100"
    finally:
        other.close()


def test_undo_after_cleanup_brings_back_the_mask_before_it(app, page, reviewable, make_operator):
    import numpy as np

    ticket = reviewable(1)[0]
    holed = np.zeros((64, 96), np.uint8)
    holed[8:40, 24:72] = 255
    holed[20:23, 40:43] = 0  # a 9 px hole the cleanup fills
    replace_latest_mask(app, ticket, holed)
    make_operator()
    sign_in(page, "olga")
    open_next(page)
    set_cleanup(page, fill_holes=20)

    page.keyboard.press("c")
    page.wait_for_selector("#version:text('version 1')")
    assert (np.asarray(stored_mask(app, ticket))[20:23, 40:43] == 255).all()

    undo_and_save(page, "z", 2)
    assert (np.asarray(stored_mask(app, ticket)) == holed).all()


def test_f_mattes_a_brushed_band_and_leaves_the_rest_as_it_was(app, page, reviewable, make_operator):
    import numpy as np

    ticket = reviewable(1)[0]
    make_operator()
    sign_in(page, "olga")
    open_next(page)
    before = np.asarray(stored_mask(app, ticket))

    page.keyboard.press("f")
    set_brush_size(page, 8)
    stroke(page, [(30, 8), (66, 8)])  # along the box's top edge
    page.wait_for_selector("#version:text('version 1')")

    after = np.asarray(stored_mask(app, ticket))
    assert "hair band made version 1" in page.inner_text("#status") or "changed nothing" in page.inner_text("#status")
    far = np.ones(before.shape, bool)
    far[:20, 20:80] = False  # the band (radius 4) and then some
    assert (after[far] == before[far]).all()


def test_a_senior_pins_a_note_and_sends_back_and_the_operator_sees_it(app, page, reviewable, make_operator):
    from orders import operators, review

    make_operator("olga")
    make_operator("sam")
    app.config["QA_SAMPLE_PERCENT"] = 100
    ticket = reviewable(1)[0]
    with app.app_context():
        operators.set_level("sam", "senior")
        review.claim_and_approve(operators.operator_by_name("olga"), ticket)
    sign_in(page, "sam")

    page.click("#nav-qa")
    page.wait_for_url("**/dashboard/qa")
    page.keyboard.press("c")
    page.wait_for_url(f"**/dashboard/qa/{ticket}")
    box = page.locator("#qa-original").bounding_box()
    scale = min(box["width"] / 96, box["height"] / 64)  # the 96x64 photo fitted in the pane, centred
    left, top = box["x"] + (box["width"] - 96 * scale) / 2, box["y"] + (box["height"] - 64 * scale) / 2
    page.mouse.click(left + 30.5 * scale, top + 12.5 * scale)
    assert page.get_attribute("#qa", "data-pinned") == "30,12"
    assert page.get_attribute("#qa-cutout .qa-marker", "visibility") == "visible"
    page.fill("#qa-note-input", "the left edge cuts into the shirt")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "qa.png"))
    page.click("#send-back")
    page.wait_for_selector(".flash:text('back to olga')")
    assert order_row(app, ticket).status == 50

    page.click("text=Sign out")
    sign_in(page, "olga")
    page.goto(f"/dashboard/review/{ticket}")
    page.wait_for_selector('#review[data-ready="1"]')
    assert "the left edge cuts into the shirt" in page.inner_text("#qa-note")
    assert "(30, 12)" in page.inner_text("#qa-return")


# --- the QA check page's hold ---------------------------------------------------------------------


@pytest.fixture
def checking(app, page, people, reviewable):
    """olga's approval sampled into QA and sam signed in on its check page; returns its ticket."""
    from orders import operators, review

    app.config["QA_SAMPLE_PERCENT"] = 100
    ticket = reviewable(1)[0]
    with app.app_context():
        review.claim_and_approve(operators.operator_by_name("olga"), ticket)

    def open_check() -> str:
        sign_in(page, "sam")
        page.goto("/dashboard/qa")
        page.keyboard.press("c")
        page.wait_for_url(f"**/dashboard/qa/{ticket}")
        return ticket

    return open_check


def test_q_on_the_check_page_gives_the_check_back_undecided(app, page, checking):
    ticket = checking()

    page.keyboard.press("q")
    page.wait_for_url("**/dashboard/qa")

    order = order_row(app, ticket)
    assert (order.status, order.claimed_by_id, order.lease_expires_at) == (55, None, None)


def test_the_check_page_renews_the_hold_while_it_is_open(app, page, checking):
    from datetime import timedelta

    from infrastructure.extensions import db
    from orders.lookups import order_by_ticket
    from orders.models import utcnow

    page.clock.install()
    ticket = checking()
    with app.app_context():  # a hold about to lapse: only a renewal keeps it
        order_by_ticket(ticket).lease_expires_at = shortened = utcnow() + timedelta(seconds=5)
        db.session.commit()

    with page.expect_response(f"**/api/qa/{ticket}/renew") as renewal:
        page.clock.run_for(61_000)
    assert renewal.value.ok
    assert order_row(app, ticket).lease_expires_at > shortened + timedelta(minutes=1)


def test_a_check_whose_hold_was_lost_says_so_and_cannot_be_passed(app, page, checking):
    from infrastructure.extensions import db
    from orders.lookups import order_by_ticket

    page.clock.install()
    ticket = checking()
    page.expected_errors.append("status of 400")
    with app.app_context():  # the lease lapsed and the hold was given up meanwhile
        order = order_by_ticket(ticket)
        order.claimed_by_id = order.lease_expires_at = None
        db.session.commit()

    page.clock.run_for(61_000)
    page.wait_for_selector("#qa-status:text('You no longer hold this check')")
    assert page.is_disabled("#pass") and page.is_disabled("#send-back")


# --- marker colours --------------------------------------------------------------------------------


def _pixel_under(page, canvas: str, x: float, y: float) -> tuple[int, int, int]:
    """The colour a pane shows at page point (x, y), after the next frame is drawn."""
    return tuple(page.evaluate("""async ([selector, x, y]) => {
        await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
        const canvas = document.querySelector(selector), rect = canvas.getBoundingClientRect();
        const dpr = window.devicePixelRatio || 1;
        const at = [Math.round((x - rect.left) * dpr), Math.round((y - rect.top) * dpr)];
        return [...canvas.getContext('2d').getImageData(...at, 1, 1).data.slice(0, 3)];
    }""", [canvas, x, y]))


def _on_the_original(page, x: float, y: float) -> tuple[float, float]:
    """Where image pixel (x, y) is on the original pane (the panes share zoom and pan)."""
    sx, sy = image_point_on_screen(page, x, y)
    shift = page.locator("#original-view").bounding_box()["x"] - page.locator("#cutout-view").bounding_box()["x"]
    return sx + shift, sy


def _held_marker(page, key: str, x: float, y: float) -> tuple[int, int, int]:
    """Press the tool's key, hold a marker down over image pixel (x, y) of the original, and read its colour."""
    page.keyboard.press(key)
    sx, sy = _on_the_original(page, x, y)
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move(sx + 3, sy, steps=3)
    colour = _pixel_under(page, "#original-view", sx + 1, sy)
    page.mouse.up()
    return colour


def test_keep_and_remove_markers_show_green_and_cyan_over_the_red_overlay(page, reviewable, make_operator):
    reviewable(1)
    make_operator()
    sign_in(page, "olga")
    open_next(page)
    page.keyboard.press("o")  # the overlay tints the removed background red
    set_brush_size(page, 12)

    overlay = _pixel_under(page, "#original-view", *_on_the_original(page, *OUTSIDE_LEFT))
    keep = _held_marker(page, "g", *OUTSIDE_LEFT)
    page.wait_for_selector("#version:text('version 1')")
    remove = _held_marker(page, "x", *OUTSIDE_RIGHT)
    page.wait_for_selector("#version:text('version 2')")

    red, green, blue = keep
    assert green > red + 60 and green > blue + 60
    red, green, blue = remove
    assert blue > red + 100 and green > red + 60
    assert overlay[0] > overlay[2]  # the overlay is red where both markers were drawn


def test_the_tool_indicator_shows_the_active_marker_s_colour(page, reviewable, make_operator):
    reviewable(1)
    make_operator()
    sign_in(page, "olga")
    open_next(page)
    swatch = "#tool-swatch"

    page.keyboard.press("x")
    assert page.inner_text("#tool-name") == "Remove" and page.is_visible(swatch)
    removing = page.eval_on_selector(swatch, "s => getComputedStyle(s).backgroundColor")
    page.keyboard.press("g")
    assert page.inner_text("#tool-name") == "Keep"
    keeping = page.eval_on_selector(swatch, "s => getComputedStyle(s).backgroundColor")
    page.keyboard.press("b")
    assert page.inner_text("#tool-name") == "Brush" and not page.is_visible(swatch)

    assert removing == "rgb(0, 200, 255)" and keeping == "rgb(40, 230, 80)"
