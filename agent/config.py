"""The agent's configuration: one TOML file, validated by typed models.

Every field has a default that works on a laptop with simulated devices. Unknown keys are
errors that name the key, so a typo fails at start instead of being silently ignored.
Each field's description is its documentation: `telecart config show` and docs/configuration.md
are made from it.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any

# The agent uses no pydantic plugin; without this, pydantic looks for them in every installed
# distribution's entry points when the first model is made (a few hundredths of the start).
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator  # noqa: E402


def default_data_dir() -> Path:
    state = os.environ.get("STATE_DIRECTORY")  # set by systemd's StateDirectory=
    if state:
        return Path(state.split(":")[0])
    return Path.home() / ".local" / "state" / "telecart"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ServerConfig(Section):
    host: str = Field("127.0.0.1", description="Address the agent listens on. 127.0.0.1 keeps the kiosk local; 0.0.0.0 opens it to the network.")
    port: int = Field(8080, ge=1, le=65535, description="TCP port of the kiosk, API and metrics.")
    public_url: str = Field("http://127.0.0.1:8080", description="Base of every link the cart sends out (invitations).")
    max_body_kib: int = Field(256, ge=1, description="Largest JSON request body accepted, in KiB (file uploads have their own limit).")
    https_port: int = Field(8443, ge=0, le=65535, description="TCP port of the HTTPS listener that invitation links reach (browsers give the camera only to secure pages; loopback is exempt). 0: no HTTPS listener. It serves only what people outside the cart open: the join and link pages and their API, document downloads; never the kiosk nor the staff API.")
    public_host: str = Field("0.0.0.0", description="Address the HTTPS listener listens on: the network the invitation links reach. The kiosk's own listener stays on `host`.")
    metrics_token: str = Field("", description="Bearer token that opens /metrics to a monitoring server elsewhere. Empty: /metrics answers loopback only.")
    tls_certificate: str = Field("", description="PEM certificate chain of the HTTPS listener. Empty: the cart makes its own self-signed certificate on first start (in the data directory), which browsers accept after a warning; give a real one for invitations sent outside the EHPAD.")
    tls_key: str = Field("", description="PEM private key matching `tls_certificate`.")
    allowed_hosts: list[str] = Field(default_factory=list, description="Extra names (host or host:port) the agent answers to besides loopback, `host` and public_url's host, e.g. the cart's name on the EHPAD network. Other Host headers are refused (DNS rebinding).")

    @model_validator(mode="after")
    def _links_follow_the_port(self) -> ServerConfig:
        """Without a public_url of its own, links point at the port the agent really answers on
        (`telecart demo --port 8191` wrote links on 8080)."""
        if "public_url" not in self.model_fields_set:
            self.public_url = f"http://127.0.0.1:{self.port}"
        return self


class StorageConfig(Section):
    data_dir: Path = Field(default_factory=lambda: default_data_dir(), description="Where the database and the blobs live. Default: systemd's $STATE_DIRECTORY, else ~/.local/state/telecart. `--data-dir` overrides it.")
    min_free_mib: int = Field(64, ge=0, description="Below this much free disk space the agent refuses writes (503) instead of failing half-way.")


class SecurityConfig(Section):
    idle_lock_minutes: float = Field(5, gt=0, description="The kiosk locks itself after this much time without a touch; the same user unlocks it.")
    session_hours: float = Field(12, gt=0, description="A session ends this long after login, whatever the activity.")
    max_failed_logins: int = Field(5, ge=1, description="Consecutive failed logins after which the account is locked.")
    lockout_minutes: float = Field(15, gt=0, description="How long a locked account stays locked.")
    otp_valid_window: int = Field(1, ge=0, le=2, description="One-time codes accepted this many 30-second steps before or after now (clock drift).")
    second_factors: list[str] = Field(default_factory=lambda: ["totp", "sms", "email"], description="Second factors allowed after the password: `totp` (an authenticator app), `sms` and `email` (a code sent on request to the account's own mobile or email, set on the admin's accounts page). The CPS card needs none.")
    cookie_secure: bool = Field(False, description="Send the session cookie only over HTTPS. Turn on when the agent is reached over HTTPS.")


class DossiersConfig(Section):
    establishment: str = Field("EHPAD", min_length=1, max_length=80, description="Name of the establishment, as invitations and reports print it (e.g. « EHPAD Les Tilleuls »).")
    timezone: str = Field("Europe/Paris", description="Time zone in which invitations and reports write dates and times.")
    room_opens_before_minutes: int = Field(15, ge=0, le=240, description="The room of a scheduled teleconsultation opens this long before the slot starts.")
    room_stays_open_minutes: int = Field(45, ge=0, le=720, description="The room stays open this long after the slot ends (the call may run over).")
    report_window_hours: int = Field(72, ge=1, le=24 * 30, description="After the room closes, the specialist's link still opens the dossier this long to write and sign the report.")
    max_upload_mib: int = Field(20, ge=1, le=200, description="Largest document accepted in a dossier, in MiB.")
    download_link_days: int = Field(7, ge=1, le=90, description="A document sent to a patient can be downloaded for this many days.")
    patient_payment: bool = Field(False, description="The end of a teleconsultation asks the amount charged to the patient (seed 004, a practice's cart). An EHPAD's cart charges nobody at the screen: off.")


    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (e.g. Europe/Paris, America/Cayenne)") from exc
        return value


class MailConfig(Section):
    smtp_host: str = Field("", description="SMTP relay that sends invitations and download links by email. Empty: emails wait in the queue (shown on the dossier) until one is configured.")
    smtp_port: int = Field(587, ge=1, le=65535, description="Port of the SMTP relay (587 with STARTTLS, 465 with TLS, 25 plain).")
    security: str = Field("starttls", pattern="^(none|starttls|tls)$", description="Encryption to the relay: `starttls` (upgrade after connecting), `tls` (encrypted from the start) or `none` (trusted loopback relay only).")
    username: str = Field("", description="Login on the relay; empty when it needs none.")
    password: str = Field("", description="Password on the relay. Prefer a file readable only by the agent for this configuration.")
    sender: str = Field("Telecart <telecart@localhost>", description="From: address of every email.")
    timeout_seconds: float = Field(20, gt=0, description="Give up one sending attempt after this long; the queue tries again later.")


class SmsConfig(Section):
    gateway_url: str = Field("", description="HTTP(S) URL of the SMS gateway: the agent POSTs JSON {\"to\": \"+33…\", \"text\": \"…\"}. Empty: SMS wait in the queue until one is configured.")
    bearer_token: str = Field("", description="Sent as `Authorization: Bearer …` to the gateway when not empty.")
    timeout_seconds: float = Field(15, gt=0, description="Give up one sending attempt after this long; the queue tries again later.")


class MssanteConfig(Section):
    host: str = Field("", description="The MSSanté operator's SMTP server through which the cart sends a dossier's PDFs to a health professional's secure health messaging address (e.g. smtp.operateur.mssante.fr). Empty, or without `sender`, `client_certificate` and `client_key`: nothing is sent, and the dossier page says why.")
    port: int = Field(465, ge=1, le=65535, description="Port of the operator's SMTP server (465 with `tls`, 587 with `starttls`).")
    security: str = Field("tls", pattern="^(tls|starttls)$", description="`tls` (encrypted from the start) or `starttls` (upgrade after connecting). There is no clear-text mode: MSSanté is TLS 1.2 or later with the cart's client certificate.")
    client_certificate: str = Field("", description="PEM certificate (chain) of the cart or of the structure (an IGC-Santé server/organisation certificate) with which the operator authenticates the cart.")
    client_key: str = Field("", description="PEM private key matching `client_certificate`, readable by the agent only.")
    ca_file: str = Field("", description="PEM file of the authorities that signed the operator's certificate (e.g. IGC-Santé), trusted besides the system's. Empty: the system's authorities only.")
    sender: str = Field("", description="The cart's (or structure's) MSSanté address, From: of every message (e.g. chariot.tilleuls@ehpad-tilleuls.mssante.fr).")
    product_reference: str = Field("", description="The software's reference given by the ANS convergence platform, sent as the X-MSS-NIL header on every message. Empty: the header is left out.")
    allowed_domains: list[str] = Field(default_factory=lambda: ["mssante.fr"], description="A recipient's address must be in one of these domains or their subdomains (MSSanté addresses end in mssante.fr). Empty: any address.")
    max_message_mib: int = Field(10, ge=1, le=100, description="Largest message (its PDFs and their IHE-XDM copy, once encoded) the cart hands to the operator, in MiB; a larger sending is refused on the page.")
    timeout_seconds: float = Field(60, gt=0, description="Give up one sending attempt after this long; the queue tries again later.")


class SyncConfig(Section):
    fhir_base_url: str = Field("", description="The regional server's FHIR R4 base URL (e.g. https://telesante.example/fhir). Empty: nothing is sent; the outbox keeps every change until it is set.")
    identifier_base: str = Field("", description="Base of the identifier systems of what this cart sends (each resource carries `<base>/<kind>` and the cart's own id), given by the region to keep carts apart. Empty: urn:telecart:cart:<this cart's id>.")
    auth: str = Field("none", pattern="^(none|bearer|smart)$", description="How the cart proves itself to the regional server: `smart` (SMART Backend Services: an access token obtained with an assertion signed by the cart's own key, made by `telecart sync enrol`, whose public JWKS the region registers), `bearer` (the fixed `bearer_token`) or `none`. Not written: `bearer` when `bearer_token` is set, else `none` (as before this key existed).")
    bearer_token: str = Field("", description="The fixed token sent as `Authorization: Bearer …` when `auth` is `bearer` (a test server, a gateway).")
    client_id: str = Field("", description="The cart's SMART client id at the region. Empty: the cart's own id, which `telecart sync enrol` prints.")
    token_url: str = Field("", description="The region's SMART token endpoint. Empty: read from `<fhir_base_url>/.well-known/smart-configuration`.")
    scope: str = Field("system/Patient.crus system/Encounter.crus system/Appointment.crus system/Consent.crus system/Observation.crus system/DocumentReference.crus system/Composition.crus system/Practitioner.crus system/Provenance.crus system/AuditEvent.cu",
                       min_length=1, description="The SMART v2 scopes asked with each token: create, read, update and search the types the cart sends, nothing else (no delete). A server that checks a transaction Bundle as a whole rather than entry by entry needs `system/*.cruds` here.")
    client_certificate: str = Field("", description="PEM certificate (chain) of the cart for mutual TLS with the regional server and its token endpoint, with `client_key`. Empty: no client certificate.")
    client_key: str = Field("", description="PEM private key matching `client_certificate`.")
    ca_file: str = Field("", description="PEM file of the authority that signed the regional server's certificate, trusted besides the system's (a region's own authority). Empty: the system's authorities only.")
    upload_url: str = Field("", description="The region's resumable upload endpoint beside its FHIR server (the tus 1.0 protocol with its creation extension, e.g. https://telesante.example/files/), for documents larger than `inline_document_bytes`: a link cut during the upload resumes where it stopped, after a reboot too, and the DocumentReference points at the finished file. It takes the same credentials as the FHIR server. Empty: every document travels inside its DocumentReference, one request each.")
    inline_document_bytes: int = Field(256 * 1024, ge=0, description="With `upload_url` set: a document up to this size still travels inside its DocumentReference (one request, no upload to resume); a larger one is uploaded first.")
    poll_seconds: float = Field(30, gt=0, description="How often the queue is looked at when nothing woke it.")
    timeout_seconds: float = Field(60, gt=0, description="Give up one sending attempt after this long; it is tried again later.")
    max_backoff_seconds: float = Field(900, gt=0, description="Longest wait between two attempts while the server fails or cannot be reached (doubling from 5 s, with jitter).")
    pull_seconds: float = Field(300, gt=0, description="How often the cart asks the regional server what it wrote for the cart's dossiers (the expert's opinion, the signed report, documents): one search per dossier it still keeps.")
    retention_days: int = Field(30, ge=0, description="A closed or cancelled dossier is purged from the cart (its rows, its files, the messages that named it; the resident and the audit trail stay) once the regional server confirmed every part of it and this many days have passed since both its last change and that confirmation; the purge is audited. 0: as soon as it is confirmed. Never while anything of it waits, is in conflict or was refused.")

    @model_validator(mode="after")
    def _auth_as_configured(self) -> SyncConfig:
        """A configuration written before `auth` existed keeps sending its bearer token."""
        if "auth" not in self.model_fields_set:
            self.auth = "bearer" if self.bearer_token else "none"
        if self.auth == "bearer" and not self.bearer_token:
            raise ValueError("auth = \"bearer\" needs a `bearer_token`")
        if bool(self.client_certificate) != bool(self.client_key):
            raise ValueError("mutual TLS needs both `client_certificate` and `client_key`")
        return self


class DevicesConfig(Section):
    simulate: bool = Field(False, description="Use simulated devices (cameras, card reader, sensors). `--simulate` turns it on.")


class SensorConfig(Section):
    """One serial vital-sign device: a `[[sensors]]` table each (docs/sensors.md)."""

    name: str = Field(min_length=1, max_length=40, description="What the nurse reads on the kiosk, e.g. « Oxymètre ».")
    protocol: str = Field(description="Its wire protocol: contec-cms50d (Contec CMS50D+ pulse oximeter, older firmware), contec-cms50d-v7 (firmware 4.6 and later, CMS50E), nonin-oem3 (Nonin OEM III module, data format 2), suntech-nibp (SunTech Advantage blood pressure module).")
    port: str = Field("", description="Its serial port: a stable /dev/serial/by-id/… name on the cart (any path: a pseudo-terminal in tests). Empty: found by its USB identity below.")
    usb_vendor: str = Field("", pattern="^([0-9a-fA-F]{4})?$", description="USB vendor id in hexadecimal (e.g. 10c4), to find the device on whichever port it is plugged into.")
    usb_product: str = Field("", pattern="^([0-9a-fA-F]{4})?$", description="USB product id in hexadecimal (e.g. ea60).")
    usb_serial: str = Field("", description="USB serial number, to tell two identical adapters apart.")

    @field_validator("protocol")
    @classmethod
    def _known_protocol(cls, value: str) -> str:
        from drivers.sensors.protocols import SERIAL_PROTOCOLS

        if value not in SERIAL_PROTOCOLS:
            raise ValueError(f"unknown protocol {value!r}; known: {', '.join(sorted(SERIAL_PROTOCOLS))}")
        return value

    @model_validator(mode="after")
    def _found_somewhere(self) -> SensorConfig:
        if not self.port and not self.usb_vendor:
            raise ValueError("give the sensor a `port` or a `usb_vendor` (and `usb_product`)")
        return self


class BluetoothConfig(Section):
    enabled: bool = Field(True, description="Look for Bluetooth health devices (pulse oximeter, blood pressure, thermometer, scale, glucose meter) and keep the paired ones connected (BlueZ over the system D-Bus). Off: serial sensors only. Under `--simulate` it is off unless written here.")
    adapter: str = Field("", description="The Bluetooth adapter to use (hci0…). Empty: BlueZ's default.")


class CardConfig(Section):
    enabled: bool = Field(True, description="Watch the PC/SC card readers (pcscd) for CPS cards: a card inserted on the login or lock screen starts a card login. Off: password and one-time code only.")
    pkcs11_module: str = Field("", description="Path of the CPS card's PKCS#11 module (the ANS's Cryptolib CPS, e.g. /usr/local/lib/libcps3_pkcs11_lux.so). Empty: a card is seen but cannot log in.")
    token_label: str = Field("", description="Label of the token to use when the module does not name its slots after the readers (a test module such as SoftHSM2). Empty: the slot of the reader, else the only card.")
    trust_anchors: str = Field("", description="PEM file of the certification authorities whose cards may log in (IGC-Santé's roots and intermediates in production). Empty: no card is trusted.")
    pin_tries: int = Field(3, ge=1, le=10, description="Wrong PINs a card accepts before it blocks (3 for a CPS). The kiosk shows how many remain and never spends the last one without the person's explicit choice.")
    create_accounts: bool = Field(False, description="A card whose national identifier (idNat_PS) is linked to no account creates one on first use, with `new_account_role`. Off: an admin links the card's RPPS to an account first.")
    new_account_role: str = Field("nurse", pattern="^(nurse|doctor|technician|admin)$", description="Role of an account created by a first card login (see `create_accounts`).")
    extra_atrs: list[str] = Field(default_factory=list, description="Answers to reset of CPS cards besides the CPS3's, in hexadecimal (\"3B AC 00 …\"), for another generation or batch of cards.")


class PscConfig(Section):
    enabled: bool = Field(False, description="« Se connecter avec Pro Santé Connect » on the kiosk (the e-CPS app on the person's phone). Needs the cart registered with the ANS as a client.")
    issuer: str = Field("https://auth.esante.gouv.fr/auth/realms/esante-wallet", description="The provider's issuer URL; its /.well-known/openid-configuration is read at the first login.")
    client_id: str = Field("", description="The cart's client id at Pro Santé Connect.")
    client_secret: str = Field("", description="The cart's client secret (client_secret_basic). Prefer a file readable only by the agent for this configuration.")
    redirect_uri: str = Field("http://127.0.0.1:8080/psc/retour", description="Where the provider sends the kiosk's browser back, as registered with the ANS: the kiosk's own address and /psc/retour.")
    link_redirect_uri: str = Field("", description="Where the provider sends a consulted doctor back when they open their link with Pro Santé Connect, as registered with the ANS. Empty: `[server] public_url` and /psc/retour.")
    scope: str = Field("openid scope_all", description="Scopes asked of the provider.")
    acr_values: str = Field("eidas1", description="Level of authentication asked (eidas1: the e-CPS app).")


# What both aiortc and browsers take: TURN over TLS (turns:) runs over TCP only (no DTLS), and a
# host is a name or an IPv4 address (aiortc parses no [IPv6] literal). aiortc refuses anything
# else only when a call starts, and skips a turns: over UDP without a word: refused here, at start.
_ICE_URL = re.compile(r"stun:[^?:/\s]+(:\d{1,5})?|turn:[^?:/\s]+(:\d{1,5})?(\?transport=(udp|tcp))?|turns:[^?:/\s]+(:\d{1,5})?(\?transport=tcp)?")


class IceServer(Section):
    urls: list[str] = Field(min_length=1, description="stun:host[:port], turn:host[:port][?transport=udp|tcp], turns:host[:port][?transport=tcp] (TLS over TCP: on port 443 it passes firewalls that let only HTTPS out)")
    username: str = ""
    credential: str = ""
    secret: str = Field("", description="coturn's static-auth-secret (use-auth-secret): the cart then makes each participant, and itself, a credential of its own that expires with the room, instead of handing out `credential`")

    @field_validator("urls")
    @classmethod
    def _urls_spoken(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not _ICE_URL.fullmatch(url):
                raise ValueError(f"{url!r} is not stun:host[:port], turn:host[:port][?transport=udp|tcp] "
                                 "or turns:host[:port][?transport=tcp]")
        return urls


MESH_LIMIT = 3  # remote participants the direct mesh holds (the cart's uplink, every browser's connections)


class CallConfig(Section):
    ice_servers: list[IceServer] = Field(default_factory=list, description="STUN and TURN servers given to every peer of the call, e.g. `[{urls = [\"turns:turn.example.fr:443?transport=tcp\", \"turn:turn.example.fr:3478\"], secret = \"…\"}]` (coturn's shared secret: short-lived credentials per participant) or with a fixed `username` and `credential` (docs/coturn.md). `turns:` is TURN over TLS: on port 443 it passes hospital firewalls that drop UDP and let only HTTPS out; browsers try every URL, the cart uses the first TURN URL only (aiortc takes one): list the one its own network lets out first. Empty: direct connections only, which work on the EHPAD's own network.")
    ice_transport_policy: str = Field("all", pattern="^(all|relay)$", description="`relay` forces every media path through the TURN server (networks that block peer-to-peer traffic); `all` tries direct paths first.")
    auto_answer: bool = Field(False, description="The cart joins the call by itself when an invited participant enters the room during its window (carts left without staff at the screen). Off: the nurse taps « Entrer en salle ».")
    video_codec: str = Field("VP8", pattern="^(VP8|H264)$", description="Codec of the cart's video. VP8 costs half of aiortc's H.264 on a 2-core cart at 720p (bench/README.md); H.264 for old iPhones.")
    lobby: bool = Field(True, description="People other than the consulted specialist (a relative, another professional, a Visio SMS guest) wait in a lobby with the name they typed until the nurse at the cart or the specialist lets them in: a forwarded link is not a live camera on a resident. Off: every genuine link enters at once.")
    max_remote_participants: int = Field(3, ge=1, le=12, description="Remote participants at once in a room (specialist, relative, another professional). The direct mesh holds three (each costs the cart an uplink copy and every browser a connection): more needs `sfu_url`.")
    sfu_url: str = Field("", pattern=r"^(|wss?://\S+)$", description="The region's Janus (a WebSocket URL, e.g. `wss://janus.region.example/janus`), through which a room of many participants goes: the cart publishes its camera and microphone once into a VideoRoom, each participant publishes theirs and receives the others' from Janus. Only the cart speaks to this URL (the participants' pages negotiate through the cart's room; their media go to Janus). Empty: every room is the direct mesh (docs/janus.md).")
    sfu_from: int = Field(4, ge=1, le=100, description="From this many remote participants (counted as `max_remote_participants` counts them) a room goes through `sfu_url` when it is set; fewer stay on the direct mesh, which needs no server. 1: every room through Janus.")
    sfu_admin_key: str = Field("", description="The `admin_key` of Janus's VideoRoom plugin, when it is configured with one (only who shows it may create rooms). Prefer a file readable only by the agent for this configuration.")

    @model_validator(mode="after")
    def _mesh_holds_three(self) -> CallConfig:
        if self.max_remote_participants > MESH_LIMIT and not self.sfu_url:
            raise ValueError(f"max_remote_participants above {MESH_LIMIT} needs sfu_url (the direct mesh holds {MESH_LIMIT})")
        return self


class MediaConfig(Section):
    room_camera: str = Field("", description="The room camera: its /dev/v4l/by-id name (or a path). Empty: the first camera found.")
    exam_camera: str = Field("", description="The exam camera (dermatoscope, otoscope): its /dev/v4l/by-id name (or a path). Empty: the second camera found, if any.")
    camera_width: int = Field(1280, ge=160, le=3840, description="Width asked of the cameras, in pixels; a snapshot keeps the camera's full resolution.")
    camera_height: int = Field(720, ge=120, le=2160, description="Height asked of the cameras, in pixels.")
    camera_fps: float = Field(30, gt=0, le=60, description="Frame rate asked of the cameras.")
    camera_format: str = Field("mjpeg", pattern="^(mjpeg|yuyv422|)$", description="Pixel format asked of the cameras: `mjpeg` fits 720p at 30 fps in USB 2.0; empty lets the camera choose.")
    preview_width: int = Field(640, ge=160, le=1920, description="Width of the local preview on the kiosk (JPEG frames, cheap to make and to show).")
    preview_fps: float = Field(12, gt=0, le=30, description="Frame rate of the local preview: enough to aim an otoscope.")
    audio_backend: str = Field("pulse", pattern="^(pulse|alsa)$", description="How the microphone is read: `pulse` (PipeWire's PulseAudio service, the image's default) or `alsa`.")
    audio_input: str = Field("", description="Microphone device. Empty: `echo-cancel-source` with echo_cancel = \"pipewire\", else `default`.")
    echo_cancel: str = Field("pipewire", pattern="^(pipewire|device|none)$", description="Who cancels the echo of the speaker in the microphone (aiortc has no canceller): `pipewire` (the image loads PipeWire's echo-cancel module and the cart records its cancelled source), `device` (a USB speakerphone cancels it itself), `none` (headset only). docs/sound.md.")


class TechnicianConfig(Section):
    cart_name: str = Field("", max_length=60, description="The cart's name as technicians find it on the network (e.g. « Chariot 2e étage »). Empty: the machine's host name.")
    page: bool = Field(True, description="The technician's page on the HTTPS listener (`/technicien` on `[server] https_port`): network, regional enrolment, diagnostics, support bundle; opened with a technician account, or on first boot with the code the cart's screen shows. Never any health data.")
    announce: bool = Field(False, description="Announce the cart on the local network by multicast DNS (zeroconf, `_telecart._tcp`) so that technicians find its page. On in the appliance's configuration; off by default so that a development machine says nothing on its network.")
    announce_interfaces: list[str] = Field(default_factory=list, description="Where to announce: interface names or IPv4 addresses (e.g. [\"wlan0\"]). Empty: every interface but loopback.")


class NetworkConfig(Section):
    http_proxy: str = Field("", pattern=r"^(|https?://\S+)$", description="The EHPAD's web proxy (e.g. http://proxy.ehpad.local:3128, `user:password@` allowed) through which the agent reaches the regional server, the SMS gateway and Pro Santé Connect; set from the technician's page. Empty: direct. NetworkManager's own proxy setting carries only a PAC address for the desktop's browser, which the agent does not read: hence this key.")


class UpdateConfig(Section):
    root: Path = Field(Path("/opt/telecart"), description="Where the agent's versions live (releases/<version>, `current`, `previous`, update-state.json); the service runs `<root>/current/bin/telecart`. `telecart update apply` (as root) installs a bundle there on trial and undoes it if it does not start.")
    keyring: Path = Field(Path("/etc/telecart/update-keys"), description="Directory of the publisher's Ed25519 public keys (PEM) an update bundle must be signed with. Empty or absent: every bundle is refused.")
    unit: str = Field("telecart.service", description="The agent's systemd unit, restarted on the new version (READY=1 within its start timeout, or the update is undone).")


class PrintingConfig(Section):
    server: str = Field("", description="The CUPS server the cart prints through: a host, host:port or the path of its socket (e.g. `/run/cups/cups.sock`, `print.ehpad.local:631`). Empty: the system's (CUPS_SERVER, /etc/cups/client.conf, else the cart's own cupsd).")
    printer: str = Field("", max_length=127, description="The CUPS queue the nurse's prints go to (the pharmacy's or the care unit's printer), as `lpstat -p` names it; chosen on the technician's page. Empty: the CUPS server's default destination.")


class PracticeConfig(Section):
    enabled: bool = Field(True, description="The nurses' practice mode (« Entraînement », from the kiosk's settings): demo residents in a directory of their own, a simulated specialist who joins the call and writes a prescription, nothing sent, printed or synced, everything erased on leaving. Off: the kiosk does not offer it.")
    port: int = Field(0, ge=0, le=65535, description="Loopback port of the practice kiosk (its own agent beside the real one, reached as http://practice.localhost:PORT so that its cookies are not the kiosk's). 0: any free port.")
    prescription_after_seconds: float = Field(60, gt=0, le=3600, description="The simulated specialist writes a prescription this long after joining the call.")
    idle_minutes: float = Field(15, gt=0, le=240, description="A practice nobody touches for this long ends by itself, its data erased, and the kiosk goes back to the real cart (its lock screen): the next nurse does not find the cart in practice. Its strip counts down the last half-minute; a practice call holds it off.")


class LoggingConfig(Section):
    level: str = Field("INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$", description="Least severe log level written.")


class Config(Section):
    server: ServerConfig = ServerConfig()
    storage: StorageConfig = StorageConfig()
    security: SecurityConfig = SecurityConfig()
    dossiers: DossiersConfig = DossiersConfig()
    mail: MailConfig = MailConfig()
    sms: SmsConfig = SmsConfig()
    mssante: MssanteConfig = MssanteConfig()
    sync: SyncConfig = SyncConfig()
    devices: DevicesConfig = DevicesConfig()
    card: CardConfig = CardConfig()
    bluetooth: BluetoothConfig = BluetoothConfig()
    sensors: list[SensorConfig] = Field(default_factory=list, description="The serial sensors, one `[[sensors]]` table each.")
    psc: PscConfig = PscConfig()
    call: CallConfig = CallConfig()
    media: MediaConfig = MediaConfig()
    technician: TechnicianConfig = TechnicianConfig()
    network: NetworkConfig = NetworkConfig()
    update: UpdateConfig = UpdateConfig()
    printing: PrintingConfig = PrintingConfig()
    practice: PracticeConfig = PracticeConfig()
    logging: LoggingConfig = LoggingConfig()


class ConfigError(Exception):
    """The configuration file is unreadable or invalid; the message names the culprit."""


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        if item["type"] == "extra_forbidden":
            lines.append(f"unknown key '{where}'")
        else:
            lines.append(f"'{where}': {item['msg']}")
    return "; ".join(lines)


def load_config(path: Path | None, overrides: dict[str, dict[str, Any]] | None = None) -> Config:
    """Read the TOML file at `path` (defaults only when None), then apply command-line overrides."""
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read configuration file {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"configuration file {path} is not valid TOML: {exc}") from exc
    from_file = {section: dict(values) if isinstance(values, dict) else values for section, values in raw.items()}
    for section, values in (overrides or {}).items():
        raw.setdefault(section, {}).update(values)
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        origin = f"configuration file {path}" if path else "configuration"
        raise ConfigError(f"{origin}: {_describe(exc)}") from exc
    return _with_site_settings(config, from_file, overrides or {})


def _with_site_settings(config: Config, from_file: dict[str, Any], overrides: dict[str, dict[str, Any]]) -> Config:
    """The technician's settings (agent/site_settings.py) over the file, under the command line;
    settings that no longer validate are ignored with a warning, never a refusal to start."""
    from agent import site_settings

    site = site_settings.read(config.storage.data_dir)
    if not site:
        return config
    layered = from_file
    for layer in (site, overrides):
        for section, values in layer.items():
            layered.setdefault(section, {}).update(values)
    try:
        return Config.model_validate(layered)
    except ValidationError as exc:
        import logging

        logging.getLogger(__name__).warning("the technician's settings are ignored: %s", _describe(exc))
        return config


# Values `telecart config show` never prints: a screen or a support ticket is no place for them.
SECRET_FIELDS = (("mail", "password"), ("sms", "bearer_token"), ("sync", "bearer_token"), ("server", "metrics_token"), ("psc", "client_secret"),
                 ("call", "sfu_admin_key"))
MASK = "••••••••"


def masked(config: Config) -> Config:
    """A copy of the configuration with the secrets that are set replaced by a mask."""
    sections = {}
    for section, key in SECRET_FIELDS:
        current = getattr(config, section)
        if getattr(current, key):
            sections[section] = current.model_copy(update={key: MASK})
    if "@" in config.network.http_proxy:
        sections["network"] = config.network.model_copy(update={"http_proxy": masked_url(config.network.http_proxy)})
    return config.model_copy(update=sections)


def masked_url(url: str) -> str:
    """The address readable, its `user:password@` masked (a proxy's)."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{MASK}@{rest.rpartition('@')[2]}"


def as_toml_dict(config: Config) -> dict[str, Any]:
    """The effective configuration as plain TOML-serialisable values."""
    return config.model_dump(mode="json")


def annotated_toml(config: Config) -> str:
    """The configuration as TOML with each key's documentation above it (docs/configuration.md)."""
    import tomli_w

    lines: list[str] = []
    for section_name in Config.model_fields:
        section = getattr(config, section_name)
        if isinstance(section, list):  # a list of tables: each key documented above an example
            lines += _documented_tables(section_name, SensorConfig, section, SENSOR_EXAMPLE)
            continue
        lines.append(f"[{section_name}]")
        for key, info in type(section).model_fields.items():
            lines.append(f"# {info.description}")
            value = section.model_dump(mode="json")[key]
            if isinstance(value, list) and all(isinstance(v, (str, int, float, bool)) for v in value):
                lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")  # one line under its comment (tomli_w splits lists)
            else:
                lines.append(tomli_w.dumps({key: value}).rstrip())
        lines.append("")
    return "\n".join(lines)


SENSOR_EXAMPLE = {"name": "Oxymètre", "protocol": "contec-cms50d", "port": "/dev/serial/by-id/usb-Silicon_Labs_CP2102_USB_to_UART-if00-port0"}


def _documented_tables(name: str, model: type[Section], tables: list[Section], example: dict[str, str]) -> list[str]:
    """`[[name]]` tables, each key's documentation above it; with none configured, a commented example."""
    import tomli_w

    lines = [f"# {model.__doc__}"] if model.__doc__ else []
    shown = [t.model_dump(mode="json", exclude_defaults=True) for t in tables] or [example]
    for table in shown:
        lines.append(f"{'' if tables else '# '}[[{name}]]")
        for key, info in model.model_fields.items():
            lines.append(f"# {info.description}")
            if key in table:
                lines.append(("" if tables else "# ") + tomli_w.dumps({key: table[key]}).rstrip())
        lines.append("")
    return lines
