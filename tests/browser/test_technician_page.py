"""The technician's page, as the technician and the nurse meet it, in Chromium: a new cart's screen
shows the page's address, the certificate's fingerprint and a first-boot code; on a laptop (and a
phone) of the same network the technician opens the page over HTTPS, checks the fingerprint, makes
their account with the code (a wrong code is said in French), enrols their authenticator, logs in,
reads the cart's state and queue, makes the cart's regional key and downloads the support bundle,
which holds no resident's name. A nurse's account is refused there. Screenshots in test-artifacts/."""

from __future__ import annotations

import hashlib
import io
import re
import ssl
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from agent.access.roles import Role
from tests.browser.kiosk import (
    VIEWPORT,
    PageProblems,
    at_the_technician_page,
    open_kiosk,
    shot,
    technician_page_url,
    technician_signed_in,
    technicians_browser,
)
from tests.live import LiveAgent, free_port, running_agent
from tests.sync.cart_dossiers import make_dossiers

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}
# A function, not an expression: Playwright evals an expression again on every poll,
# which the page's CSP (no 'unsafe-eval') refuses once the first check has failed.
PREVIEW_SHOWS_A_FRAME = "() => document.querySelector('img.camera-preview')?.naturalWidth > 0"


def served_fingerprint(agent: LiveAgent) -> str:
    """SHA-256 of the certificate the HTTPS listener presents, as a browser shows it: what the
    technician compares with the page and the cart's screen."""
    der = ssl.PEM_cert_to_DER_cert(ssl.get_server_certificate(("127.0.0.1", agent.https_port)))
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


@pytest.fixture
def cart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveAgent]:
    """A new cart (no technician account) that already holds a resident's teleconsultation: each
    test its own, since making the technician's account ends the first boot."""
    root = tmp_path_factory.mktemp("technician")
    data = root / "data"
    make_dossiers(data, 1, name="SECRETNOM")  # a name that must appear nowhere on the page nor in the bundle
    with running_agent(root, data_dir=data, https_port=free_port(), technician={"cart_name": "Chariot 2e étage"}) as agent:
        yield agent


def test_a_new_cart_shows_where_its_technician_page_is_and_the_code_that_opens_it(cart: LiveAgent, page: Page, artifacts: Path) -> None:
    open_kiosk(page, cart)
    note = page.locator(".technician-note.provisioning")
    expect(note).to_contain_text("Mise en service du chariot")
    expect(note).to_contain_text(f"Empreinte du certificat : {served_fingerprint(cart)}")
    expect(note.locator(".first-boot-code strong")).to_have_text(re.compile(r"^[A-Z2-9]{4}-[A-Z2-9]{4}$"))
    shot(page, artifacts, "technicien-ecran-mise-en-service.png")


def _first_boot_code(agent: LiveAgent) -> str:
    return requests.get(f"{agent.url}/api/v1/kiosk/technician-access", timeout=5).json()["code"]


def test_the_technician_makes_their_account_logs_in_and_takes_the_support_bundle(cart: LiveAgent, browser: Browser, artifacts: Path) -> None:
    context = technicians_browser(browser, LAPTOP)
    page = context.new_page()
    problems = PageProblems()
    page.on("console", problems.on_console)
    page.on("pageerror", problems.on_page_error)
    page.goto(technician_page_url(cart))
    expect(page.locator("#fingerprint")).to_contain_text(served_fingerprint(cart))
    expect(page.get_by_role("heading", name="Mise en service du chariot")).to_be_visible()

    form = page.locator("form")
    form.get_by_label("Code affiché sur l'écran du chariot").fill("AAAA-AAAA")
    form.get_by_label("Identifiant").fill("karim.benali")
    form.get_by_label("Nom affiché").fill("Karim Benali")
    form.get_by_label("Mot de passe (10 caractères au moins)").fill("un-long-mot-de-passe")
    form.get_by_label("Mot de passe, encore").fill("un-long-mot-de-passe")
    form.get_by_role("button", name="Créer mon compte technicien").click()
    expect(page.get_by_role("alert")).to_contain_text("Code de mise en service incorrect")

    form.get_by_label("Code affiché sur l'écran du chariot").fill(_first_boot_code(cart).lower().replace("-", " "))  # as typed on a phone
    form.get_by_role("button", name="Créer mon compte technicien").click()
    expect(page.get_by_role("heading", name="Compte créé : une dernière étape")).to_be_visible()
    expect(page.get_by_role("img", name="Code QR à scanner avec l'application d'authentification")).to_be_visible()
    secret = page.locator(".enrolled strong").inner_text().replace(" ", "")
    shot(page, artifacts, "technicien-compte-cree.png")
    assert requests.get(f"{cart.url}/api/v1/kiosk/technician-access", timeout=5).json()["code"] is None  # the screen stops showing it
    kiosk = browser.new_context(viewport=VIEWPORT, locale="fr-FR").new_page()  # the cart's own screen, from now on:
    open_kiosk(kiosk, cart)  # where the page is, and its certificate's fingerprint, under the login
    note = kiosk.locator(".technician-note")
    expect(note.get_by_role("heading", name="Page technicien")).to_be_visible()
    expect(note).to_contain_text(f"Empreinte du certificat : {served_fingerprint(cart)}")
    expect(note).not_to_contain_text("Code de mise en service")
    shot(kiosk, artifacts, "technicien-ecran-apres-mise-en-service.png")
    kiosk.context.close()

    page.get_by_role("button", name="J'ai enregistré le code : me connecter").click()
    page.get_by_label("Identifiant").fill("karim.benali")
    page.get_by_label("Mot de passe").fill("un-long-mot-de-passe")
    page.get_by_label("Code à usage unique").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Se connecter").click()

    expect(page.locator("#who")).to_contain_text("Karim Benali")
    expect(page.get_by_role("heading", name="État du chariot")).to_be_visible()
    for what in ("Processeur", "Mémoire", "Disque des données", "Envoi au serveur régional", "Agent"):
        expect(page.locator(".figure .what", has_text=what)).to_be_visible()
    expect(page.locator(".figure", has_text="Agent")).to_contain_text("version")
    # this machine's disk is not the image's LUKS2 partition: the page says so, in red
    expect(page.locator(".figure.bad", has_text="Chiffrement des données")).to_contain_text("NON")
    shot(page, artifacts, "technicien-etat-du-chariot.png")

    page.get_by_role("button", name="Envoi au serveur régional").click()
    expect(page.get_by_role("heading", name="En attente d'envoi")).to_be_visible()
    expect(page.locator("table.items").last).to_contain_text("résident (création)")  # the queue, never a name
    expect(page.locator("main")).not_to_contain_text("SECRETNOM")
    shot(page, artifacts, "technicien-envoi.png")

    page.get_by_role("button", name="Enrôlement régional").click()
    page.get_by_role("button", name="Créer la clé du chariot").click()
    expect(page.locator("pre.jwks")).to_contain_text('"crv": "P-384"')
    shot(page, artifacts, "technicien-enrolement.png")

    page.get_by_role("button", name="Comptes").click()
    expect(page.locator("table.accounts")).to_contain_text("karim.benali")
    page.get_by_label("Identifiant de l'administrateur").fill("sophie.martin")
    page.get_by_label("Nom affiché").fill("Sophie Martin")
    page.get_by_label("Mot de passe (10 caractères au moins, choisi par l'administrateur)").fill("mot-de-passe-de-sophie")
    page.get_by_role("button", name="Créer le compte administrateur").click()
    expect(page.get_by_role("img", name="Code QR de l'administrateur")).to_be_visible()
    shot(page, artifacts, "technicien-premier-administrateur.png")
    page.get_by_role("button", name="Comptes").click()
    expect(page.locator("table.accounts")).to_contain_text("Administrateur·rice")
    expect(page.get_by_role("button", name="Créer le compte administrateur")).to_have_count(0)  # once only

    page.get_by_role("button", name="Support").click()
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Télécharger le dossier de support").click()
    bundle = zipfile.ZipFile(io.BytesIO(Path(downloading.value.path()).read_bytes()))
    assert {"lisez-moi.txt", "configuration.toml", "diagnostic.json", "sync.txt", "audit.txt", "versions.txt", "journal.txt"} <= set(bundle.namelist())
    everything = b"".join(bundle.read(name) for name in bundle.namelist())
    assert b"SECRETNOM" not in everything and b"agent ready" in bundle.read("journal.txt")
    assert "piste d'audit intègre" in bundle.read("audit.txt").decode()
    assert not problems.page_errors and not problems.console_errors, problems
    context.close()

    actions = [r["action"] for r in _audit_actions(cart)]  # as an administrator reads the trail
    assert {"account.create", "technician.login", "sync.enrol", "technician.support_bundle"} <= set(actions), actions


def _audit_actions(agent: LiveAgent) -> list[dict]:
    admin = agent.add_account(Role.ADMIN)
    client = agent.login(admin)
    return client.get(f"{agent.url}/api/v1/audit", params={"limit": 200}, timeout=5).json()["items"]


def test_a_nurse_account_is_refused_on_the_technician_page_and_the_page_fits_a_phone(tmp_path: Path, browser: Browser,
                                                                                     artifacts: Path) -> None:
    with running_agent(tmp_path, https_port=free_port()) as cart:
        cart.add_account(Role.TECHNICIAN)  # a cart in service: the page asks for a login, not the first-boot code
        _nurse_at_the_technicians_door(cart, browser, artifacts)


def _nurse_at_the_technicians_door(cart: LiveAgent, browser: Browser, artifacts: Path) -> None:
    context, page = at_the_technician_page(browser, cart, cart.add_account(Role.NURSE), PHONE)
    expect(page.get_by_role("alert")).to_contain_text("réservée aux comptes technicien")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing cut on a phone
    shot(page, artifacts, "technicien-refus-infirmiere-telephone.png")
    context.close()


def test_the_technician_checks_the_sensors_and_aims_each_camera(tmp_path: Path, browser: Browser,
                                                                                      artifacts: Path) -> None:
    with running_agent(tmp_path, https_port=free_port()) as cart:
        context, page = technician_signed_in(browser, cart, LAPTOP)

        page.get_by_role("button", name="Capteurs").click()
        sensors = page.locator("table.sensors tbody tr")
        expect(sensors).to_have_count(2)  # the simulated oximeter and blood pressure module
        expect(sensors.first).to_contain_text("connecté")
        page.get_by_role("button", name="Chercher des appareils Bluetooth").click()
        expect(page.get_by_role("alert")).to_contain_text("Bluetooth est désactivé sur ce chariot")
        shot(page, artifacts, "technicien-capteurs.png")

        page.get_by_role("button", name="Caméras").click()
        preview = page.get_by_role("img", name="Aperçu de la caméra active")
        expect(preview).to_be_visible()
        page.wait_for_function(PREVIEW_SHOWS_A_FRAME)
        page.get_by_role("button", name=re.compile("^Voir ")).click()
        expect(page.locator(".camera-choices .button[aria-pressed='true']")).to_have_count(1)
        page.wait_for_function(PREVIEW_SHOWS_A_FRAME)
        shot(page, artifacts, "technicien-cameras.png")
        context.close()


def test_an_update_undone_by_itself_is_said_on_the_updates_tab(tmp_path: Path, browser: Browser, artifacts: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from agent.update import bundle as bundles
    from agent.update.releases import apply
    from tests.update.wheels import release_wheel

    root, publisher = tmp_path / "opt-telecart", Ed25519PrivateKey.generate()
    root.mkdir()
    good, broken = release_wheel(tmp_path / "w1", "0.5.0", "agent.cli:main"), release_wheel(tmp_path / "w2", "0.9.0", "agent.cli:main")
    starts = {"0.5.0": True, "0.9.0": False}  # the real starts are tests/update's: here, what the page says of them
    for version, wheel in (("0.5.0", good), ("0.9.0", broken)):
        apply(bundles.make(tmp_path / f"{version}.tar", version, [wheel], publisher), root, [publisher.public_key()], Path(sys.executable),
              lambda release: starts[release.name])
    with running_agent(tmp_path / "cart", https_port=free_port(), update={"root": str(root)}) as cart:
        context, page = technician_signed_in(browser, cart, LAPTOP)
        page.get_by_role("button", name="Mises à jour").click()
        expect(page.get_by_role("alert")).to_have_text(
            "Dernière mise à jour annulée : la version 0.9.0 ne démarrait pas : retour automatique à la version 0.5.0.")
        expect(page.locator("table.updates tbody tr")).to_have_count(4)  # 0.5.0 tried and installed, 0.9.0 tried and undone
        shot(page, artifacts, "technicien-mises-a-jour.png")
        context.close()


def test_the_technician_uploads_a_signed_update_and_a_foreign_one_is_refused(tmp_path: Path, browser: Browser, artifacts: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from agent.update import bundle as bundles
    from agent.update import incoming, releases
    from tests.update.wheels import release_wheel

    root, keys, publisher = tmp_path / "opt-telecart", tmp_path / "update-keys", Ed25519PrivateKey.generate()
    root.mkdir()
    keys.mkdir()
    (keys / "editeur.pem").write_bytes(publisher.public_key().public_bytes(serialization.Encoding.PEM,
                                                                           serialization.PublicFormat.SubjectPublicKeyInfo))
    wheel = release_wheel(tmp_path / "w", "0.6.0", "agent.cli:main")
    (tmp_path / "signed").mkdir()
    (tmp_path / "foreign").mkdir()
    signed = bundles.make(tmp_path / "signed" / "telecart-0.6.0.tar", "0.6.0", [wheel], publisher)
    foreign = bundles.make(tmp_path / "foreign" / "telecart-0.6.0.tar", "0.6.0", [wheel], Ed25519PrivateKey.generate())
    with running_agent(tmp_path / "cart", https_port=free_port(), update={"root": str(root), "keyring": str(keys)}) as cart:
        context, page = technician_signed_in(browser, cart, LAPTOP)
        page.get_by_role("button", name="Mises à jour").click()
        page.get_by_label("Paquet de mise à jour").set_input_files(str(foreign))
        page.get_by_role("button", name="Installer cette mise à jour").click()
        expect(page.get_by_role("alert")).to_contain_text("Mise à jour refusée")
        expect(page.get_by_role("alert")).to_contain_text("Rien n'a été installé")
        waiting = incoming.incoming_dir(cart.data_dir)
        assert not list(waiting.glob("*")) and not list(waiting.parent.glob(".upload-*"))  # nothing kept of it

        page.get_by_label("Paquet de mise à jour").set_input_files(str(signed))
        page.get_by_role("button", name="Installer cette mise à jour").click()
        expect(page.locator(".toast")).to_contain_text("Version 0.6.0 vérifiée")
        assert [p.name for p in waiting.glob("*.tar")] == ["telecart-0.6.0.tar"]

        # Root's telecart-update.service (`telecart update apply-incoming`), the agent's start played here
        taken = incoming.take(cart.data_dir, root / "incoming")
        assert not list(waiting.glob("*")) and [p.parent for p in taken] == [root / "incoming"]
        releases.apply(taken[0], root, bundles.keyring(keys), Path(sys.executable), lambda release: True)
        page.get_by_role("button", name="Mises à jour").click()
        expect(page.locator("table.updates tbody tr").first).to_contain_text("installée")
        shot(page, artifacts, "technicien-mise-a-jour-deposee.png")
        context.close()

        admin = cart.login(cart.add_account(Role.ADMIN))
        trail = admin.get(f"{cart.url}/api/v1/audit", params={"limit": 50}, timeout=5).json()["items"]
        said = [(r["outcome"], r["detail"]) for r in trail if r["action"] == "technician.update"]
        assert ("success", "version 0.6.0 déposée") in said and any(outcome == "failure" for outcome, _ in said)


def test_root_takes_only_real_files_out_of_the_agents_reach(tmp_path: Path) -> None:
    from agent.update import incoming

    data = tmp_path / "data"
    waiting = incoming.incoming_dir(data)
    waiting.mkdir(parents=True)
    secret = tmp_path / "shadow"
    secret.write_text("root's")
    (waiting / "telecart-9.9.9.tar").symlink_to(secret)  # what an agent turned hostile could drop
    (waiting / "telecart-1.0.0.tar").write_bytes(b"a bundle")
    taken = incoming.take(data, tmp_path / "root-incoming")
    assert [p.name for p in taken] == ["telecart-1.0.0.tar"] and taken[0].read_bytes() == b"a bundle"
    assert not list(waiting.iterdir()) and secret.read_text() == "root's"
