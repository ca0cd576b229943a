"""The call, as its people live it: the specialist opens the emailed link in Chromium (fake camera
and microphone), the nurse enters the room from the dossier on the kiosk, and each sees and hears
the other; chat, snapshot and camera switch go through the real screens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.kiosk import shot, sign_in
from tests.call.harness import AUDIO_PROBE, VIDEO_PROBE, Cart, cart_with_mail, in_media_browser, leave_any_call, new_page
from tests.loopback import eventually

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SPECIALIST = "claire.petit@chu.example"


@pytest.fixture(scope="module")
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cart]:
    with cart_with_mail(tmp_path_factory.mktemp("call")) as cart:
        yield cart


@pytest.fixture(autouse=True)
def no_call_left(cart: Cart) -> Iterator[None]:
    """A test that failed half-way leaves the cart in its call: the next one would find it busy."""
    yield
    leave_any_call(cart)


def video(page: Page, peer: str, seconds: float = 3.0) -> dict:
    """What the page's video of `peer` decodes over `seconds`, once it plays."""
    expect(page.locator(f"video[data-peer={peer}]")).to_be_attached()
    eventually(lambda: page.evaluate(f"() => (document.querySelector('video[data-peer={peer}]') || {{}}).videoWidth > 0"), timeout=15)
    return page.evaluate(VIDEO_PROBE, [f"video[data-peer={peer}]", seconds])


def member_id(page: Page) -> str:
    """The id the room gave this participant ("p<n>"), once they are in."""
    page.wait_for_function("() => window.telecartRoom && window.telecartRoom.me")
    return page.evaluate("() => window.telecartRoom.me.id")


def join(browser: Browser, link: str) -> Page:
    _, page = new_page(browser)
    page.goto(link + "?vue=appel")  # the specialist's « Rejoindre l'appel » (the bare link opens the dossier)
    expect(page.get_by_text("Vérifiez votre caméra et votre micro")).to_be_visible()
    page.get_by_role("button", name="Rejoindre la téléconsultation").click()
    return page


def test_the_specialist_and_the_cart_see_hear_and_write_to_each_other(cart: Cart, artifacts: Path) -> None:
    """One call from the emailed link to leaving the room, each step as its person does it."""

    def scenario(browser: Browser) -> None:
        dossier = cart.dossier(SPECIALIST)
        link = cart.emailed_link(SPECIALIST)

        # The nurse opens the dossier on the kiosk and enters the room.
        _, kiosk = new_page(browser, has_touch=True)  # the cart's touchscreen
        sign_in(kiosk, cart.agent, cart.nurse_account)
        kiosk.goto(f"{cart.agent.url}/#/dossier/{dossier['id']}")
        kiosk.get_by_role("button", name="Entrer en salle").tap()
        expect(kiosk.get_by_text("Ce que voit le médecin", exact=True)).to_be_visible()
        assert cart.nurse.get(cart.url(f"/dossiers/{dossier['id']}")).json()["state"] == "in_progress"

        # The specialist, through the emailed link, gets the cart's simulated camera: 720p, steady,
        # each frame carrying the time the cart drew it.
        specialist = join(browser, link)
        seen = video(specialist, "cart")
        assert (seen["width"], seen["height"]) == (1280, 720), seen
        assert seen["fps"] >= 5, seen  # 30 on an idle machine; only a frozen picture fails here (bench/ measures)
        assert seen["delays"], "no time stamp read back: these are not the cart's frames"
        expect(specialist.locator(".tile.main figcaption")).to_contain_text("Chariot — EHPAD Les Tilleuls")
        # Beside the picture, the cart's live vitals (the simulated oximeter and cuff), the waveform drawn.
        vitals = specialist.locator(".call-vitals")
        expect(vitals.locator('[data-quantity="spo2"]')).to_contain_text("97")
        expect(vitals.locator('[data-quantity="pulse_rate"]').first).to_contain_text("72")
        expect(vitals).to_contain_text("Tensiomètre")
        shot(specialist, artifacts, "appel-constantes-medecin.png")
        expect(kiosk.locator('.sensor-strip [data-sensor="serie-1"]')).to_contain_text("97 % · 72 /min")  # the nurse sees them too
        shot(kiosk, artifacts, "appel-constantes-chariot.png")

        # The kiosk gets the specialist's camera and voice (Chromium's fake devices: a moving picture, beeps).
        doctor = member_id(specialist)
        theirs = video(kiosk, doctor)
        assert theirs["width"] > 0 and theirs["fps"] > 5, theirs
        assert kiosk.evaluate(AUDIO_PROBE, f"video[data-peer={doctor}]") > 0.001
        # ... and the specialist hears the cart's microphone (the simulated one beeps every second).
        assert specialist.evaluate(AUDIO_PROBE, "video[data-peer=cart]") > 0.001

        # Chat, both ways.
        specialist.locator("#chat-text").fill("Pouvez-vous approcher la caméra de la lésion ?")
        specialist.get_by_role("button", name="Envoyer", exact=True).click()
        expect(kiosk.locator(".chat-item").filter(has_text="approcher la caméra")).to_contain_text("Dr Claire PETIT")
        kiosk.locator("#chat-text").fill("Oui, je passe sur la caméra d'examen.")
        kiosk.get_by_role("button", name="Envoyer", exact=True).tap()
        expect(specialist.locator(".chat-item").filter(has_text="caméra d'examen")).to_contain_text("Chariot — EHPAD Les Tilleuls")

        # The nurse switches to the exam camera: the specialist sees it (4:3, the pink skin of the simulator).
        kiosk.get_by_role("button", name="Caméra d'examen").tap()
        expect(kiosk.get_by_role("button", name="Caméra d'examen")).to_have_attribute("aria-pressed", "true")
        eventually(lambda: video(specialist, "cart", 0.5)["width"] == 960, timeout=10)
        red, green, blue = video(specialist, "cart", 0.5)["centre"]
        assert red > blue + 40 and red > green, (red, green, blue)

        # The specialist asks for a photo: a full-resolution JPEG lands in the dossier, and everyone is told.
        specialist.get_by_role("button", name="Prendre une photo").click()
        expect(kiosk.locator(".chat-item.notice")).to_contain_text("Photo ajoutée au dossier (960 × 720)", timeout=30_000)
        documents = eventually(lambda: cart.nurse.get(cart.url(f"/dossiers/{dossier['id']}")).json()["documents"])
        assert [(d["kind"], d["mime"], d["width"], d["height"]) for d in documents] == [("photo", "image/jpeg", 960, 720)]
        # ... and so can the nurse, from the kiosk, on the room camera.
        kiosk.get_by_role("button", name="Caméra de la salle").tap()
        kiosk.get_by_role("button", name="Prendre une photo").tap()
        # (the chat keeps the notice; a toast lasts 5 s, less than a loaded CI may take to save a photo)
        expect(kiosk.locator(".chat-item.notice").filter(has_text="demandée par l'équipe soignante")).to_contain_text(
            "Photo ajoutée au dossier (1280 × 720)", timeout=30_000)
        documents = cart.nurse.get(cart.url(f"/dossiers/{dossier['id']}")).json()["documents"]
        assert [(d["width"], d["height"], d["added_by"]) for d in documents][1] == (1280, 720, cart.nurse_account.login)

        # The nurse invites the resident's daughter by link, from the call.
        kiosk.get_by_role("tab", name="Inviter").tap()
        kiosk.locator("#invite-name").fill("MARTIN")
        kiosk.locator("#invite-first-name").fill("Sophie")
        kiosk.locator("#invite-email").fill("sophie.martin@famille.example")
        kiosk.get_by_role("button", name="Envoyer l'invitation").tap()
        expect(kiosk.locator("#toasts")).to_contain_text("Invitation créée")
        assert "/s/" in cart.emailed_link("sophie.martin@famille.example")
        kiosk.get_by_role("tab", name="Participants").tap()  # invited, not yet arrived
        expect(kiosk.locator(".member.invited")).to_contain_text("Sophie MARTIN")
        kiosk.get_by_role("tab", name="Discussion").tap()

        # The specialist sends a document into the dossier from the call.
        from tests.documents import samples
        specialist.locator("#document-file").set_input_files(
            {"name": "ordonnance.pdf", "mimeType": "application/pdf", "buffer": samples.pdf(("Ordonnance", "Crème émolliente"))})
        expect(specialist.locator("#toasts")).to_contain_text("Document « ordonnance.pdf » ajouté au dossier.")
        expect(kiosk.locator(".chat-item.notice").last).to_contain_text("Dr Claire PETIT a ajouté le document « ordonnance.pdf »")

        # Identitovigilance: the resident's name and birth date over the call.
        expect(kiosk.locator(".resident-on-call")).to_contain_text("né le 02/11/1931")
        expect(kiosk.locator(".resident-on-call")).to_contain_text("APPEL")
        shot(kiosk, artifacts, "call-kiosk.png")
        shot(specialist, artifacts, "call-specialist.png")
        assert not kiosk.problems.page_errors and not specialist.problems.page_errors  # type: ignore[attr-defined]

        # The nurse looks at another screen meanwhile: the call goes on, and the strip under the top
        # bar brings her back to it (in the page's flow: it hides no title, no button).
        kiosk.get_by_role("button", name="Activité").tap()
        banner = kiosk.locator(".call-banner")
        expect(banner).to_be_visible(timeout=10_000)
        expect(banner).to_contain_text("Téléconsultation en cours")
        heading = kiosk.locator("main.content h1, main.content h2").first.bounding_box()
        box = banner.bounding_box()
        assert heading and box and box["y"] + box["height"] <= heading["y"], (box, heading)
        shot(kiosk, artifacts, "call-banner-kiosk.png")
        banner.get_by_role("button", name="Revenir à l'appel").tap()
        expect(kiosk).to_have_url(f"{cart.agent.url}/#/appel/{dossier['id']}")
        expect(kiosk.get_by_text("Ce que voit le médecin", exact=True)).to_be_visible()
        expect(banner).to_be_hidden()

        # Leaving is not ending: the nurse steps out (back to the dossier, still « En cours »), comes
        # back, then ends the consultation: the end form opens, the specialist is told.
        kiosk.get_by_role("button", name="Quitter la salle").tap()
        expect(kiosk).to_have_url(f"{cart.agent.url}/#/dossier/{dossier['id']}")
        expect(kiosk.locator("#toasts")).to_contain_text("la téléconsultation continue")
        expect(specialist.locator("#toasts")).to_contain_text("Le chariot a quitté la salle.")
        assert cart.nurse.get(cart.url(f"/dossiers/{dossier['id']}")).json()["state"] == "in_progress"
        kiosk.get_by_role("button", name="Entrer en salle").tap()
        kiosk.get_by_role("button", name="Terminer la téléconsultation").tap()
        expect(kiosk).to_have_url(f"{cart.agent.url}/#/fin/{dossier['id']}")
        expect(kiosk.get_by_role("button", name="Valider")).to_be_in_viewport()
        kiosk.get_by_role("button", name="Valider").tap()
        expect(kiosk).to_have_url(f"{cart.agent.url}/#/dossier/{dossier['id']}")
        expect(specialist.locator(".chat-item.notice").last).to_contain_text("L'équipe soignante a terminé la téléconsultation")
        assert cart.nurse.get(cart.url(f"/dossiers/{dossier['id']}")).json()["state"] == "awaiting_report"

    in_media_browser(scenario)


def test_the_technician_sees_the_quality_of_the_call_live(cart: Cart, artifacts: Path) -> None:
    from agent.access.roles import Role

    technician = cart.agent.add_account(Role.TECHNICIAN)

    def scenario(browser: Browser) -> None:
        dossier = cart.dossier("qualite@chu.example")
        specialist = join(browser, cart.emailed_link("qualite@chu.example"))
        assert cart.nurse.post(cart.url(f"/dossiers/{dossier['id']}/call")).status_code == 200
        video(specialist, "cart", 0.5)
        _, page = new_page(browser, has_touch=True)
        sign_in(page, cart.agent, technician)
        expect(page.get_by_role("heading", name="Appel en cours : qualité")).to_be_visible()
        row = page.locator("tr[data-participant]")
        expect(row).to_contain_text("Dr Claire PETIT")
        expect(row).to_contain_text("1280 × 720", timeout=15_000)
        expect(row).to_contain_text("VP8")
        expect(row).to_contain_text("direct (réseau local)")
        expect(row).to_contain_text("lien estimé", timeout=15_000)  # the ladder's rung and the link it reckons
        expect(row.locator("td").last).to_contain_text(re.compile(r"720p|360p|180p"))
        shot(page, artifacts, "call-technician.png")
        expect(page.locator(".call-banner")).to_be_hidden()  # « Revenir à l'appel » is for those who take part
        cart.nurse.delete(cart.url(f"/dossiers/{dossier['id']}/call"))

    in_media_browser(scenario)


def test_a_dropped_connection_comes_back_by_itself(cart: Cart) -> None:
    """The specialist's network drops (the WebSocket dies, then the media path): the page reconnects
    with the same link and the cart's picture comes back, nobody touching anything."""

    def scenario(browser: Browser) -> None:
        dossier = cart.dossier("coupure@chu.example")
        specialist = join(browser, cart.emailed_link("coupure@chu.example"))
        assert cart.nurse.post(cart.url(f"/dossiers/{dossier['id']}/call")).status_code == 200
        video(specialist, "cart", 0.5)
        specialist.evaluate("() => window.telecartRoom.ws.close()")  # what a dead network does to the socket
        expect(specialist.locator(".connection")).to_be_visible()
        expect(specialist.locator(".connection")).to_be_hidden(timeout=15_000)
        again = video(specialist, "cart", 1.0)
        assert again["width"] == 1280 and again["fps"] > 5, again
        # The media path alone fails (the browser says so): the cart offers a new one.
        specialist.evaluate("() => { window.telecartRoom.oldCart = window.telecartRoom.pcs.get('cart'); window.telecartRoom.send({type: 'reconnect'}); }")
        specialist.wait_for_function("() => window.telecartRoom.pcs.get('cart') !== window.telecartRoom.oldCart"
                                     " && window.telecartRoom.pcs.get('cart').connectionState === 'connected'", timeout=15_000)
        assert video(specialist, "cart", 1.0)["fps"] > 5
        cart.nurse.delete(cart.url(f"/dossiers/{dossier['id']}/call"))

    in_media_browser(scenario)


def test_a_cart_that_answers_by_itself_shows_the_specialist_on_its_screen(tmp_path: Path, artifacts: Path) -> None:
    """Nobody at the cart, nobody logged in: the specialist joins, the cart answers, and its screen
    shows the specialist over the login page (the participants only, nothing of the dossier)."""
    with cart_with_mail(tmp_path, call={"auto_answer": True}) as cart:
        dossier = cart.dossier("seule@chu.example")

        def scenario(browser: Browser) -> None:
            _, screen = new_page(browser, has_touch=True)
            screen.goto(f"{cart.agent.url}/")
            expect(screen.locator("#login")).to_be_visible()
            specialist = join(browser, cart.emailed_link("seule@chu.example"))
            assert video(specialist, "cart", 1.0)["width"] == 1280  # the cart answered: its camera arrives
            expect(screen.locator(".kiosk-call.overlay")).to_be_visible(timeout=10_000)
            doctor = member_id(specialist)
            theirs = video(screen, doctor, 1.0)
            assert theirs["width"] > 0 and theirs["fps"] > 5, theirs
            assert screen.evaluate(AUDIO_PROBE, f"video[data-peer={doctor}]") > 0.001
            expect(screen.locator(".kiosk-call.overlay")).not_to_contain_text("APPEL")  # no patient name
            shot(screen, artifacts, "call-unattended.png")
            assert cart.nurse.get(cart.url(f"/dossiers/{dossier['id']}")).json()["state"] == "in_progress"
            # The room ends: the screen goes back to the login page.
            cart.nurse.delete(cart.url(f"/dossiers/{dossier['id']}/call"))
            expect(screen.locator(".kiosk-call.overlay")).to_have_count(0, timeout=10_000)
            expect(screen.locator("#login")).to_be_visible()

        in_media_browser(scenario)


def test_a_visio_sms_call_from_the_kiosk(cart: Cart, artifacts: Path) -> None:
    """Visio SMS (no dossier): the nurse sends the invitation, enters the room, lets the guest in
    from the lobby, sees her."""

    def scenario(browser: Browser) -> None:
        _, kiosk = new_page(browser, has_touch=True)
        sign_in(kiosk, cart.agent, cart.nurse_account)
        kiosk.goto(f"{cart.agent.url}/#/visio")
        kiosk.locator("#visio-email").fill("invite.visio@famille.example")
        kiosk.get_by_role("button", name="Lancer l'invitation").tap()
        kiosk.get_by_role("button", name="Entrer en salle").tap()
        expect(kiosk.get_by_text("Ce que voit le médecin", exact=True)).to_be_visible()
        expect(kiosk.get_by_role("button", name="Prendre une photo")).to_have_count(0)  # no dossier to keep it
        # The guest waits in the lobby under the name she types; the nurse hears it and lets her in.
        _, guest = new_page(browser)
        guest.goto(cart.emailed_link("invite.visio@famille.example"))
        join_button = guest.get_by_role("button", name="Rejoindre la téléconsultation")
        expect(join_button).to_be_disabled()  # no name, no lobby
        guest.locator("#my-name").fill("Jeanne MARTIN")
        join_button.click()
        expect(guest.get_by_role("heading", name="Salle d'attente")).to_be_visible()
        expect(guest.locator("video[data-peer=cart]")).not_to_be_visible()
        waiting = kiosk.locator(".lobby .waiting-person")
        expect(waiting).to_contain_text("Jeanne MARTIN")
        expect(waiting).to_contain_text("lien d'invité")
        assert kiosk.evaluate("() => window.telecartChimes") == 1
        kiosk.screenshot(path=str(artifacts / "call-lobby-kiosk.png"))
        guest.screenshot(path=str(artifacts / "call-lobby-guest.png"))
        waiting.get_by_role("button", name="Faire entrer").tap()
        expect(kiosk.locator(".lobby")).to_be_hidden()
        assert video(guest, "cart", 1.0)["width"] == 1280
        assert video(kiosk, member_id(guest), 1.0)["width"] > 0
        kiosk.get_by_role("button", name="Quitter la salle").tap()
        expect(kiosk).to_have_url(f"{cart.agent.url}/#/activite")
        expect(guest.locator("#toasts")).to_contain_text("Le chariot a quitté la salle.")

    in_media_browser(scenario)
